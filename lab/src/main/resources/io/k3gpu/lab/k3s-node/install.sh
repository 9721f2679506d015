#!/bin/sh
# K3s install script of the k3gpu lab: the contract of https://get.k3s.io, written for the lab's simulated K3s.
#
# Usage, as with the real script:
#   curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC='server' sh -
#   curl -sfL https://get.k3s.io | K3S_URL=https://<server>:6443 K3S_TOKEN=<token> sh -
#   curl -sfL https://get.k3s.io | sh -s - agent --docker --server https://<server>:6443
#   (on a lab node get.k3s.io, update.k3s.io, github.com and release-assets.githubusercontent.com resolve to the lab's
#   install mirror, which serves them over HTTPS with the lab's CA; the same script is http://@MIRROR@/install.sh)
#   INSTALL_K3S_SKIP_DOWNLOAD=true ./install.sh     (air-gap: the k3s binary copied to /usr/local/bin first)
#
# Environment variables (those of get.k3s.io that the lab implements):
#   K3S_*, CONTAINERD_*, NO_PROXY/HTTP_PROXY/HTTPS_PROXY
#       kept for the service in /etc/systemd/system/<service>.service.env (mode 0600), so that the token never
#       appears on a command line or in the unit.
#   K3S_URL         with no command given, the command defaults to "agent" (then K3S_TOKEN or K3S_TOKEN_FILE
#                   must be set); must be https://
#   INSTALL_K3S_EXEC
#                   command and flags, e.g. "agent --docker"; placed in front of the script's own arguments
#   INSTALL_K3S_VERSION         the release to install (e.g. v1.31.4+k3s1); else the channel's latest
#   INSTALL_K3S_CHANNEL         default stable
#   INSTALL_K3S_CHANNEL_URL     default https://update.k3s.io/v1-release/channels
#   INSTALL_K3S_SKIP_DOWNLOAD   true (or binary): install the k3s found in the bin dir
#   INSTALL_K3S_SKIP_ENABLE     true: neither enable nor start the service
#   INSTALL_K3S_SKIP_START      true: do not start the service
#   INSTALL_K3S_FORCE_RESTART   true: restart even when nothing changed
#   INSTALL_K3S_BIN_DIR         default /usr/local/bin
#   INSTALL_K3S_BIN_DIR_READ_ONLY  true: write no binary, no symlinks
#   INSTALL_K3S_SYMLINK         skip or force (kubectl, crictl, ctr)
#   INSTALL_K3S_SYSTEMD_DIR     default /etc/systemd/system
#   INSTALL_K3S_NAME            service k3s-<name> (default k3s for servers, k3s-agent for agents)
#   INSTALL_K3S_TYPE            systemd Type= (default notify for servers, exec for agents)
#   GITHUB_URL      releases are downloaded from <GITHUB_URL>/download/<version>/k3s[-arm64] and verified against
#                   <GITHUB_URL>/download/<version>/sha256sum-<arch>.txt; default
#                   https://github.com/k3s-io/k3s/releases, as get.k3s.io's. The plain HTTP mirror serves the same
#                   files: GITHUB_URL=http://@MIRROR@/k3s-io/k3s/releases and
#                   INSTALL_K3S_CHANNEL_URL=http://@MIRROR@/v1-release/channels.
#   Not implemented: INSTALL_K3S_COMMIT, INSTALL_K3S_PR, INSTALL_K3S_SELINUX_WARN and SELinux RPMs, OpenRC.
#
# Lab nodes run no systemd: their systemctl is the lab's. Besides the real unit file, the script writes a lab service
# definition (/etc/k3gpu-lab/services/<service>.service-sh) whose main process is k3s-service.sh: it runs the unit's
# ExecStart= with its EnvironmentFile= files loaded and restarts it as Restart=always / RestartSec= say.
set -e
set -o noglob

GITHUB_URL=${GITHUB_URL:-https://github.com/k3s-io/k3s/releases}
LAB_SHARED=/usr/local/lib/k3gpu-lab/shared/k3s
LAB_SERVICES=/etc/k3gpu-lab/services

info() {
    echo '[INFO] ' "$@"
}

warn() {
    echo '[WARN] ' "$@" >&2
}

fatal() {
    echo '[ERROR] ' "$@" >&2
    exit 1
}

# ---- quoting: arguments end up in the unit's ExecStart=, one per line, single-quoted
quote() {
    for arg in "$@"; do
        printf '%s\n' "$arg" | sed "s/'/'\\\\''/g;1s/^/'/;\$s/\$/'/"
    done
}

quote_indent() {
    printf ' \\\n'
    for arg in "$@"; do
        printf '\t%s \\\n' "$(quote "$arg")"
    done
}

# INSTALL_K3S_EXEC is split like a shell would split it (quotes honoured), without expanding anything
escape() {
    printf '%s' "$@" | sed -e 's/\([][!#$%&()*;<=>?\_`{|}]\)/\\\1/g;'
}

escape_dq() {
    printf '%s' "$@" | sed -e 's/"/\\"/g'
}

# ---- the process supervisor
verify_system() {
    if [ -x /sbin/openrc-run ]; then
        fatal 'OpenRC is not supported by the k3gpu lab install script'
    fi
    if [ -x /bin/systemctl ] || type systemctl >/dev/null 2>&1; then
        HAS_SYSTEMD=true
        return
    fi
    fatal 'Can not find systemd or openrc to use as a process supervisor for k3s'
}

# ---- everything the environment and arguments decide
setup_env() {
    case "$1" in
        -* | "")
            if [ -z "${K3S_URL}" ]; then
                CMD_K3S=server
            else
                if [ -z "${K3S_TOKEN}" ] && [ -z "${K3S_TOKEN_FILE}" ]; then
                    fatal "Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined."
                fi
                CMD_K3S=agent
            fi
            ;;
        *)
            CMD_K3S=$1
            shift
            ;;
    esac
    case "${K3S_URL}" in
        "" | https://*) ;;
        *) fatal "Only https:// URLs are supported for K3S_URL (have ${K3S_URL})" ;;
    esac
    CMD_K3S_EXEC="${CMD_K3S}$(quote_indent "$@")"

    if [ -n "${INSTALL_K3S_NAME}" ]; then
        SYSTEM_NAME=k3s-${INSTALL_K3S_NAME}
    elif [ "${CMD_K3S}" = server ]; then
        SYSTEM_NAME=k3s
    else
        SYSTEM_NAME=k3s-${CMD_K3S}
    fi
    valid=$(printf '%s' "${SYSTEM_NAME}" | sed -e 's/[][!#$%&()*;<=>?\_`{|}/[:space:]]/^/g;')
    if [ "${SYSTEM_NAME}" != "${valid}" ]; then
        fatal "Invalid characters for system name: ${SYSTEM_NAME}"
    fi

    SUDO=sudo
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=
    fi

    if [ -n "${INSTALL_K3S_TYPE}" ]; then
        SYSTEMD_TYPE=${INSTALL_K3S_TYPE}
    elif [ "${CMD_K3S}" = server ]; then
        SYSTEMD_TYPE=notify
    else
        SYSTEMD_TYPE=exec
    fi

    BIN_DIR=${INSTALL_K3S_BIN_DIR:-/usr/local/bin}
    if ! $SUDO sh -c "touch ${BIN_DIR}/k3s-ro-test && rm -rf ${BIN_DIR}/k3s-ro-test" 2>/dev/null; then
        if [ -d /opt/bin ]; then
            BIN_DIR=/opt/bin
        fi
    fi
    SYSTEMD_DIR=${INSTALL_K3S_SYSTEMD_DIR:-/etc/systemd/system}
    UNINSTALL_K3S_SH=${UNINSTALL_K3S_SH:-${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh}
    KILLALL_K3S_SH=${KILLALL_K3S_SH:-${BIN_DIR}/k3s-killall.sh}
    SERVICE_K3S=${SYSTEM_NAME}.service
    FILE_K3S_SERVICE=${SYSTEMD_DIR}/${SERVICE_K3S}
    FILE_K3S_ENV=${SYSTEMD_DIR}/${SERVICE_K3S}.env
    INSTALL_K3S_CHANNEL_URL=${INSTALL_K3S_CHANNEL_URL:-https://update.k3s.io/v1-release/channels}
    INSTALL_K3S_CHANNEL=${INSTALL_K3S_CHANNEL:-stable}

    PRE_INSTALL_HASHES=$(get_installed_hashes)
}

get_installed_hashes() {
    $SUDO sha256sum "${BIN_DIR}/k3s" "${FILE_K3S_SERVICE}" "${FILE_K3S_ENV}" 2>&1 || true
}

# ---- the binary
can_skip_download_binary() {
    [ "${INSTALL_K3S_SKIP_DOWNLOAD}" = true ] || [ "${INSTALL_K3S_SKIP_DOWNLOAD}" = binary ]
}

verify_k3s_is_executable() {
    if [ ! -x "${BIN_DIR}/k3s" ]; then
        fatal "Executable k3s binary not found at ${BIN_DIR}/k3s"
    fi
}

setup_verify_arch() {
    if [ -z "${ARCH}" ]; then
        ARCH=$(uname -m)
    fi
    case ${ARCH} in
        amd64 | x86_64)
            ARCH=amd64
            SUFFIX=
            ;;
        arm64 | aarch64)
            ARCH=arm64
            SUFFIX=-${ARCH}
            ;;
        *)
            fatal "Unsupported architecture ${ARCH}"
            ;;
    esac
}

verify_downloader() {
    [ -x "$(command -v "$1")" ] || return 1
    DOWNLOADER=$1
    return 0
}

setup_tmp() {
    TMP_DIR=$(mktemp -d -t k3s-install.XXXXXXXXXX)
    TMP_HASH=${TMP_DIR}/k3s.hash
    TMP_BIN=${TMP_DIR}/k3s.bin
    cleanup() {
        code=$?
        set +e
        trap - EXIT
        rm -rf "${TMP_DIR}"
        exit $code
    }
    trap cleanup INT EXIT
}

get_release_version() {
    if [ -n "${INSTALL_K3S_VERSION}" ]; then
        VERSION_K3S=${INSTALL_K3S_VERSION}
    else
        info "Finding release for channel ${INSTALL_K3S_CHANNEL}"
        version_url="${INSTALL_K3S_CHANNEL_URL}/${INSTALL_K3S_CHANNEL}"
        case ${DOWNLOADER} in
            curl)
                VERSION_K3S=$(curl -w '%{url_effective}' -L -s -S "${version_url}" -o /dev/null | sed -e 's|.*/||')
                ;;
            wget)
                VERSION_K3S=$(wget -SqO /dev/null "${version_url}" 2>&1 | grep -i Location | sed -e 's|.*/||')
                ;;
            *)
                fatal "Incorrect downloader executable '${DOWNLOADER}'"
                ;;
        esac
    fi
    info "Using ${VERSION_K3S} as release"
}

download() {
    [ $# -eq 2 ] || fatal 'download needs exactly 2 arguments'
    set +e
    case ${DOWNLOADER} in
        curl) curl -o "$1" -sfL "$2" ;;
        wget) wget -qO "$1" "$2" ;;
        *) fatal "Incorrect executable '${DOWNLOADER}'" ;;
    esac
    [ $? -eq 0 ] || fatal 'Download failed'
    set -e
}

download_hash() {
    HASH_URL=${GITHUB_URL}/download/${VERSION_K3S}/sha256sum-${ARCH}.txt
    info "Downloading hash ${HASH_URL}"
    download "${TMP_HASH}" "${HASH_URL}"
    HASH_EXPECTED=$(grep " k3s${SUFFIX}$" "${TMP_HASH}" || true)
    HASH_EXPECTED=${HASH_EXPECTED%%[[:blank:]]*}
}

installed_hash_matches() {
    if [ -x "${BIN_DIR}/k3s" ]; then
        HASH_INSTALLED=$(sha256sum "${BIN_DIR}/k3s")
        HASH_INSTALLED=${HASH_INSTALLED%%[[:blank:]]*}
        if [ "${HASH_EXPECTED}" = "${HASH_INSTALLED}" ]; then
            return
        fi
    fi
    return 1
}

download_binary() {
    BIN_URL=${GITHUB_URL}/download/${VERSION_K3S}/k3s${SUFFIX}
    info "Downloading binary ${BIN_URL}"
    download "${TMP_BIN}" "${BIN_URL}"
}

verify_binary() {
    info "Verifying binary download"
    HASH_BIN=$(sha256sum "${TMP_BIN}")
    HASH_BIN=${HASH_BIN%%[[:blank:]]*}
    if [ "${HASH_EXPECTED}" != "${HASH_BIN}" ]; then
        fatal "Download sha256 does not match ${HASH_EXPECTED}, got ${HASH_BIN}"
    fi
}

setup_binary() {
    chmod 755 "${TMP_BIN}"
    info "Installing k3s to ${BIN_DIR}/k3s"
    $SUDO chown root:root "${TMP_BIN}"
    $SUDO mv -f "${TMP_BIN}" "${BIN_DIR}/k3s"
}

download_and_verify() {
    if can_skip_download_binary; then
        info 'Skipping k3s download and verify'
        verify_k3s_is_executable
        return
    fi
    setup_verify_arch
    verify_downloader curl || verify_downloader wget || fatal 'Can not find curl or wget for downloading files'
    setup_tmp
    get_release_version
    download_hash
    if installed_hash_matches; then
        info 'Skipping binary downloaded, installed k3s matches hash'
        return
    fi
    download_binary
    verify_binary
    setup_binary
}

# ---- kubectl, crictl, ctr
create_symlinks() {
    [ "${INSTALL_K3S_BIN_DIR_READ_ONLY}" = true ] && return
    [ "${INSTALL_K3S_SYMLINK}" = skip ] && return
    for cmd in kubectl crictl ctr; do
        if [ ! -e "${BIN_DIR}/${cmd}" ] || [ "${INSTALL_K3S_SYMLINK}" = force ]; then
            which_cmd=$(command -v ${cmd} 2>/dev/null || true)
            if [ -z "${which_cmd}" ] || [ "${INSTALL_K3S_SYMLINK}" = force ]; then
                info "Creating ${BIN_DIR}/${cmd} symlink to k3s"
                $SUDO ln -sf k3s "${BIN_DIR}/${cmd}"
            else
                info "Skipping ${BIN_DIR}/${cmd} symlink to k3s, command exists in PATH at ${which_cmd}"
            fi
        else
            info "Skipping ${BIN_DIR}/${cmd} symlink to k3s, already exists"
        fi
    done
}

# ---- k3s-killall.sh: stops every K3s service and whatever the simulated K3s left running
create_killall() {
    [ "${INSTALL_K3S_BIN_DIR_READ_ONLY}" = true ] && return
    info "Creating killall script ${KILLALL_K3S_SH}"
    $SUDO tee "${KILLALL_K3S_SH}" >/dev/null <<\EOF
#!/bin/sh
[ $(id -u) -eq 0 ] || exec sudo --preserve-env=K3S_DATA_DIR $0 "$@"

K3S_DATA_DIR=${K3S_DATA_DIR:-/var/lib/rancher/k3s}

set -x

for service in /etc/systemd/system/k3s*.service; do
    [ -s "$service" ] && systemctl stop "$(basename "$service")"
done

# A process and its descendants (pods of the simulated agent run as its children).
killtree() {
    for pid in "$@"; do
        [ -n "$pid" ] || continue
        kids=$(cat /proc/$pid/task/*/children 2>/dev/null)
        kill -9 "$pid" 2>/dev/null
        [ -n "$kids" ] && killtree $kids
    done
}

# what the stopped services left behind: the simulated server (a JVM), the simulated agent (python3), and the
# processes recorded under /run/k3s/lab-pids/
set +x
for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$pid" = "$$" ] && continue
    cmd=$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null) || continue
    case "$cmd" in
        *io.k3gpu.lab.k3s.K3sServerMain*|*/k3s/k3s-agent.py*|*/k3s/k3s-service.sh*) killtree "$pid" ;;
    esac
done
for f in /run/k3s/lab-pids/*; do
    [ -f "$f" ] && killtree $(cat "$f")
done
set -x

# the embedded containerd's shims (its tasks survive containerd), as K3s's getshims
getshims() {
    ps -e -o pid= -o args= | sed -e 's/^ *//; s/\s\s*/\t/;' | grep -E 'k3s/data/[^/]*/bin/containerd-shim|k3gpu-lab/k3s-bin/containerd-shim' | cut -f1
}
killtree $({ set +x; } 2>/dev/null; getshims; set -x)

do_unmount_and_remove() {
    set +x
    while read -r _ path _; do
        case "$path" in $1*) echo "$path" ;; esac
    done < /proc/self/mounts | sort -r | xargs -r -t -n 1 sh -c 'umount -f "$0" && rm -rf "$0"'
    set -x
}
do_unmount_and_remove '/run/k3s'

rm -rf /var/lib/cni/
rm -rf /run/k3s
rm -rf /run/flannel
EOF
    $SUDO chmod 755 "${KILLALL_K3S_SH}"
    $SUDO chown root:root "${KILLALL_K3S_SH}"
}

# ---- <service>-uninstall.sh
create_uninstall() {
    [ "${INSTALL_K3S_BIN_DIR_READ_ONLY}" = true ] && return
    info "Creating uninstall script ${UNINSTALL_K3S_SH}"
    $SUDO tee "${UNINSTALL_K3S_SH}" >/dev/null <<EOF
#!/bin/sh
set -x
[ \$(id -u) -eq 0 ] || exec sudo --preserve-env=K3S_DATA_DIR \$0 "\$@"

K3S_DATA_DIR=\${K3S_DATA_DIR:-/var/lib/rancher/k3s}

${KILLALL_K3S_SH}

if command -v systemctl; then
    systemctl disable ${SYSTEM_NAME}
    systemctl daemon-reload
fi

rm -f ${FILE_K3S_SERVICE}
rm -f ${FILE_K3S_ENV}
# the lab's service definition and run state
rm -f ${LAB_SERVICES}/${SYSTEM_NAME}.service-sh ${LAB_SERVICES}/enabled/${SYSTEM_NAME}
rm -rf /run/k3gpu-lab/services/${SYSTEM_NAME}

remove_uninstall() {
    rm -f ${UNINSTALL_K3S_SH}
}
trap remove_uninstall EXIT

if (ls ${SYSTEMD_DIR}/k3s*.service || ls /etc/init.d/k3s*) >/dev/null 2>&1; then
    set +x; echo 'Additional k3s services installed, skipping uninstall of k3s'; set -x
    exit
fi

for cmd in kubectl crictl ctr; do
    if [ -L ${BIN_DIR}/\$cmd ]; then
        rm -f ${BIN_DIR}/\$cmd
    fi
done

rm -rf /etc/rancher/k3s
rm -rf /run/k3s
rm -rf /run/flannel
rm -rf \${K3S_DATA_DIR}
rm -rf /var/lib/kubelet
rm -f ${BIN_DIR}/k3s
rm -f ${KILLALL_K3S_SH}
EOF
    $SUDO chmod 755 "${UNINSTALL_K3S_SH}"
    $SUDO chown root:root "${UNINSTALL_K3S_SH}"
}

# ---- systemd
systemd_disable() {
    $SUDO systemctl disable ${SYSTEM_NAME} >/dev/null 2>&1 || true
    $SUDO rm -f "/etc/systemd/system/${SERVICE_K3S}" || true
    $SUDO rm -f "/etc/systemd/system/${SERVICE_K3S}.env" || true
}

create_env_file() {
    info "env: Creating environment file ${FILE_K3S_ENV}"
    $SUDO mkdir -p "${SYSTEMD_DIR}"
    $SUDO touch "${FILE_K3S_ENV}"
    $SUDO chmod 0600 "${FILE_K3S_ENV}"
    # `export -p` quotes every value so that the file reads back exactly (systemd's EnvironmentFile= syntax)
    sh -c 'export -p' | sed -e 's/^export //' | grep -E '^(K3S|CONTAINERD)_' | $SUDO tee "${FILE_K3S_ENV}" >/dev/null
    sh -c 'export -p' | sed -e 's/^export //' | grep -Ei '^(NO|HTTP|HTTPS)_PROXY' | $SUDO tee -a "${FILE_K3S_ENV}" >/dev/null
}

create_systemd_service_file() {
    info "systemd: Creating service file ${FILE_K3S_SERVICE}"
    $SUDO tee "${FILE_K3S_SERVICE}" >/dev/null <<EOF
[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=${SYSTEMD_TYPE}
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-${FILE_K3S_ENV}
KillMode=process
Delegate=yes
User=root
# Having non-zero Limit*s causes performance problems due to accounting overhead
# in the kernel. We recommend using cgroups to do container-local accounting.
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=/bin/sh -xc '! /usr/bin/systemctl is-enabled --quiet nm-cloud-setup.service 2>/dev/null'
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${BIN_DIR}/k3s \\
    ${CMD_K3S_EXEC}

EOF
}

# The lab's systemctl runs services from definitions, not unit files: this one runs the unit just written.
create_lab_service() {
    [ -d "${LAB_SERVICES}" ] || return 0
    ready=
    if [ "${SYSTEMD_TYPE}" = notify ]; then
        ready="READY_FILE=\"/run/k3gpu-lab/services/${SYSTEM_NAME}/ready\""
    fi
    $SUDO tee "${LAB_SERVICES}/${SYSTEM_NAME}.service-sh" >/dev/null <<EOF
# ${SERVICE_K3S} on a k3gpu lab node, written by the K3s install script: runs ${FILE_K3S_SERVICE}
DESCRIPTION="Lightweight Kubernetes"
EXEC_START="/bin/sh ${LAB_SHARED}/k3s-service.sh ${SYSTEM_NAME} ${FILE_K3S_SERVICE}"
${ready}
START_TIMEOUT=300
STOP_TIMEOUT=30
UNIT_FILE="${FILE_K3S_SERVICE}"
EOF
}

create_service_file() {
    create_systemd_service_file
    create_lab_service
}

systemd_enable() {
    info "systemd: Enabling ${SYSTEM_NAME} unit"
    $SUDO systemctl enable ${SYSTEM_NAME} >/dev/null
    $SUDO systemctl daemon-reload >/dev/null
}

systemd_start() {
    info "systemd: Starting ${SYSTEM_NAME}"
    $SUDO systemctl restart ${SYSTEM_NAME}
}

service_enable_and_start() {
    [ "${INSTALL_K3S_SKIP_ENABLE}" = true ] && return
    systemd_enable
    [ "${INSTALL_K3S_SKIP_START}" = true ] && return
    POST_INSTALL_HASHES=$(get_installed_hashes)
    if [ "${PRE_INSTALL_HASHES}" = "${POST_INSTALL_HASHES}" ] && [ "${INSTALL_K3S_FORCE_RESTART}" != true ]; then
        info 'No change detected so skipping service start'
        return
    fi
    systemd_start
    return 0
}

# ---- the flags of INSTALL_K3S_EXEC go in front of the script's arguments
eval set -- $(escape "${INSTALL_K3S_EXEC}") $(quote "$@")

{
    verify_system
    setup_env "$@"
    download_and_verify
    create_symlinks
    create_killall
    create_uninstall
    systemd_disable
    create_env_file
    create_service_file
    service_enable_and_start
}
