# The simulated dockerd after its start-up (run by a copy of /bin/dash named dockerd, so that `pidof dockerd`,
# `pgrep dockerd` and `ps` show a dockerd): waits for SIGTERM/SIGINT, then logs like the real daemon, removes its
# state and exits 0. Costs one small shell and one sleep per node instead of a resident Python interpreter.
log() {
    if [ -n "${K3GPU_LAB_JOURNAL:-}" ]; then
        printf '%s %s dockerd[%s]: time="%s" level=info msg="%s"\n' "$(date '+%b %d %H:%M:%S')" \
            "$(cat /proc/sys/kernel/hostname)" "$$" "$(date -u '+%Y-%m-%dT%H:%M:%S.%NZ')" "$1" >&2
    else
        printf 'time="%s" level=info msg="%s"\n' "$(date -u '+%Y-%m-%dT%H:%M:%S.%NZ')" "$1" >&2
    fi
}
SLEEPER=
shutdown() {
    [ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null
    log "Processing signal '$1'"
    rm -f "${K3GPU_LAB_FSROOT:-}/run/k3gpu-lab/docker/state.json" "${K3GPU_LAB_FSROOT:-}/run/docker.pid" \
        "${K3GPU_LAB_FSROOT:-}/run/docker.sock"
    log "Daemon shutdown complete"
    exit 0
}
trap 'shutdown terminated' TERM
trap 'shutdown interrupt' INT
trap '' HUP
while :; do
    sleep 2147483647 &
    SLEEPER=$!
    wait "$SLEEPER"
done
