"""The container as the k3gpu lab's agent describes it (K3GPU_LAB_IMAGE, JSON)."""
import json
import os

IMAGE = json.loads(os.environ.get("K3GPU_LAB_IMAGE") or "{}")
