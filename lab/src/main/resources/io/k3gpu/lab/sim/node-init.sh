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

# planted faults (FAULTS in node.env, from the profile spec "orin-nano+swap+..."; see the lab README)
has_fault() { case " ${FAULTS:-} " in *" $1 "*|*" $1="*) return 0 ;; esac; return 1; }
fault_values() { for f in ${FAULTS:-}; do case "$f" in "$1="*) echo "${f#*=}" ;; esac; done; }

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

STEP=cgroups
# dockerd and K3s's containerd (runc) need the cgroup v1 hierarchies, which `ip netns exec` hid by remounting /sys
mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
    # a kernel booted with cgroup_disable=memory cannot mount that hierarchy
    if [ $c = memory ] && has_fault memory-cgroup-off; then continue; fi
    mkdir /sys/fs/cgroup/$c
    mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
done
mkdir /sys/fs/cgroup/systemd
mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd

STEP=k3s-bin
# what the K3s binary bundles and extracts to its data dir (containerd, its runc shim, runc; ctr is k3s itself):
# Debian's, bound from the host's /usr before a node without Docker loses them below; the lab's agent links
# /var/lib/rancher/k3s/data/current/bin/ to them
mkdir -p /usr/local/lib/k3gpu-lab/k3s-bin
for f in /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc /usr/bin/ctr; do
    if [ -x "$f" ]; then
        : > "/usr/local/lib/k3gpu-lab/k3s-bin/${f##*/}"
        mount --bind -o ro "$f" "/usr/local/lib/k3gpu-lab/k3s-bin/${f##*/}"
    fi
done

STEP=docker
# the host's docker.io is in /usr; only Docker profiles have it (an rm on the overlay leaves a whiteout)
if [ "${DOCKER:-0}" = 1 ]; then
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

STEP=faults
if [ -n "${FAULTS:-}" ]; then
    mkdir -p "$D/faults"
    for v in $(fault_values kernel-config); do
        # -VXLAN:-OVERLAY_FS: the running kernel's config as a kernel built without those options reads
        STEP="faults: kernel-config"
        zcat /proc/config.gz > "$D/faults/config"
        for o in $(echo "$v" | tr ':' ' '); do
            o=${o#-}
            sed -i "s/^CONFIG_$o=.*/# CONFIG_$o is not set/" "$D/faults/config"
        done
        gzip -c "$D/faults/config" > "$D/faults/config.gz"
        mount --bind "$D/faults/config.gz" /proc/config.gz
    done
    if has_fault memory-cgroup-off; then
        # what a kernel booted with cgroup_disable=memory shows: memory disabled in /proc/cgroups, on the command line
        STEP="faults: memory-cgroup-off"
        awk 'BEGIN { OFS = "\t" } $1 == "memory" { $4 = 0 } { print }' /proc/cgroups > "$D/faults/cgroups"
        mount --bind "$D/faults/cgroups" /proc/cgroups
        { tr -d '\n' </proc/cmdline; echo " cgroup_disable=memory"; } > "$D/faults/cmdline"
        mount --bind "$D/faults/cmdline" /proc/cmdline
        if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
            sed -E 's/(^| )memory( |$)/\1/' /sys/fs/cgroup/cgroup.controllers > "$D/faults/cgroup.controllers"
            mount --bind "$D/faults/cgroup.controllers" /sys/fs/cgroup/cgroup.controllers
        fi
    fi
    if has_fault stale-toolkit-runtime; then
        # what NVIDIA's GPU Operator leaves: its toolkit container's wrapper, which K3s finds before /usr/bin's
        mkdir -p /usr/local/nvidia/toolkit
        printf '#!/bin/sh\n# installed by the GPU Operator toolkit container\n%s\n' \
            'PATH=/usr/local/nvidia/toolkit:$PATH exec /usr/local/nvidia/toolkit/nvidia-container-runtime.real "$@"' \
            > /usr/local/nvidia/toolkit/nvidia-container-runtime
        chmod 0755 /usr/local/nvidia/toolkit/nvidia-container-runtime
    fi
    if has_fault no-toolkit; then
        rm -f /usr/bin/nvidia-container-runtime
    fi
    if has_fault no-csv; then
        rm -f /etc/nvidia-container-runtime/host-files-for-container.d/*.csv
    fi
    for v in $(fault_values hostname); do
        # a cloned SD card: another machine's name
        echo "$v" > /proc/sys/kernel/hostname
        echo "$v" > /etc/hostname
    done
    if has_fault swap; then
        # a 2 GiB swap file in use, as /proc/swaps lists it (free(1)'s /proc/meminfo is left as it is)
        printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t2097148\t\t0\t\t-2\n' \
            > "$D/faults/swaps"
        mount --bind "$D/faults/swaps" /proc/swaps
    fi
    if has_fault disk-full; then
        # /var/lib/rancher on its own small filesystem, nearly full
        STEP="faults: disk-full"
        mkdir -p /var/lib/rancher
        mount -t tmpfs -o size=64m,mode=0755 k3gpu-lab-disk-full /var/lib/rancher
        head -c 62M /dev/zero > /var/lib/rancher/.k3gpu-lab-filler
    fi
    for v in $(fault_values block); do
        # this node's own firewall refuses that port outbound (nftables in its network namespace)
        STEP="faults: block $v"
        nft list table inet k3gpu_lab_fault >/dev/null 2>&1 || {
            nft add table inet k3gpu_lab_fault
            nft add chain inet k3gpu_lab_fault output '{ type filter hook output priority 0; }'
        }
        nft add rule inet k3gpu_lab_fault output "${v#*/}" dport "${v%/*}" reject
    done
fi

STEP=services
( /usr/local/bin/systemctl k3gpu-lab-boot >>/var/log/k3gpu-lab/boot.log 2>&1 && echo ok >&8 || echo "failed: $?" >&8 ) 9>&- &

STEP=clock-skew
# libfaketime for every program the node's sessions start (shells, sudo, date, curl): /etc/ld.so.preload is honoured
# for setuid programs too, where LD_PRELOAD is not; /etc/faketimerc holds the offset. sshd itself must not load it
# (its seccomp-sandboxed pre-auth child is killed by a syscall libfaketime makes), so the files are written once
# sshd listens, and sshd runs with -r (no re-exec per connection): only what its sessions exec sees the skew.
SKEW=$(fault_values clock-skew | head -n 1)
SSHD_FLAGS=
if [ -n "$SKEW" ]; then
    FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
    if [ -z "$FAKETIME_LIB" ]; then
        STEP="clock-skew: libfaketime is not installed (scripts/lab-packages.sh)"
        exit 1
    fi
    SSHD_FLAGS=-r
    rm -f /etc/ld.so.preload # a reboot's sshd must start without it
fi

STEP=sshd
trap - EXIT
if [ -n "$SKEW" ]; then
    # boot is "ok" once the skew is in place
    ( while ! grep -q -E '^ *[0-9]+: [0-9A-F]+:0016 [0-9A-F]+:0000 0A' /proc/net/tcp; do sleep 0.02; done
      echo "$SKEW" > /etc/faketimerc
      echo "$FAKETIME_LIB" > /etc/ld.so.preload
      echo ok >&9 ) 8>&- &
else
    echo ok >&9
fi
exec /usr/sbin/sshd -D -e $SSHD_FLAGS -f /etc/k3gpu-lab/sshd_config 8>&- 9>&-
