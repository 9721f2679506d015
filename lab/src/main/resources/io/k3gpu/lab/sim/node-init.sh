# PID 1 of a k3gpu lab node until it becomes sshd: node-init.sh <nodeDir>.
# Runs inside the node's network namespace (ip netns exec) and its own UTS, mount and PID namespaces (unshare).
# Reports to <nodeDir>/boot.status ("ok" or "failed: <step>") and <nodeDir>/services.status (once the enabled
# simulated services were started).
set -eu
D=$1
. "$D/node.env"
exec 9>"$D/boot.status" 8>"$D/services.status"
STEP=start
trap 'echo "failed: $STEP" >&9' EXIT
if [ -n "${FAIL_AT:-}" ]; then
    STEP="$FAIL_AT (injected)"
    exit 1
fi

STEP=hostname
echo "$NAME" > /proc/sys/kernel/hostname

STEP=network
if [ -w /proc/sys/net/ipv6/conf/all/disable_ipv6 ]; then
    echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
    echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
fi
ip -batch - <<EOB
link set lo up
addr add $IP/$PREFIX dev eth0
link set eth0 up
EOB

STEP=overlays
# volatile: no syncs of the host filesystem (every unmount of a synced overlay syncs the whole upper filesystem,
# which made tearing 30 nodes down take seconds); the lab never reuses an upper directory after a crash.
# /usr: packages install there (the container toolkit's /usr/bin/nvidia-container-runtime); /usr/local is bound below
for layer in etc var opt usr; do
    opts="lowerdir=/$layer,upperdir=$D/upper/$layer,workdir=$D/work/$layer"
    mount -t overlay "k3gpu-lab-$NAME-$layer" -o "$opts,volatile" "/$layer" 2>/dev/null \
        || mount -t overlay "k3gpu-lab-$NAME-$layer" -o "$opts" "/$layer"
done

STEP=private-dirs
mount --bind "$D/root" /root
mount --bind "$D/home" /home
mount --bind "$D/usr-local" /usr/local
mount --bind -o ro "$SHARED" /usr/local/lib/k3gpu-lab/shared
if [ "$JETSON" = 1 ]; then
    mount --bind "$D/firmware" /sys/firmware
fi
mount -t tmpfs -o mode=1777,size=256m tmpfs /tmp

STEP=docker
# the host's docker.io is in /usr; only Docker profiles have it (an rm on the overlay leaves a whiteout)
if [ "${DOCKER:-0}" = 1 ]; then
    # dockerd needs the cgroup v1 hierarchies, which `ip netns exec` hid by remounting /sys
    mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
    for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
        mkdir /sys/fs/cgroup/$c
        mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
    done
    mkdir /sys/fs/cgroup/systemd
    mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    # the node's own /mnt (a daemon.json's data-root may point there)
    mkdir -p "$D/mnt"
    mount --bind "$D/mnt" /mnt
else
    rm -f /usr/bin/docker /usr/bin/docker-init /usr/sbin/dockerd /usr/sbin/docker-proxy /usr/bin/dnet \
        /usr/sbin/ovrouter /usr/sbin/runc /usr/bin/runc /usr/bin/containerd /usr/bin/containerd-shim \
        /usr/bin/containerd-shim-runc-v1 /usr/bin/containerd-shim-runc-v2 /usr/bin/ctr \
        /usr/lib/systemd/system/docker.service /usr/lib/systemd/system/docker.socket \
        /usr/lib/systemd/system/containerd.service
    rm -rf /etc/docker
fi

STEP=run
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
mkdir -p /run/sshd /run/lock /run/k3gpu-lab
chmod 0755 /run/sshd
chmod 1777 /run/lock

STEP=services
( /usr/local/bin/systemctl k3gpu-lab-boot >>/var/log/k3gpu-lab/boot.log 2>&1 && echo ok >&8 || echo "failed: $?" >&8 ) 9>&- &

STEP=sshd
echo ok >&9
trap - EXIT
exec /usr/sbin/sshd -D -e -f /etc/k3gpu-lab/sshd_config 8>&- 9>&-
