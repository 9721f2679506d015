package io.k3gpu.core.facts;

/**
 * The read-only probe script that gathers a node's facts in one round trip. It runs as root through {@code sh -s}
 * (the script on stdin) on Debian, Ubuntu and Jetson Linux userlands, needs only coreutils and grep, and never
 * fails as a whole: every probe is guarded and its errors are discarded, so a missing tool just leaves its section
 * empty.
 *
 * <p>Output format: each section starts with a marker line {@code @@k3gpu:<name>} and holds the probe's raw output
 * up to the next marker. Every marker is preceded by a newline so output without a final newline cannot swallow
 * it; {@link FactsParser} trims the trailing blank lines that this adds. The last marker is
 * {@code @@k3gpu:end}, so output cut short can be told from output that is just empty. Sections are kept small:
 * files are read up to a few KiB, and from the K3s config only the {@code default-runtime} lines are sent (it can
 * hold the cluster token), followed by the same setting as K3s's flag in its unit's ExecStart= and as
 * {@code default_runtime_name} of a containerd template, written as {@code default-runtime: X} lines: the parser takes
 * the last, which is K3s's precedence (the flag over the file, a template over both). The script runs once per node
 * and apply, so it spends few processes: one {@code docker info} for both Docker sections; the container toolkit's
 * version is asked of dpkg (then of its tools) only where an NVIDIA runtime or {@code nvidia-ctk} was found; systemd
 * is asked about K3s's units only where K3s is installed (the parser reads a role only then); dpkg, which reads its whole database even to say a package is missing, only on aarch64, the only
 * architecture of Jetson Linux's nvidia-l4t-core.
 */
public final class FactsScript {
    /** What each marker line starts with; the section name follows it. */
    public static final String MARKER = "@@k3gpu:";

    public static final String HOSTNAME = "hostname";
    public static final String ARCH = "arch";
    public static final String KERNEL = "kernel";
    public static final String OS_RELEASE = "os-release";
    public static final String NV_TEGRA_RELEASE = "nv-tegra-release";
    public static final String L4T_CORE_VERSION = "l4t-core-version";
    public static final String DT_MODEL = "dt-model";
    public static final String DT_COMPATIBLE = "dt-compatible";
    public static final String SOC_FAMILY = "soc-family";
    public static final String CUDA_VERSION_TXT = "cuda-version-txt";
    public static final String CUDA_VERSION_JSON = "cuda-version-json";
    public static final String NVCC = "nvcc";
    public static final String NVIDIA_SMI = "nvidia-smi";
    public static final String DOCKER = "docker";
    public static final String DOCKER_DEFAULT_RUNTIME = "docker-default-runtime";
    public static final String DOCKER_INFO_RC = "docker-info-rc";
    public static final String DOCKER_RUNTIMES = "docker-runtimes";
    public static final String NVIDIA_CONTAINER_RUNTIME = "nvidia-container-runtime";
    public static final String NVIDIA_CONTAINER_TOOLKIT_DPKG = "nvidia-container-toolkit-dpkg";
    public static final String NVIDIA_CONTAINER_TOOLKIT_CLI = "nvidia-container-toolkit-cli";
    public static final String NVIDIA_TOOLKIT_DIR_RUNTIME = "nvidia-toolkit-dir-runtime";
    public static final String CONTAINERD = "containerd";
    public static final String K3S = "k3s";
    public static final String K3S_VERSION = "k3s-version";
    public static final String K3S_UNITS = "k3s-units";
    public static final String K3S_ENABLED = "k3s-enabled";
    public static final String K3S_DIRS = "k3s-dirs";
    public static final String K3S_CONFIG_DEFAULT_RUNTIME = "k3s-config-default-runtime";
    public static final String END = "end";

    /** Besides PATH, nvidia-container-runtime is looked for in the toolkit dir K3s also searches. */
    private static final String TEXT = """
            # k3gpu facts: read-only probes. Each section starts with a line "@@k3gpu:<name>".
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
            LC_ALL=C
            export PATH LC_ALL
            k3gpu_nl='
            '
            k3gpu_section() { printf '\\n@@k3gpu:%s\\n' "$1"; }
            k3gpu_has() { command -v "$1" >/dev/null 2>&1; }
            k3gpu_limit() { if k3gpu_has timeout; then timeout 20 "$@"; else "$@"; fi; }
            k3gpu_file() { [ -f "$1" ] && [ -r "$1" ] && head -c "$2" "$1" 2>/dev/null; }
            k3gpu_dt() {
              for k3gpu_f in "/proc/device-tree/$1" "/sys/firmware/devicetree/base/$1"; do
                if [ -r "$k3gpu_f" ]; then tr '\\0' '\\n' <"$k3gpu_f" 2>/dev/null | head -c 2048; return 0; fi
              done
              return 0
            }
            k3gpu_section hostname
            hostname 2>/dev/null || cat /proc/sys/kernel/hostname 2>/dev/null || uname -n 2>/dev/null
            k3gpu_section arch
            k3gpu_arch=$(uname -m 2>/dev/null)
            [ -n "$k3gpu_arch" ] && echo "$k3gpu_arch"
            k3gpu_section kernel
            uname -r 2>/dev/null
            k3gpu_section os-release
            k3gpu_file /etc/os-release 4096 || k3gpu_file /usr/lib/os-release 4096
            k3gpu_section nv-tegra-release
            k3gpu_file /etc/nv_tegra_release 2048
            k3gpu_section l4t-core-version
            [ "$k3gpu_arch" = aarch64 ] && k3gpu_has dpkg-query && dpkg-query --showformat='${Version}' --show nvidia-l4t-core 2>/dev/null
            k3gpu_section dt-model
            k3gpu_dt model
            k3gpu_section dt-compatible
            k3gpu_dt compatible
            k3gpu_section soc-family
            k3gpu_file /sys/devices/soc0/family 256
            k3gpu_section cuda-version-txt
            k3gpu_file /usr/local/cuda/version.txt 1024
            k3gpu_section cuda-version-json
            k3gpu_file /usr/local/cuda/version.json 4096
            k3gpu_section nvcc
            if k3gpu_has nvcc; then k3gpu_limit nvcc --version 2>/dev/null
            elif [ -x /usr/local/cuda/bin/nvcc ]; then k3gpu_limit /usr/local/cuda/bin/nvcc --version 2>/dev/null
            fi
            k3gpu_section nvidia-smi
            k3gpu_has nvidia-smi && k3gpu_limit nvidia-smi \\
              --query-gpu=index,name,uuid,memory.total,driver_version --format=csv,noheader,nounits 2>/dev/null
            k3gpu_section docker
            command -v docker 2>/dev/null
            k3gpu_out=
            k3gpu_rc=
            if k3gpu_has docker; then
              k3gpu_out=$(k3gpu_limit docker info --format "{{.DefaultRuntime}}$k3gpu_nl{{json .Runtimes}}" 2>/dev/null)
              k3gpu_rc=$?
            fi
            k3gpu_section docker-default-runtime
            [ -n "$k3gpu_out" ] && printf '%s\\n' "${k3gpu_out%%"$k3gpu_nl"*}"
            k3gpu_section docker-info-rc
            [ -n "$k3gpu_rc" ] && echo "$k3gpu_rc"
            k3gpu_section docker-runtimes
            [ "$k3gpu_rc" = 0 ] && case "$k3gpu_out" in
              *"$k3gpu_nl"*) printf '%s\\n' "${k3gpu_out#*"$k3gpu_nl"}" | head -c 4096 ;;
            esac
            k3gpu_section nvidia-container-runtime
            k3gpu_ncr=
            for k3gpu_p in "$(command -v nvidia-container-runtime 2>/dev/null)" \\
                /usr/bin/nvidia-container-runtime /usr/local/nvidia/toolkit/nvidia-container-runtime; do
              if [ -n "$k3gpu_p" ] && [ -x "$k3gpu_p" ]; then echo "$k3gpu_p"; k3gpu_ncr=$k3gpu_p; break; fi
            done
            k3gpu_section nvidia-container-toolkit-dpkg
            k3gpu_ctk=
            if [ -n "$k3gpu_ncr" ] || k3gpu_has nvidia-ctk; then k3gpu_ctk=1; fi
            [ -n "$k3gpu_ctk" ] && k3gpu_has dpkg-query && \
              dpkg-query -W -f '${Status} ${Version}' nvidia-container-toolkit 2>/dev/null
            k3gpu_section nvidia-container-toolkit-cli
            if [ -n "$k3gpu_ctk" ]; then
              for k3gpu_c in nvidia-ctk nvidia-container-toolkit nvidia-container-runtime; do
                if k3gpu_has "$k3gpu_c"; then k3gpu_limit "$k3gpu_c" --version 2>/dev/null | head -n 1; break; fi
              done
            fi
            k3gpu_section nvidia-toolkit-dir-runtime
            k3gpu_t=/usr/local/nvidia/toolkit/nvidia-container-runtime
            k3gpu_b=/usr/bin/nvidia-container-runtime
            if [ -e "$k3gpu_t" ]; then
              if [ ! -e "$k3gpu_b" ]; then echo "$k3gpu_t no-packaged"
              elif [ "$k3gpu_t" -ef "$k3gpu_b" ] || cmp -s "$k3gpu_t" "$k3gpu_b" 2>/dev/null; then echo "$k3gpu_t same"
              else echo "$k3gpu_t different"
              fi
            fi
            k3gpu_section containerd
            command -v containerd 2>/dev/null
            k3gpu_section k3s
            command -v k3s 2>/dev/null
            k3gpu_section k3s-version
            k3gpu_has k3s && k3gpu_limit k3s --version 2>/dev/null | head -n 1
            k3gpu_section k3s-units
            for k3gpu_u in /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service \\
                /lib/systemd/system/k3s.service /lib/systemd/system/k3s-agent.service \\
                /usr/lib/systemd/system/k3s.service /usr/lib/systemd/system/k3s-agent.service \\
                /etc/init.d/k3s /etc/init.d/k3s-agent; do
              [ -e "$k3gpu_u" ] && echo "$k3gpu_u"
            done
            k3gpu_section k3s-enabled
            if k3gpu_has k3s && k3gpu_has systemctl; then
              for k3gpu_u in k3s k3s-agent; do
                echo "$k3gpu_u $(k3gpu_limit systemctl is-enabled "$k3gpu_u" 2>/dev/null | head -n 1)"
              done
            fi
            k3gpu_section k3s-dirs
            for k3gpu_d in /etc/rancher/k3s /var/lib/rancher/k3s/server /var/lib/rancher/k3s/agent; do
              [ -d "$k3gpu_d" ] && echo "$k3gpu_d"
            done
            k3gpu_section k3s-config-default-runtime
            [ -r /etc/rancher/k3s/config.yaml ] && \\
              grep -E "^[\\"']?default-runtime[\\"']?[[:space:]]*:" /etc/rancher/k3s/config.yaml 2>/dev/null | head -n 5
            for k3gpu_u in /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service; do
              [ -r "$k3gpu_u" ] && tr '\\n' ' ' <"$k3gpu_u" 2>/dev/null \\
                | grep -o -E -e "--default-runtime[^A-Za-z0-9._-]+[A-Za-z0-9._-]+" 2>/dev/null | head -n 1 \\
                | sed -E 's/^--default-runtime[^A-Za-z0-9._-]*/default-runtime: /'
            done
            [ -r /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl ] && sed -n -E \\
              's/^[[:space:]]*default_runtime_name[[:space:]]*=[[:space:]]*"([A-Za-z0-9._-]+)".*/default-runtime: \\1/p' \\
              /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl 2>/dev/null | head -n 1
            k3gpu_section end
            exit 0
            """;

    private FactsScript() {
    }

    /** The script text, to be sent on the stdin of {@code sh -s}. */
    public static String text() {
        return TEXT;
    }
}
