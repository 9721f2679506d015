"""Pod volumes on the node: emptyDir, configMap, secret (files under the pod's directory) and hostPath."""
import json
import os

from k3sagent.common import ConfigError, FSROOT, P

def b64decode(text):
    from binascii import a2b_base64
    return a2b_base64(text)


class Volumes:
    """PodWorker's volumes (a mixin: self is the PodWorker)."""

    def mount_volumes(self):
        """Each volume's directory on the node (emptyDir, configMap, secret made under the pod's directory)."""
        out = {}
        for v in self.spec.get("volumes") or []:
            name = v.get("name", "")
            if "hostPath" in v:
                out[name] = self.host_path(name, v["hostPath"])
                continue
            if "persistentVolumeClaim" in v:
                out[name] = self.claim_path(name, v["persistentVolumeClaim"].get("claimName", ""))
                continue
            kind = next((k for k in ("configMap", "secret", "emptyDir") if k in v), "emptyDir")
            plugin = {"configMap": "kubernetes.io~configmap", "secret": "kubernetes.io~secret"}.get(
                kind, "kubernetes.io~empty-dir")
            d = os.path.join(self.pod_dir, "volumes", plugin, name)
            if kind in ("configMap", "secret"):
                self.write_keys(d, name, kind, v[kind])
            else:
                os.makedirs(d, exist_ok=True)
            out[name] = d
        return out

    def host_path(self, name, hp):
        path = hp.get("path", "")
        kind = hp.get("type") or ""
        node_path = P(path) if FSROOT else path

        def failed(what):
            raise ConfigError('MountVolume.SetUp failed for volume "%s" : hostPath type check failed: %s is not a %s'
                              % (name, path, what))
        if kind == "DirectoryOrCreate":
            os.makedirs(node_path, 0o755, exist_ok=True)
        elif kind == "FileOrCreate":
            os.makedirs(os.path.dirname(node_path), exist_ok=True)
            open(node_path, "a").close()
        elif kind == "Directory" and not os.path.isdir(node_path):
            failed("directory")
        elif kind == "File" and not os.path.isfile(node_path):
            failed("file")
        elif kind in ("Socket", "CharDevice", "BlockDevice") and not os.path.exists(node_path):
            failed(kind[0].lower() + kind[1:].replace("Device", " device"))
        return node_path

    def claim_path(self, name, claim):
        """A claim's volume (the volume manager's reconciler): its bound PersistentVolume's hostPath or local path,
        made as the hostPath's type says (local-path-provisioner's volumes: DirectoryOrCreate)."""
        st, _, body = self.pods.request("GET", "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (self.ns, claim))
        if st != 200:
            raise ConfigError('Unable to attach or mount volumes: unmounted volumes=[%s]: error processing PVC %s/%s: '
                              'failed to fetch PVC from API server: persistentvolumeclaims "%s" not found'
                              % (name, self.ns, claim, claim))
        volume = (json.loads(body).get("spec") or {}).get("volumeName")
        st, _, body = self.pods.request("GET", "/api/v1/persistentvolumes/%s" % volume) if volume else (404, 0, b"")
        if st != 200:
            raise ConfigError('Unable to attach or mount volumes: unmounted volumes=[%s]: error processing PVC %s/%s: '
                              'PVC is not bound' % (name, self.ns, claim))
        spec = json.loads(body).get("spec") or {}
        if "hostPath" in spec:
            return self.host_path(name, spec["hostPath"])
        path = (spec.get("local") or {}).get("path")
        if not path:
            raise ConfigError('MountVolume.SetUp failed for volume "%s" : the lab mounts only hostPath and local '
                              'PersistentVolumes' % volume)
        return P(path) if FSROOT else path

    def write_keys(self, d, name, kind, src):
        what = src.get("name") if kind == "configMap" else src.get("secretName")
        plural = "configmaps" if kind == "configMap" else "secrets"
        st, _, body = self.pods.request("GET", "/api/v1/namespaces/%s/%s/%s" % (self.ns, plural, what))
        if st != 200:
            if src.get("optional"):
                os.makedirs(d, exist_ok=True)
                return
            raise ConfigError('MountVolume.SetUp failed for volume "%s" : %s "%s" not found'
                              % (name, kind.lower(), what))
        obj = json.loads(body)
        files = {}
        for k, v in (obj.get("data") or {}).items():
            files[k] = b64decode(v) if kind == "secret" else v.encode()
        for k, v in (obj.get("binaryData") or {}).items():
            files[k] = b64decode(v)
        items = src.get("items")
        if items:
            files = {i.get("path", i.get("key")): files[i.get("key")] for i in items if i.get("key") in files}
        mode = src.get("defaultMode", 0o644)
        os.makedirs(d, exist_ok=True)
        for rel, data in files.items():
            target = os.path.join(d, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            os.chmod(target, mode)
