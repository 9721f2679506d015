#!/usr/bin/env bash
# Installs the Debian packages the lab needs (idempotent; as root). Used by .ci/run and by ./k3gpu before
# `demo` and `lab`, so both README commands work on a fresh Debian 12 machine.
#   sshd, sudo, iproute2, util-linux: the lab's nodes; python3(-numpy): the simulated tools, K3s agent and the
#   NumPy trainer; git: the git images of the lab's pods; curl: the nodes' K3s install script; fonts: PNG plots;
#   dataset-fashion-mnist: the training data of the lab's pods (/usr/share/datasets/fashion-mnist);
#   nftables: packet loss on lab nodes for the fault-injection suite (this kernel has no netem);
#   docker.io (dockerd 20.10, containerd, runc): the real Docker of the lab's Docker nodes; busybox-static: the
#   lab's locally built images.
#   libfaketime: the skewed clock of a lab node with the clock-skew fault (doctor).
#   python3-torch (1.13, CPU, gloo): the REAL PyTorch of the lab's PyTorch images (distributed training).
#   python3-yaml: the values files of the lab's klipper-helm image (K3s's helm-install Jobs).
#   chromium, chromium-driver: the dashboard's browser tests (DashboardIT) drive Debian's real Chromium headless.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in openssh-server openssh-client sudo iproute2 procps psmisc python3 python3-numpy util-linux git curl \
         fonts-dejavu-core fontconfig dataset-fashion-mnist nftables docker.io busybox-static libfaketime \
         zsh patch python3-torch python3-yaml chromium chromium-driver; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing the lab's packages: ${need[*]}" >&2
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi
