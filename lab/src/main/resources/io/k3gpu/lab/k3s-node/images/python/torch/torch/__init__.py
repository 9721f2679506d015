"""SIMULATED PyTorch of the k3gpu lab: NOT PyTorch, no torch.nn, no tensors.

The lab's image catalog (images.json) puts this package on PYTHONPATH in containers of PyTorch images, so that the
usual check `python3 -c "import torch; print(torch.cuda.is_available(), torch.cuda.get_device_name(0))"` answers as
PyTorch would on that node: CUDA available, with the node's GPU name ("NVIDIA H200", "NVIDIA Tegra X1", "Orin"), only
with an NVIDIA-enabled container runtime for the pod. The agent describes the container in K3GPU_LAB_IMAGE.
Only __version__ (suffix "+k3gpu-lab"), version.cuda and torch.cuda.{is_available, device_count, current_device,
get_device_name} exist; code that needs more fails, as it should.
"""
from . import cuda, version
from ._image import IMAGE as _IMAGE

__k3gpu_simulated__ = True
__version__ = _IMAGE.get("frameworks", {}).get("torch", "2.0.0") + "+k3gpu-lab"
