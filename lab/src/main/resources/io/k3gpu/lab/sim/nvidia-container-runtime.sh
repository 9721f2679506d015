#!/bin/sh
# nvidia-container-runtime of a k3gpu lab node (simulated NVIDIA Container Toolkit @VERSION@): present on PATH
# and answers --version; it cannot run containers (the lab runs none).
case "${1:-}" in
    --version|-v|version)
        echo "NVIDIA Container Runtime version @VERSION@"
        exit 0 ;;
esac
echo "nvidia-container-runtime (k3gpu lab simulation): only --version is simulated" >&2
exit 1
