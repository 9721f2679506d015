#!/usr/bin/env python3
"""k3gpu distributed-training worker launcher (one per node of an Indexed Job).

  python3 dist_worker.py --master HOST --timeout SECONDS -- COMMAND...

Waits until rank 0's DNS name resolves (the headless Service publishes not-ready
addresses, so it does once rank 0's pod has an IP), finds the interface of this
pod's route to rank 0 in /proc/net/route, exports it as GLOO_SOCKET_IFNAME and
NCCL_SOCKET_IFNAME (gloo falls back to the loopback interface when the hostname
resolves to 127.0.0.1, and a list of names makes NCCL/gloo pick several), then
replaces itself with COMMAND (the user's own launcher), or runs torchrun in this
process when COMMAND is "torchrun ARGS" (so the fix below applies).
Errors are one JSON line {"event":"error",...} on stdout and exit 1.
Runs on Python 3.6+ with the standard library only.
"""

import json
import os
import socket
import struct
import sys
import time


def fail(message):
    sys.stdout.write(json.dumps({"event": "error", "message": message,
                                 "rank": rank(), "node": os.environ.get("K3GPU_NODE") or socket.gethostname()}) + "\n")
    sys.stdout.flush()
    sys.stderr.write("k3gpu-worker: error: " + message + "\n")
    sys.exit(1)


def rank():
    try:
        return int(os.environ.get("JOB_COMPLETION_INDEX", "0"))
    except ValueError:
        return 0


def resolve(host, deadline):
    last = None
    while True:
        try:
            return socket.gethostbyname(host)
        except socket.error as e:
            last = e
        if time.time() > deadline:
            fail("rank 0's name %s did not resolve (%s); is the cluster DNS running (kube-dns)?" % (host, last))
        time.sleep(1)


def route_interface(address, table="/proc/net/route"):
    """The interface of the longest-prefix route to an IPv4 address in the main routing table."""
    target = struct.unpack("<I", socket.inet_aton(address))[0]
    best, best_len = None, -1
    with open(table) as f:
        next(f)
        for line in f:
            cols = line.split()
            if len(cols) < 8:
                continue
            iface, dest, flags, mask = cols[0], int(cols[1], 16), int(cols[3], 16), int(cols[7], 16)
            if not flags & 1:  # RTF_UP
                continue
            length = bin(mask).count("1")
            if target & mask == dest and length > best_len:
                best, best_len = iface, length
    return best


def torchrun(args):
    """torchrun's main (torch.distributed.run, PyTorch 1.10+) with its arguments."""
    try:
        from torch.distributed import run
        from torch.distributed.elastic.multiprocessing import api
    except ImportError as e:
        fail("torchrun needs PyTorch with torch.distributed (%s); use a PyTorch image (--image)" % e)
    if api.Std.from_str("0") is None:
        # PyTorch < 2.0 on Python 3.11 (Debian's python3-torch 1.13): iterating the Std flag enum no longer yields
        # its 0 member, so from_str("0") -- torchrun's default --redirects/--tee -- is None and the launch dies in
        # to_map(). The same parse, without iterating the enum:
        def from_str(vm):
            if ":" in vm:
                return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
            return api.Std(int(vm))
        api.Std.from_str = staticmethod(from_str)
    sys.argv = ["torchrun"] + list(args)
    run.main(list(args))
    return 0


def main(argv):
    if "--" not in argv:
        fail("usage: dist_worker.py --master HOST --timeout SECONDS -- COMMAND...")
    sep = argv.index("--")
    opts, command = argv[:sep], argv[sep + 1:]
    master, timeout = None, 300.0
    for i in range(0, len(opts) - 1, 2):
        if opts[i] == "--master":
            master = opts[i + 1]
        elif opts[i] == "--timeout":
            timeout = float(opts[i + 1])
    if not master or not command:
        fail("usage: dist_worker.py --master HOST --timeout SECONDS -- COMMAND...")
    address = resolve(master, time.time() + timeout)
    iface = route_interface(address)
    if not iface:
        fail("no route to rank 0 (%s = %s) in /proc/net/route" % (master, address))
    env = dict(os.environ)
    env["GLOO_SOCKET_IFNAME"] = iface
    env["NCCL_SOCKET_IFNAME"] = iface
    env["K3GPU_SOCKET_IFNAME"] = iface
    sys.stderr.write("k3gpu-worker: rank %d, rank 0 is %s (%s), interface %s\n" % (rank(), master, address, iface))
    sys.stderr.flush()
    if command[0] == "torchrun":
        os.environ.update(env)
        sys.exit(torchrun(command[1:]))
    try:
        os.execvpe(command[0], command, env)
    except OSError as e:
        fail("cannot start %s: %s" % (command[0], e))


if __name__ == "__main__":
    main(sys.argv[1:])
