#!/bin/sh
# Starts k3gpu lab nodes, detached: launch.sh <libdir> <nodeDir> <netns> [<nodeDir> <netns>]...
# Each node: ip netns exec <netns> unshare (uts, mount, pid; --kill-child) running node-init.sh, in its own session,
# output appended to <nodeDir>/console.log; the pid of unshare is written to <nodeDir>/launcher.pid.
set -eu
lib=$1
shift
while [ $# -ge 2 ]; do
    dir=$1 ns=$2
    shift 2
    setsid -f /bin/sh -c 'echo $$ > "$1/launcher.pid"; exec ip netns exec "$2" unshare --uts --mount --propagation private --pid --fork --kill-child --mount-proc /bin/sh "$3/node-init.sh" "$1"' \
        k3gpu-lab-node "$dir" "$ns" "$lib" </dev/null >>"$dir/console.log" 2>&1
done
