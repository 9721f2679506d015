#!/bin/bash
# `containerd` as dockerd starts it on a k3gpu lab node (k3lab-dockerd puts this first on dockerd's PATH): Debian's
# containerd with the config dockerd generated (/var/run/docker/containerd/containerd.toml, written afresh at every
# dockerd start), plus the GC scheduler's pause_threshold = 0 appended to it.
# Why: with containerd's default 0.02 its GC scheduler wakes every 49 average collection times to decide whether to
# collect; on a lab node a collection takes ~0.2 ms, so it woke every ~8 ms: 1-2 % of a core per containerd, a dozen
# of them in a lab test (containerd issue 5089). At 0 it decides once a second; deletions still trigger a collection.
# K3s's containerd keeps the default: its command line and config.toml stay exactly K3s's.
config=
prev=
for a in "$@"; do
    case "$prev" in --config | -c) config=$a ;; esac
    case "$a" in --config=*) config=${a#--config=} ;; esac
    prev=$a
done
if [ -n "$config" ] && [ -w "$config" ] && ! grep -qE '^\[plugins\.("io\.containerd\.gc\.v1\.)?scheduler"?\]' "$config"; then
    if grep -qE '^version *= *[23]' "$config"; then
        printf '\n[plugins."io.containerd.gc.v1.scheduler"]\n  pause_threshold = 0.0\n' >> "$config"
    else
        printf '\n[plugins.scheduler]\n  pause_threshold = 0.0\n' >> "$config"
    fi
fi
exec -a containerd "${K3GPU_LAB_CONTAINERD:-/usr/bin/containerd}" "$@"
