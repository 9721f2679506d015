#!/bin/sh
# k3s-service.sh <service> <unit file>: the main process of a K3s unit on a k3gpu lab node, started by the lab's
# systemctl (whose service definitions cannot run a unit file themselves). Does what systemd does with the unit that
# the K3s install script writes:
#   - loads the EnvironmentFile= files ("-" = optional; %N = the unit's name) and Environment= lines at every start,
#     so the token reaches k3s through its environment, never its command line;
#   - runs ExecStart= (continuation lines joined, quotes as the install script writes them) with systemd's PATH;
#   - Type=notify: the service is ready once k3s logs "k3s is up and running" (K3s sends READY=1 then); the lab's
#     systemctl waits for the ready file this script then creates (<run dir>/ready). A process that exits before it
#     was ever ready fails the start, as `systemctl start` reports it;
#   - Restart=always|on-failure with RestartSec=: restarts the process, logging systemd's lines;
#   - SIGTERM (systemctl stop): passes it on to k3s and exits once k3s has.
# Output goes where the lab's systemctl sends it: /var/log/k3gpu-lab/<service>.log (journalctl -u <service>).
name=$1
unit=$2
run_dir=/run/k3gpu-lab/services/$name
log_file=/var/log/k3gpu-lab/$name.log

say() {
    printf '%s %s systemd[1]: %s\n' "$(date '+%b %d %H:%M:%S')" "$(cat /proc/sys/kernel/hostname)" "$*"
}

# One pass over the unit, in the shell (no sed/awk per key: K3s's services start on every install): the last
# Description=, Type=, Restart=, RestartSec= (its digits), every EnvironmentFile= and Environment= line, and the first
# ExecStart= with its continuation lines joined.
read_unit() {
    description= type= restart= restart_sec= command= env_files= environment= exec_state=
    while IFS= read -r line || [ -n "$line" ]; do
        if [ "$exec_state" = more ] || { [ -z "$exec_state" ] && [ "${line#ExecStart=}" != "$line" ]; }; then
            line=${line#ExecStart=}
            exec_state=done
            # a trailing backslash (and blanks after it) continues the command on the next line
            trimmed=${line%"${line##*[! 	]}"}
            case "$trimmed" in *\\) line=${trimmed%?}; exec_state=more ;; esac
            command="$command$line "
            continue
        fi
        case "$line" in
            Description=*) description=${line#*=} ;;
            Type=*) type=${line#*=} ;;
            Restart=*) restart=${line#*=} ;;
            RestartSec=*) restart_sec=${line#*=} ;;
            EnvironmentFile=*) env_files="$env_files ${line#*=}" ;;
            Environment=*) environment="$environment ${line#*=}" ;;
        esac
    done < "$unit"
    digits=
    while [ -n "$restart_sec" ]; do
        case "$restart_sec" in [0-9]*) digits=$digits${restart_sec%"${restart_sec#?}"} ;; esac
        restart_sec=${restart_sec#?}
    done
    restart_sec=${digits:-0}
}

# one start of the main process: a subshell that loads the environment and execs ExecStart=
launch() {
    (
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        export PATH
        unset K3GPU_LAB_JOURNAL
        for spec in $env_files; do
            optional=
            case "$spec" in -*) optional=1; spec=${spec#-} ;; esac
            file=
            while :; do
                case "$spec" in
                    *%N*) file=$file${spec%%%N*}$name; spec=${spec#*%N} ;;
                    *) file=$file$spec; break ;;
                esac
            done
            if [ ! -r "$file" ]; then
                [ -n "$optional" ] && continue
                say "$name.service: Failed to load environment files: No such file or directory"
                exit 1
            fi
            while IFS= read -r line || [ -n "$line" ]; do
                case "$line" in
                    [A-Za-z_]*=*) eval "export $line" ;;
                esac
            done < "$file"
        done
        for assignment in $environment; do
            eval "export $assignment"
        done
        eval "exec $command"
    ) &
    child=$!
}

# waits for the main process; a trapped signal interrupts `wait`, so wait again while it lives
await() {
    while :; do
        wait "$child"
        rc=$?
        kill -0 "$child" 2>/dev/null || break
    done
    child=
}

stop_requested=
child=
on_term() {
    stop_requested=1
    [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap on_term TERM INT HUP

if [ ! -r "$unit" ]; then
    say "$name.service: Unit file $unit not found."
    exit 1
fi
read_unit
set -f
[ -d "$run_dir" ] || mkdir -p "$run_dir"
ready_file=$run_dir/ready
ever_ready=
restarts=0

while :; do
    if [ "$type" = notify ]; then
        offset=$(wc -c < "$log_file" 2>/dev/null || echo 0)
    fi
    launch
    if [ "$type" = notify ]; then
        # ready once k3s says so (after its own log lines of this start)
        while [ -z "$stop_requested" ] && kill -0 "$child" 2>/dev/null; do
            if tail -c +$((offset + 1)) "$log_file" 2>/dev/null | grep -q -F 'k3s is up and running'; then
                : > "$ready_file"
                ever_ready=1
                [ "$restarts" -eq 0 ] || say "Started $description."
                break
            fi
            sleep 0.1
        done
    else
        ever_ready=1
    fi
    await
    if [ -n "$stop_requested" ]; then
        exit 0
    fi
    if [ "$rc" -eq 0 ]; then
        say "$name.service: Deactivated successfully."
    elif [ "$rc" -gt 128 ]; then
        say "$name.service: Main process exited, code=killed, status=$((rc - 128))/$(kill -l $((rc - 128)) 2>/dev/null)"
        say "$name.service: Failed with result 'signal'."
    else
        say "$name.service: Main process exited, code=exited, status=$rc/FAILURE"
        say "$name.service: Failed with result 'exit-code'."
    fi
    if [ -z "$ever_ready" ]; then
        # the lab's systemctl reports the failed start; systemd would retry later, the lab leaves it failed
        exit "$rc"
    fi
    case "$restart" in
        always) ;;
        on-failure) [ "$rc" -ne 0 ] || exit 0 ;;
        *) exit "$rc" ;;
    esac
    sleep "$restart_sec" &
    child=$!
    await
    [ -n "$stop_requested" ] && exit 0
    restarts=$((restarts + 1))
    say "$name.service: Scheduled restart job, restart counter is at $restarts."
    say "Stopped $description."
    say "Starting $description..."
    [ "$type" = notify ] || say "Started $description."
done
