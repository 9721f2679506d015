#!/usr/bin/python3 -S
"""nvidia-container-runtime of a k3gpu lab node (NVIDIA Container Toolkit @VERSION@, the lab's only simulated piece of
the container stack): a runc wrapper, as the real one is. Docker (or containerd) calls it with runc's command line;
for `create` it edits the bundle's OCI spec (config.json) and then hands over to runc with the same arguments.

CSV mode (L4T <= 36, /etc/nvidia-container-runtime/host-files-for-container.d/*.csv present), as L4T's runtime does:
each line `<kind>, <path>` (dev, lib, sym, dir, file) of a file that exists on the node becomes a read-only bind mount
at the same path in the container (a device node also an allowed device in the container's cgroup; a sym a symlink
with the same target), so the lab's CUDA libraries and device nodes appear in the container. Without CSV files the
spec is passed through unchanged (the lab has no libnvidia-container).
"""
import json
import os
import sys

CSV_DIR = os.environ.get("K3GPU_LAB_FSROOT", "") + "/etc/nvidia-container-runtime/host-files-for-container.d"
RUNC = os.environ.get("K3GPU_LAB_RUNC", "/usr/sbin/runc")


def csv_entries():
    try:
        names = sorted(n for n in os.listdir(CSV_DIR) if n.endswith(".csv"))
    except OSError:
        return None
    out = []
    for n in names:
        with open(os.path.join(CSV_DIR, n)) as f:
            for line in f:
                kind, _, path = line.partition(",")
                kind, path = kind.strip(), path.strip()
                if kind in ("dev", "lib", "sym", "dir", "file") and path.startswith("/"):
                    out.append((kind, path))
    return out


def bundle_of(args):
    for i, a in enumerate(args):
        if a in ("--bundle", "-b") and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--bundle="):
            return a.split("=", 1)[1]
    return "."


def edit_spec(bundle, entries):
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    root = spec.get("root", {}).get("path", "rootfs")
    root = root if root.startswith("/") else os.path.join(bundle, root)
    mounts = spec.setdefault("mounts", [])
    linux = spec.setdefault("linux", {})
    for kind, p in entries:
        if not os.path.lexists(p):
            continue  # the host does not have it: nothing to bring in
        if kind == "sym" and os.path.islink(p):
            target = os.readlink(p)
            link = root + p
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink(target, link)
            continue
        if kind == "dev":
            st = os.stat(p)
            major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
            linux.setdefault("resources", {}).setdefault("devices", []).append(
                {"allow": True, "type": "c", "major": major, "minor": minor, "access": "rwm"})
        mounts.append({"destination": p, "type": "bind", "source": p,
                       "options": ["rbind", "rprivate", "nosuid", "ro"] if kind != "dev" else ["bind", "nosuid"]})
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(spec, f)
    os.rename(tmp, path)


def main(args):
    if args[:1] in (["--version"], ["-v"], ["version"]):
        print("NVIDIA Container Runtime version @VERSION@")
        sys.stdout.flush()
        os.execv(RUNC, [RUNC, "--version"])
    if "create" in args:
        entries = csv_entries()
        if entries:
            edit_spec(bundle_of(args[args.index("create") + 1:]), entries)
    os.execv(RUNC, [RUNC] + args)


if __name__ == "__main__":
    main(sys.argv[1:])
