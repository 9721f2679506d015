"""torch.version of the k3gpu lab's SIMULATED PyTorch."""
from ._image import IMAGE as _IMAGE

cuda = _IMAGE.get("cuda")
__version__ = _IMAGE.get("frameworks", {}).get("torch", "2.0.0") + "+k3gpu-lab"
