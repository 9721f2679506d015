"""The Node object of this machine: host facts (CPUs, memory, GPUs, NVIDIA runtimes, Docker), conditions, taints."""
import json
import os
import socket

from k3sagent.common import P, VERSION, read_text, run, version_tuple

def kube_arch(machine):
    m = (machine or "").strip()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
            "armv7": "arm", "armhf": "arm", "arm": "arm"}.get(m, m or "amd64")


def os_image():
    for f in ("/etc/os-release", "/usr/lib/os-release"):
        text = read_text(f)
        if text is None:
            continue
        for line in text.splitlines():
            if line.startswith("PRETTY_NAME="):
                return line[len("PRETTY_NAME="):].strip('"')
    return "Linux"


def local_ip(host, port):
    """The address this machine uses to reach the server (the node's InternalIP unless --node-ip)."""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((host, port))
            return s.getsockname()[0]
        finally:
            s.close()
    except OSError:
        return None


# K3s v1.31's pkg/agent/containerd/runtimes.go (findNvidiaContainerRuntimes): the GPU Operator's toolkit directory,
# then the package manager's /usr/bin, for each runtime; the first file found wins. "nvidia-cdi"
# (nvidia-container-runtime.cdi) joined K3s's list with k3s-io/k3s#11065 (October 2024, backported #11092-#11095 to
# v1.31.2, v1.30.6, v1.29.10, v1.28.15): this lab's v1.30.8, v1.31.4, v1.32.0 have it, v1.24.3 does not
NVIDIA_RUNTIME_DIRS = ("/usr/local/nvidia/toolkit", "/usr/bin")
NVIDIA_RUNTIME_BINARIES = (("nvidia", "nvidia-container-runtime"),
                           ("nvidia-experimental", "nvidia-container-runtime-experimental"),
                           ("nvidia-cdi", "nvidia-container-runtime.cdi"))


def has_nvidia_cdi(v):
    return v >= (1, 31, 2) or (1, 30, 6) <= v < (1, 31) or (1, 29, 10) <= v < (1, 30) or (1, 28, 15) <= v < (1, 29)


def nvidia_runtimes():
    """The NVIDIA runtimes K3s's containerd configuration gets: [(name, path)]."""
    found = []
    for name, binary in NVIDIA_RUNTIME_BINARIES:
        if name == "nvidia-cdi" and not has_nvidia_cdi(version_tuple(VERSION)):
            continue
        for d in NVIDIA_RUNTIME_DIRS:
            p = os.path.join(d, binary)
            if os.path.isfile(P(p)):
                found.append((name, p))
                break
    return found


def gpu_count():
    if os.path.exists(P("/etc/nv_tegra_release")):
        return 1
    out, _ = run("nvidia-smi", "-L")
    return 0 if out is None else sum(1 for line in out.splitlines() if line.startswith("GPU "))


class Facts:
    """What the kubelet learns about its machine (the Python twin of io.k3gpu.lab.k3s.HostFacts)."""

    def __init__(self, data_dir, docker, server_host, server_port):
        self.hostname = (read_text("/proc/sys/kernel/hostname") or socket.gethostname()).strip().lower()
        self.architecture = kube_arch(run("uname", "-m")[0])
        self.kernel = run("uname", "-r")[0] or ""
        self.os_image = os_image()
        cpuinfo = read_text("/proc/cpuinfo") or ""
        self.cpus = sum(1 for line in cpuinfo.splitlines() if line.startswith("processor")) or os.cpu_count() or 1
        self.memory_kib = 0
        for line in (read_text("/proc/meminfo") or "").splitlines():
            if line.startswith("MemTotal:"):
                self.memory_kib = int("".join(c for c in line if c.isdigit()) or 0)
        lab = read_text(P("/etc/k3gpu-lab/node.json"))
        if lab:
            try:
                j = json.loads(lab)
                if "cpus" in j:
                    self.cpus = int(j["cpus"])
                    self.memory_kib = int(j["memTotal"]) // 1024
            except (ValueError, KeyError, TypeError):
                pass
        p = data_dir
        while p and not os.path.exists(p):
            p = os.path.dirname(p) if p != "/" else None
        try:
            st = os.statvfs(p or "/")
            self.storage_kib = st.f_blocks * st.f_frsize // 1024
        except OSError:
            self.storage_kib = 0
        self.internal_ip = local_ip(server_host, server_port)
        self.boot_id = (read_text("/proc/sys/kernel/random/boot_id") or "").strip()
        self.machine_id = (read_text("/etc/machine-id") or "").strip()
        self.gpus = gpu_count()
        self.runtimes = nvidia_runtimes()
        self.docker_version = None
        self.docker_error = ""
        if docker:
            self.docker_version, self.docker_error = run("docker", "version", "--format", "{{.Server.Version}}")


def condition(ctype, status, reason, message, heartbeat, transition):
    return {"lastHeartbeatTime": heartbeat, "lastTransitionTime": transition, "message": message,
            "reason": reason, "status": status, "type": ctype}


def conditions(heartbeat, transition):
    return [condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                      "kubelet has sufficient memory available", heartbeat, transition),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
                      heartbeat, transition),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
                      heartbeat, transition),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", heartbeat, transition)]


def taint(text):
    effect, kv = "NoSchedule", text
    if ":" in text:
        kv, effect = text.rsplit(":", 1)
    t = {"effect": effect}
    if "=" in kv:
        t["key"], t["value"] = kv.split("=", 1)
    else:
        t["key"] = kv
    return {k: t[k] for k in ("effect", "key", "value") if k in t}


def cuda_version(fsroot_path):
    """The node's CUDA (major.minor): 10.2 on L4T 32 (JetPack 4), else /usr/local/cuda/version.{json,txt}."""
    release = read_text(fsroot_path("/etc/nv_tegra_release")) or ""
    if release.startswith("# R32"):
        return "10.2"
    text = read_text(fsroot_path("/usr/local/cuda/version.json"))
    if text:
        try:
            v = json.loads(text).get("cuda", {}).get("version", "")
            if v:
                return ".".join(v.split(".")[:2])
        except ValueError:
            pass
    text = read_text(fsroot_path("/usr/local/cuda/version.txt")) or ""
    for word in text.split():
        if word[:1].isdigit():
            return ".".join(word.split(".")[:2])
    return None


def gpu_names(fsroot_path):
    """The GPUs as CUDA names them: nvidia-smi -L on dGPU machines, the SoC's GPU on Jetsons."""
    if os.path.exists(fsroot_path("/etc/nv_tegra_release")):
        model = (read_text(fsroot_path("/sys/firmware/devicetree/base/model")) or "").replace("\0", "")
        for word, name in (("Orin", "Orin"), ("Xavier", "Xavier"), ("TX2", "NVIDIA Tegra X2")):
            if word in model:
                return [name]
        return ["NVIDIA Tegra X1"]
    out, _ = run("nvidia-smi", "-L")
    names = []
    for line in (out or "").splitlines():
        if line.startswith("GPU ") and ": " in line:
            names.append(line.split(": ", 1)[1].split(" (UUID")[0].strip())
    return names
