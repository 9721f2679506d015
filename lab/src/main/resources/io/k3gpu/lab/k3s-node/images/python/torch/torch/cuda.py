"""torch.cuda of the k3gpu lab's SIMULATED PyTorch: what the node's GPU looks like from this container."""
from ._image import IMAGE as _IMAGE


def _gpus():
    return list(_IMAGE.get("gpus", [])) if _IMAGE.get("nvidia") else []


def is_available():
    return bool(_gpus())


def device_count():
    return len(_gpus())


def current_device():
    _check(0)
    return 0


def get_device_name(device=None):
    index = 0 if device is None else int(getattr(device, "index", device) or 0)
    _check(index)
    return _gpus()[index]


def _check(index):
    gpus = _gpus()
    if not gpus:
        raise RuntimeError("Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and "
                           "installed a driver from http://www.nvidia.com/Download/index.aspx")
    if index < 0 or index >= len(gpus):
        raise RuntimeError("CUDA error: invalid device ordinal")
