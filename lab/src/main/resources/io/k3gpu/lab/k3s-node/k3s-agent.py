#!/usr/bin/python3 -S
"""`k3s agent` of the k3gpu lab: what the lab's k3s program runs for `k3s agent ARGS` (python3, stdlib only).

Behaves, as seen from outside, like a K3s agent with its kubelet:
  * flags, /etc/rancher/k3s/config.yaml (+ config.yaml.d/*.yaml; flat keys and lists) and K3S_* variables as K3s
    reads them: config values go in front of the command line (a command-line value wins, lists collect both), a
    variable only fills a flag that neither set; an unknown flag is refused with K3s's (urfave/cli's) words;
  * the join: GET /cacerts without verification, its SHA-256 compared with the K10 token's CA hash (a mismatch or an
    unreachable server is logged at error level and retried every 2 s, as K3s's agent does), then the agent
    configuration with HTTP Basic node:<password> (401 -> "Waiting to retrieve agent configuration; server is not
    ready: ..." every 5 s); from then on the server's certificate is verified against that CA;
  * --docker: Docker must answer (else "cri-dockerd exited: ..." and exit 1, as K3s's embedded cri-dockerd), and is
    refused in v1.24.0 - v1.24.3 as K3s refused it; without --docker the runtime is K3s's containerd: its
    config.toml is written with the NVIDIA runtimes found where K3s looks (/usr/local/nvidia/toolkit, /usr/bin) and
    --default-runtime;
  * registers the Node as io.k3gpu.lab.k3s.K3sNodeObject builds it (labels, annotations, taints, addresses,
    capacity, conditions, nodeInfo, images imported from <data-dir>/agent/images/*.tar) and keeps it Ready: every
    10 s a status patch (lastHeartbeatTime), the kube-node-lease Lease renewed, and the node's pods listed
    (spec.nodeName=<node>) for the pod manager;
  * kubelet's device-plugin manager (DeviceManager): /var/lib/kubelet/device-plugins/kubelet.sock, registrations
    in the lab's line protocol, extended resources (nvidia.com/gpu) on the Node only from registered plugins;
  * a kubelet endpoint on :10250 (HTTPS, self-signed serving-kubelet.crt, no client authentication): /healthz,
    /pods, /containerLogs/<ns>/<pod>/<container>?follow=&tailLines=&previous= (the server proxies `kubectl logs`);
  * runs the node's pods (a watch on spec.nodeName=<node>, and the heartbeat's list) as the kubelet does, one
    PodWorker each: volumes (emptyDir, configMap, secret, hostPath), init containers in order, then the containers,
    each a real process of the node started by k3s-container.py in a mount namespace of its own (the node's files
    under a writable layer, the volumes at their mountPaths); images from the lab's catalog (images/images.json:
    ENTRYPOINT/CMD/ENV/WORKDIR, platforms, simulated frameworks), ErrImagePull / ImagePullBackOff with the
    runtime's words; restartPolicy Never/OnFailure/Always with kubelet's back-off; status patched as kubelet writes
    it (phase, conditions, container states), kubelet's Events; deletion: SIGTERM, SIGKILL after the grace period,
    then DELETE with gracePeriodSeconds=0 (the server's controllers' contract); pods gone from the API are killed.
Logs go to stderr (the service log) in logrus's format, kubelet's lines in klog's, as K3s writes them.
The lab's `k3s server` runs this same program as its embedded agent (a child of its JVM, K3GPU_LAB_EMBEDDED_AGENT set:
options.embedded), which registers the server's Node with the server's roles and node-args and runs its pods.

The code is the package k3sagent next to this file, one module per job: common (versions, paths, logs), options
(flags, config.yaml, token), api (the server connection), node (host facts, the Node object's parts), images (the
catalog), volumes, runtime (the container runtime), pods (PodWorker, Pods), kubelet (:10250), deviceplugins
(DeviceManager), agent (join, registration, heartbeat, watch, main).
"""
import signal
import sys

from k3sagent.agent import main, on_term

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
