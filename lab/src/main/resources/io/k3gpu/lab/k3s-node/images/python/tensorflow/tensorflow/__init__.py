"""SIMULATED TensorFlow of the k3gpu lab: NOT TensorFlow, no tf.keras, no tensors.

The lab's image catalog (images.json) puts this package on PYTHONPATH in containers of TensorFlow images, so that
`echo 'import tensorflow' | python3` (the seed's gpu-test pod) logs what TensorFlow logs on import when it loads the
CUDA runtime: with an NVIDIA-enabled container runtime for the pod

  ... I tensorflow/stream_executor/platform/default/dso_loader.cc:49] Successfully opened dynamic library libcudart.so.10.2

otherwise the dlerror lines. The agent describes the container in K3GPU_LAB_IMAGE (JSON: runtime NVIDIA-enabled or
not, CUDA version, GPU names, architecture). Without it (a container of the node's real Docker, image built by
k3lab-images) the CUDA runtime counts as loadable when its file is where the dynamic loader would look
(LD_LIBRARY_PATH, the standard directories): the NVIDIA runtime's CSV mounts bring it in. Only __version__ (suffix "+k3gpu-lab"), config.list_physical_devices()
and test.is_gpu_available() exist; code that needs more fails, as it should.
"""
import json as _json
import os as _os
import sys as _sys
import time as _time

__k3gpu_simulated__ = True
_IMAGE = _json.loads(_os.environ.get("K3GPU_LAB_IMAGE") or "{}")
__version__ = _IMAGE.get("frameworks", {}).get("tensorflow", "2.3.1") + "+k3gpu-lab"


def _soname(cuda):
    parts = (cuda or "10.2").split(".")
    major = int(parts[0]) if parts[0].isdigit() else 10
    if major <= 10:
        return "libcudart.so.%s.%s" % (major, parts[1] if len(parts) > 1 else "0")
    return "libcudart.so.11.0" if major == 11 else "libcudart.so.%d" % major


def _log(severity, where, message):
    level = _os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")
    if "IWE".index(severity) < (int(level) if level.isdigit() else 0):
        return  # filtered as TensorFlow filters its C++ log by TF_CPP_MIN_LOG_LEVEL
    t = _time.time()
    stamp = _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime(t)) + ".%06d" % int((t % 1) * 1e6)
    _sys.stderr.write("%s: %s %s] %s\n" % (stamp, severity, where, message))
    _sys.stderr.flush()


def _loadable(lib):
    dirs = (_os.environ.get("LD_LIBRARY_PATH") or "").split(":") + ["/lib", "/usr/lib", "/usr/local/cuda/lib64",
                                                                     "/usr/lib/aarch64-linux-gnu"]
    return any(d and _os.path.exists(_os.path.join(d, lib)) for d in dirs)


def _on_import():
    lib = _soname(_IMAGE.get("cuda"))
    if _IMAGE.get("nvidia") if "nvidia" in _IMAGE else _loadable(lib):
        _log("I", "tensorflow/stream_executor/platform/default/dso_loader.cc:49",
             "Successfully opened dynamic library " + lib)
        return
    _log("W", "tensorflow/stream_executor/platform/default/dso_loader.cc:60",
         "Could not load dynamic library '%s'; dlerror: %s: cannot open shared object file: No such file or "
         "directory; LD_LIBRARY_PATH: %s" % (lib, lib, _os.environ.get("LD_LIBRARY_PATH", "")))
    _log("I", "tensorflow/stream_executor/cuda/cudart_stub.cc:29",
         "Ignore above cudart dlerror if you do not have a GPU set up on your machine.")


_on_import()


class _PhysicalDevice(tuple):
    def __new__(cls, name, device_type):
        return tuple.__new__(cls, (name, device_type))

    name = property(lambda self: self[0])
    device_type = property(lambda self: self[1])

    def __repr__(self):
        return "PhysicalDevice(name='%s', device_type='%s')" % self


class _Config:
    @staticmethod
    def list_physical_devices(device_type=None):
        devices = [_PhysicalDevice("/physical_device:CPU:0", "CPU")]
        if _IMAGE.get("nvidia"):
            devices += [_PhysicalDevice("/physical_device:GPU:%d" % i, "GPU") for i in range(len(_IMAGE.get("gpus", [])))]
        return [d for d in devices if device_type is None or d.device_type == device_type]


class _Test:
    @staticmethod
    def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
        return bool(_IMAGE.get("nvidia") and _IMAGE.get("gpus"))


config = _Config()
test = _Test()
