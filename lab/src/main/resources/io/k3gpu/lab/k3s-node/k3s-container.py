#!/usr/bin/python3 -S
"""k3s-container.py <spec.json>: starts one container of the k3gpu lab's simulated K3s agent (its "runc").

The agent runs it as `unshare --mount --uts --propagation private -- python3 -S k3s-container.py SPEC`, in a new
session, stdout and stderr on the container's log file. In its private mount namespace it builds the container's
root on a tmpfs mounted at spec["base"] (a directory the agent made under /run/k3s/containers/):

  <base>/rootfs/<d>   for each directory <d> of the node's /: an overlay (the node's /<d> as lower layer, the upper
                      on the tmpfs: the container writes into a layer of its own, as into an image's), with the
                      mounts the node has below /<d> bound again on top (/usr/local, the lab's shared directory);
                      /proc, /sys and /dev bound recursively; /tmp, /run, /root, /home, /mnt, /media empty and private;
  spec["whiteouts"]   files of the node's /etc, /var, ... the image does not have (whiteouts in the container's layer);
  spec["hide"]        files of the node an image would not have (its K3s, Docker and lab tools, nvidia-smi
                      without an NVIDIA-enabled runtime) removed from the container's view;
  volumes             bound at their mountPaths (read-only where the pod says so), mount points created in the
                      container's own layer;

then sets the hostname (the pod's name), chroots, changes to the working directory (created when missing, as runc
does) and execs the command with the container's environment only (none of the agent's). Processes stay in the
node's PID and network namespaces (like hostNetwork pods). File descriptor 3 is a pipe to the agent, closed on
exec: when anything before the exec fails, the error goes there in runc's words and the exit status is 128 (the
agent reports the container as StartError); a successful exec closes it without a word.
spec["mntnsFile"] receives this container's mount namespace (the agent kills what runs in it when the container
ends or is deleted). With spec["isolate"] false (the agent's tests, not root) only the working directory, the
environment and the exec happen.
"""
import ctypes
import json
import os
import stat
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384
PRIVATE_DIRS = ("tmp", "run", "root", "home", "mnt", "media", "lost+found")
RECURSIVE_BINDS = ("proc", "sys", "dev")

libc = ctypes.CDLL(None, use_errno=True)


def mount(source, target, fstype, flags, data=None):
    enc = (lambda s: None if s is None else s.encode())
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), target)


def unescape(path):
    """A path of /proc/self/mountinfo (spaces and such as \\040)."""
    out, i = [], 0
    while i < len(path):
        if path[i] == "\\" and i + 3 < len(path) and path[i + 1:i + 4].isdigit():
            out.append(chr(int(path[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def mount_points():
    with open("/proc/self/mountinfo") as f:
        return [unescape(line.split()[4]) for line in f if len(line.split()) > 4]


def whiteout(upper, rel):
    """overlayfs's whiteout (a 0/0 character device) in the upper layer: the lower file is gone from the view."""
    target = os.path.join(upper, rel)
    os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
    os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(0, 0))


def build_root(base, whiteouts=()):
    rootfs, scratch = base + "/rootfs", base + "/scratch"
    mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=256m")
    os.mkdir(rootfs, 0o755)
    os.mkdir(scratch, 0o700)
    points = mount_points()
    for name in sorted(os.listdir("/")):
        src, dst = "/" + name, rootfs + "/" + name
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
            continue
        if not os.path.isdir(src):
            continue
        os.mkdir(dst, 0o1777 if name == "tmp" else 0o755)
        if name == "tmp":
            os.chmod(dst, 0o1777)
        if name in PRIVATE_DIRS:
            continue
        if name in RECURSIVE_BINDS:
            mount(src, dst, None, MS_BIND | MS_REC)
            continue
        upper, work = scratch + "/" + name + ".upper", scratch + "/" + name + ".work"
        os.mkdir(upper)
        os.mkdir(work)
        for w in whiteouts:
            if w.startswith(src + "/") and os.path.lexists(w):
                whiteout(upper, w[len(src) + 1:])
        try:
            mount("overlay", dst, "overlay", 0, "lowerdir=%s,upperdir=%s,workdir=%s" % (src, upper, work))
        except OSError:
            # a lower layer overlayfs cannot stack on (too deep): the node's directory itself, read-only
            mount(src, dst, None, MS_BIND | MS_REC)
            mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
            continue
        for p in points:
            if p.startswith(src + "/") and not p.startswith(base):
                # read-only: the node's own mounts (its /usr/local, the lab's shared files) are seen, never written,
                # from a container. A containerd root is built in the node's mount namespace, where K3s's
                # k3s-killall.sh unmounts each mount under /run/k3s and `rm -rf`s its path: through a writable bind
                # that removed the node's /usr/local/bin
                try:
                    mount(p, rootfs + p, None, MS_BIND)
                    mount(None, rootfs + p, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
                except OSError:
                    pass  # shadowed by a later mount, or its directory is not there
    return rootfs


def hide(base, rootfs, paths):
    """Files of the node an image would not have (the node's own tools): gone in this container's view only, under
    an overlay of their directory."""
    by_dir = {}
    for p in paths:
        by_dir.setdefault(os.path.dirname(p), []).append(os.path.basename(p))
    for i, (d, names) in enumerate(sorted(by_dir.items())):
        target = rootfs + d
        if not os.path.isdir(target):
            continue
        upper, work = "%s/scratch/hide%d.upper" % (base, i), "%s/scratch/hide%d.work" % (base, i)
        os.mkdir(upper)
        os.mkdir(work)
        mount("overlay", target, "overlay", 0, "lowerdir=%s,upperdir=%s,workdir=%s" % (target, upper, work))
        for n in names:
            try:
                os.unlink(os.path.join(target, n))
            except OSError:
                pass


def secure_join(root, path):
    """The path inside root with every symlink resolved inside root too (runc's securejoin): /var/run -> /run stays
    in the container's /run, never the node's."""
    parts, cur, hops = [x for x in path.split("/") if x], "", 0
    while parts:
        p = parts.pop(0)
        if p == ".":
            continue
        if p == "..":
            cur = os.path.dirname(cur).rstrip("/")
            continue
        cand = cur + "/" + p
        if os.path.islink(root + cand) and hops < 40:
            hops += 1
            link = os.readlink(root + cand)
            if link.startswith("/"):
                cur = ""
            parts = [x for x in link.split("/") if x] + parts
            continue
        cur = cand
    return root + cur


def mount_volume(rootfs, v):
    target = secure_join(rootfs, v["target"])
    source = v["source"]
    if not os.path.exists(source):
        raise OSError(2, "No such file or directory", source)
    if not os.path.lexists(target):
        if os.path.isdir(source):
            os.makedirs(target, 0o755)
        else:
            os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
            open(target, "a").close()
    mount(source, target, None, MS_BIND | MS_REC)
    return target


def mount_volumes(rootfs, volumes, step):
    """Binds every volume, then makes the read-only ones read-only (as runc remounts at the end): a volume nested in
    a read-only one (coredns's /etc/coredns/custom in /etc/coredns) gets its mount point made first."""
    done = []
    for v in volumes:
        step[0] = "mount volume %s" % v["name"]
        done.append((v, mount_volume(rootfs, v)))
    for v, target in done:
        if v.get("readOnly"):
            step[0] = "mount volume %s" % v["name"]
            mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def which(cmd, path):
    if "/" in cmd:
        return cmd
    for d in (path or "").split(":"):
        p = os.path.join(d or ".", cmd)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    err = 3
    os.set_inheritable(err, False)  # closed by a successful exec: the agent reads EOF, else the error
    prefix = spec.get("errorPrefix", "")
    step = "mount"
    cwd = spec.get("workingDir") or "/"
    try:
        if spec.get("isolate", True):
            with open(spec["mntnsFile"], "w") as f:
                f.write(os.readlink("/proc/self/ns/mnt") + "\n")
            rootfs = build_root(spec["base"], spec.get("whiteouts", []))
            step = "mask"
            hide(spec["base"], rootfs, spec.get("hide", []))
            current = [step]
            try:
                mount_volumes(rootfs, spec.get("volumes", []), current)
            finally:
                step = current[0]
            step = "hostname"
            name = spec.get("hostname", "").encode()[:63]
            if name:
                libc.sethostname(name, len(name))
            os.chroot(rootfs)
        step = "chdir"
        os.makedirs(cwd, 0o755, exist_ok=True)
        os.chdir(cwd)
    except OSError as e:
        detail = "%s: %s" % (e.filename, (e.strerror or str(e)).lower()) if e.filename else str(e)
        if step == "chdir":
            message = 'chdir to cwd ("%s") set in config.json failed: %s' % (cwd, (e.strerror or str(e)).lower())
        else:
            message = "error during container init: %s: %s" % (step, detail)
        fail(err, prefix + "runc create failed: unable to start container process: " + message + ": unknown")
    argv, env = spec["argv"], spec["env"]
    start = prefix + "runc create failed: unable to start container process: "
    exe = which(argv[0], env.get("PATH")) if argv else None
    if not argv:
        fail(err, start + "error during container init: no command specified: unknown")
    if exe is None:
        fail(err, start + 'exec: "%s": executable file not found in $PATH: unknown' % argv[0])
    if not os.path.exists(exe):
        fail(err, start + 'error during container init: exec: "%s": stat %s: no such file or directory: unknown'
             % (argv[0], exe))
    try:
        os.execve(exe, argv, env)
    except OSError as e:
        fail(err, start + 'error during container init: exec: "%s": %s: unknown'
             % (argv[0], (e.strerror or str(e)).lower()))


def fail(fd, message):
    os.write(fd, message.encode())
    os._exit(128)


if __name__ == "__main__":
    main()
