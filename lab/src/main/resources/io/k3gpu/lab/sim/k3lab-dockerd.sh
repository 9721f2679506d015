#!/bin/sh
# ExecStart of docker.service on a k3gpu lab node: Debian's real dockerd (docker.io 20.10, which starts its own
# containerd and uses runc), in the node's namespaces, with what a network namespace without iptables needs (measured:
# LAB-NOTES "Measured for the second wave"). dockerd reads /etc/docker/daemon.json itself (and refuses a bad one) and
# tells the lab's systemctl it is ready with sd_notify (NOTIFY_SOCKET), as under systemd (Type=notify).
# Before it, the lab's fault-injection knobs (/etc/k3gpu-lab/faults/):
#   dockerd-fail-starts N > 0     the next start fails (N decremented), as a daemon that cannot start
#   dockerd-start-delay-ms MS     the start takes MS milliseconds longer
#   dockerd-hang-starts N > 0     the next start wedges (N decremented): dockerd is stopped (SIGSTOP) once its socket
#                                 is up and reported ready, so every docker call then waits, as with a wedged daemon
FAULTS=${K3GPU_LAB_FSROOT:-}/etc/k3gpu-lab/faults
DOCKERD=${K3GPU_LAB_DOCKERD:-/usr/sbin/dockerd}
SOCK=${K3GPU_LAB_FSROOT:-}/run/docker.sock
set -- --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs "$@"
# dockerd starts the `containerd` it finds on its PATH: the lab's (k3lab-containerd), which calms its GC scheduler
PATH=/usr/local/lib/k3gpu-lab/shared/containerd-gc:$PATH
export PATH

count() {
    n=$(cat "$FAULTS/$1" 2>/dev/null) || n=0
    case "$n" in ''|*[!0-9]*) n=0 ;; esac
    echo "$n"
}
say() {
    printf 'time="%s" level=%s msg="%s"\n' "$(date -u '+%Y-%m-%dT%H:%M:%S.%NZ')" "$1" "$2" >&2
}

# systemd stops every process of a unit's cgroup (KillMode=control-group), so a start never meets the previous run's
# daemon. The lab's systemctl tracks one pid: a dockerd (or its containerd) left running by a stop or restart that
# was itself killed midway would make this one refuse its pid file or socket. End them first, as that stop would have.
leftovers() {
    pgrep -x dockerd; pgrep -f '^containerd --config /var/run/docker/containerd/containerd.toml'
}
if [ -z "${K3GPU_LAB_DOCKERD:-}" ] && [ -n "$(leftovers)" ]; then
    say warning "stopping a docker daemon left running by an interrupted stop: $(leftovers | tr '\n' ' ')"
    kill -CONT $(leftovers) 2>/dev/null
    kill -TERM $(leftovers) 2>/dev/null
    i=0
    while [ -n "$(leftovers)" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL $(leftovers) 2>/dev/null
fi

n=$(count dockerd-fail-starts)
if [ "$n" -gt 0 ]; then
    echo $((n - 1)) > "$FAULTS/dockerd-fail-starts"
    say error "failed to start daemon: injected fault (k3gpu lab: $FAULTS/dockerd-fail-starts said $n)"
    exit 1
fi
ms=$(count dockerd-start-delay-ms)
if [ "$ms" -gt 0 ]; then
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
fi
n=$(count dockerd-hang-starts)
if [ "$n" -le 0 ]; then
    exec "$DOCKERD" "$@"
fi
echo $((n - 1)) > "$FAULTS/dockerd-hang-starts"
# wedged: dockerd runs as a child, stopped as soon as its API socket exists; then READY=1 on its behalf
notify=${NOTIFY_SOCKET:-}
unset NOTIFY_SOCKET
rm -f "$SOCK"
"$DOCKERD" "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; kill -CONT $pid 2>/dev/null' TERM INT
while [ ! -S "$SOCK" ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.02
done
kill -STOP "$pid" 2>/dev/null
if [ -n "$notify" ]; then
    /usr/bin/python3 -S -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", sys.argv[1])' "$notify"
fi
while kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
done
