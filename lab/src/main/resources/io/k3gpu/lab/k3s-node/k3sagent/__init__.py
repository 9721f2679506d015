"""The lab's `k3s agent` (see ../k3s-agent.py), one module per job; python3 -S, stdlib only."""
