"""Images of the lab's catalog (images/images.json): references normalised as Docker's, platforms, pull errors."""
import json
import os
import time

from k3sagent.common import log, sha256

def read_images(images_dir):
    """The images of the air-gap tarballs in <agent>/images (docker-save manifests), as K3s imports them."""
    images = []
    try:
        names = sorted(n for n in os.listdir(images_dir) if n.endswith(".tar"))
    except OSError:
        return images
    for n in names:
        path = os.path.join(images_dir, n)
        log("info", "Importing images from " + path)
        t0 = time.time()
        manifest = None
        try:
            with open(path, "rb") as f:
                while True:
                    header = f.read(512)
                    if len(header) < 512 or header == b"\0" * 512:
                        break
                    name = header[:100].split(b"\0")[0].decode("utf-8", "replace")
                    size = int(header[124:136].split(b"\0")[0].strip() or b"0", 8)
                    data = f.read((size + 511) // 512 * 512)[:size]
                    if name == "manifest.json":
                        manifest = json.loads(data)
        except (OSError, ValueError) as e:
            log("error", "Failed to import images from %s: %s" % (path, e))
            continue
        for entry in manifest or []:
            tags = entry.get("RepoTags") or []
            if tags:
                images.append({"names": tags, "sizeBytes": int(entry.get("SizeBytes") or 0)})
        log("info", "Imported images from %s in %s" % (path, "%.3fs" % (time.time() - t0)))
    return images
REF_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-/:@")


class ImageRef:
    """An image reference normalised as Docker and containerd do: busybox -> docker.io/library/busybox:latest."""

    def __init__(self, text):
        self.text = text
        self.error = None
        name, self.digest = (text.split("@", 1) + [None])[:2] if "@" in text else (text, None)
        self.tag = None
        if name.rfind(":") > name.rfind("/"):
            name, self.tag = name[:name.rfind(":")], name[name.rfind(":") + 1:]
        first = name.split("/", 1)[0]
        if "/" not in name:
            self.repo = "docker.io/library/" + name
        elif "." in first or ":" in first or first == "localhost":
            self.repo = name
        else:
            self.repo = "docker.io/" + name
        if self.tag is None and self.digest is None:
            self.tag = "latest"
        path = self.repo.split("/", 1)[1] if "/" in self.repo else self.repo
        if not text or any(c not in REF_CHARS for c in text.lower()) or not name:
            self.error = 'couldn\'t parse image name "%s": invalid reference format' % text
        elif text.lower() != text:
            self.error = ('couldn\'t parse image name "%s": invalid reference format: repository name (%s) must '
                          'be lowercase' % (text, path))

    def canonical(self):
        """containerd's name: docker.io/library/busybox:latest."""
        return self.repo + (":" + self.tag if self.tag else "@" + self.digest)

    def familiar_repo(self):
        for prefix in ("docker.io/library/", "docker.io/"):
            if self.repo.startswith(prefix):
                return self.repo[len(prefix):]
        return self.repo

    def familiar(self):
        """Docker's name: busybox:latest."""
        return self.familiar_repo() + (":" + self.tag if self.tag else "@" + self.digest)


class Catalog:
    """images/images.json: the images the lab's pods can run (see its "about")."""

    def __init__(self, path):
        self.path = path
        self.data = None

    def load(self):
        if self.data is None:
            try:
                with open(self.path) as f:
                    self.data = json.load(f)
            except (OSError, ValueError) as e:
                log("error", "Failed to read the image catalog %s: %s" % (self.path, e))
                self.data = {"images": {}}
        return self.data

    def resolve(self, ref, arch):
        """(image, None) or (None, "repository" | "tag" | "platform"): why it cannot be pulled on this node."""
        data = self.load()
        entry = data.get("images", {}).get(ref.repo)
        if entry is None:
            return None, "repository"
        defaults = data.get("defaults", {})
        tags = entry.get("tags", {})
        tag = ref.tag
        if tag is None:
            tag = next((t for t in tags if digest_of(ref.repo, t) == ref.digest), None)
        if tag not in tags or (ref.digest and digest_of(ref.repo, tag) != ref.digest):
            return None, "tag"
        platforms = entry.get("platforms") or defaults.get("platforms") or []
        if "linux/" + arch not in platforms:
            return None, "platform"
        over = tags[tag]
        env = dict(defaults.get("env", {}))
        env.update(entry.get("env", {}))
        return {"repo": ref.repo, "tag": tag, "digest": digest_of(ref.repo, tag),
                "sizeBytes": int(entry.get("sizeBytes") or 0), "entrypoint": list(entry.get("entrypoint") or []),
                "cmd": list(entry.get("cmd") or []), "workingDir": entry.get("workingDir") or "", "env": env,
                "frameworks": dict(over.get("frameworks", entry.get("frameworks", {}))),
                "hostFrameworks": list(over.get("hostFrameworks", entry.get("hostFrameworks", []))),
                "files": dict(entry.get("files", {})), "nvidiaRuntimeFiles": list(entry.get("nvidiaRuntimeFiles", [])),
                "cuda": over.get("cuda", entry.get("cuda"))}, None


def digest_of(repo, tag):
    return "sha256:" + sha256(("k3gpu-lab:%s:%s" % (repo, tag)).encode()).hexdigest()


def pull_error(ref, why, docker, arch):
    """The runtime's words for an image it cannot pull."""
    if docker:
        if why == "repository":
            return ("Error response from daemon: pull access denied for %s, repository does not exist or may "
                    "require 'docker login': denied: requested access to the resource is denied"
                    % ref.familiar_repo())
        if why == "platform":
            return "Error response from daemon: no matching manifest for linux/%s in the manifest list entries" % arch
        return "Error response from daemon: manifest for %s not found: manifest unknown: manifest unknown" \
            % ref.familiar()
    name = ref.canonical()
    if why == "platform":
        return ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": no match for platform in '
                'manifest: not found' % name)
    return ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": failed to resolve reference '
            '"%s": %s: not found' % (name, name, name))
