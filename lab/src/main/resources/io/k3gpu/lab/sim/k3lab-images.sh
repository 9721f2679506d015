#!/bin/sh
# k3lab-images REPO[:TAG]...: builds images of the lab's image catalog (the copy of k3s-node/images in the shared
# dir) into this node's real Docker, as if they had been pulled (the lab has no registry): a small rootfs from the
# node's own Debian userland (bash, python3 and the standard modules the image's Python loads, busybox-static for the
# tools), the catalog's SIMULATED frameworks of the image in dist-packages, imported with `docker import` and the
# catalog's ENV and CMD. Run once at boot by the lab's k3gpu-lab-images service (after docker); images already
# present are left alone.
set -eu
SHARED=/usr/local/lib/k3gpu-lab/shared/images
PY=$(readlink -f /usr/bin/python3)   # e.g. /usr/bin/python3.11, its modules in /usr/lib/python3.11
for i in $(seq 150); do
    docker info >/dev/null 2>&1 && break
    sleep 0.2
done
for ref in "$@"; do
    case "$ref" in *:*) ;; *) ref=$ref:latest ;; esac
    if docker image inspect "$ref" >/dev/null 2>&1; then
        continue
    fi
    R=$(mktemp -d)
    # what the catalog says of the image: ENV, CMD and frameworks as `docker import --change` lines, one per line
    /usr/bin/python3 -S - "$SHARED/images.json" "$ref" > "$R.changes" <<'PY'
import json, sys
cat = json.load(open(sys.argv[1]))["images"]
repo, tag = sys.argv[2].rsplit(":", 1)
img = cat.get(repo) or cat.get("docker.io/" + repo)
if img is None:
    sys.exit("k3lab-images: %s is not in the lab's catalog" % sys.argv[2])
t = (img.get("tags") or {}).get(tag) or {}
for k, v in sorted(img.get("env", {}).items()):
    print("ENV %s=%s" % (k, v))
print("CMD " + json.dumps(img.get("cmd") or ["/bin/sh"]))
for f in sorted(t.get("frameworks") or img.get("frameworks") or {}):
    print("#framework " + f)
PY
    mkdir -p "$R/bin" "$R/usr/bin" "$R/usr/lib/python3/dist-packages" "$R/tmp" "$R/etc"
    chmod 1777 "$R/tmp"
    cp /bin/busybox "$R/bin/busybox"
    for t in sh ls cat echo env grep sed head tail mkdir rm cp mv sleep id uname; do
        ln -s busybox "$R/bin/$t"
    done
    cp /bin/bash "$R/bin/bash"
    cp "$PY" "$R$PY"
    ln -s "$(basename "$PY")" "$R/usr/bin/python3"
    for lib in $(ldd /bin/bash "$PY" | awk '$2 == "=>" {print $3} $1 ~ /^\// && $2 ~ /^\(/ {print $1}' | sort -u); do
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
    done
    for f in $(sed -n 's/^#framework //p' "$R.changes"); do
        [ -d "$SHARED/python/$f/$f" ] && cp -r "$SHARED/python/$f/$f" "$R/usr/lib/python3/dist-packages/$f"
    done
    # the standard modules a start of python3 and an import of the frameworks load
    PYTHONPATH="$R/usr/lib/python3/dist-packages" "$PY" -c '
import sys
for f in sys.argv[1:]:
    try:
        __import__(f)
    except Exception:
        pass
for m in list(sys.modules.values()):
    p = getattr(m, "__file__", None)
    if p and p.startswith("/usr/lib/python3.") and "-packages/" not in p:
        print(p)' $(sed -n 's/^#framework //p' "$R.changes") 2>/dev/null | while read -r f; do
        mkdir -p "$R$(dirname "$f")"
        cp "$f" "$R$f"
    done
    set --
    while read -r line; do
        case "$line" in '#'*) ;; *) set -- "$@" --change "$line" ;; esac
    done < "$R.changes"
    tar -C "$R" -c . | docker import "$@" - "$ref" >/dev/null
    rm -rf "$R" "$R.changes"
done
