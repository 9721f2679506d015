"""One container of a pod, as the kubelet starts it: its image pulled (or the pull's errors and back-off), its
config from the spec (command and args with $(VAR) expansion, env, envFrom, valueFrom, mounts), then the node's
runtime launches it."""
import json
import os
import time

from k3sagent.common import ConfigError, SHARED, go_duration, rfc3339
from k3sagent.images import pull_error
from k3sagent.volumes import b64decode

PULL_SECONDS = float(os.environ.get("K3GPU_LAB_PULL_SECONDS") or 0.3)
SERVICE_ENV = (("KUBERNETES_SERVICE_HOST", "10.43.0.1"), ("KUBERNETES_SERVICE_PORT", "443"),
               ("KUBERNETES_SERVICE_PORT_HTTPS", "443"), ("KUBERNETES_PORT", "tcp://10.43.0.1:443"),
               ("KUBERNETES_PORT_443_TCP", "tcp://10.43.0.1:443"), ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
               ("KUBERNETES_PORT_443_TCP_PORT", "443"), ("KUBERNETES_PORT_443_TCP_ADDR", "10.43.0.1"))


def expand(text, env):
    """Kubernetes' $(VAR) expansion of command, args and env values ($$ escapes; unknown names stay)."""
    if "$" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i) and text.find(")", i) > 0:
            end = text.find(")", i)
            name = text[i + 2:end]
            out.append(env[name] if name in env else text[i:end + 1])
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class ContainerStart:
    """PodWorker's container starts: pull, create, start."""

    def start_container(self, c):
        p = self.pods
        image = c.ref.text
        if c.ref.error:
            c.reason, c.message = "InvalidImageName", 'Failed to apply default image tag "%s": %s' % (
                image, c.ref.error)
            if c.next_try == 0:
                self.event(c, "Warning", "InspectFailed", c.message)
                self.event(c, "Warning", "Failed", "Error: InvalidImageName")
            c.next_try = time.time() + 10
            return
        policy = c.spec.get("imagePullPolicy") or "IfNotPresent"
        present = p.image_present(c.ref)
        if policy == "Never" and not present:
            c.reason = "ErrImageNeverPull"
            c.message = 'Container image "%s" is not present with pull policy of Never' % image
            self.event(c, "Warning", "ErrImageNeverPull", c.message)
            self.event(c, "Warning", "Failed", "Error: ErrImageNeverPull")
            c.next_try = time.time() + 10
            return
        if present and policy != "Always":
            resolved, why = p.catalog.resolve(c.ref, p.agent.facts.architecture)
            self.event(c, "Normal", "Pulled", 'Container image "%s" already present on machine' % image)
        else:
            self.event(c, "Normal", "Pulling", 'Pulling image "%s"' % image)
            t0 = time.time()
            time.sleep(PULL_SECONDS)
            resolved, why = p.catalog.resolve(c.ref, p.agent.facts.architecture)
            if resolved is None:
                err = pull_error(c.ref, why, p.docker, p.agent.facts.architecture)
                c.reason, c.message = "ErrImagePull", err
                self.event(c, "Warning", "Failed", 'Failed to pull image "%s": %s' % (image, err))
                self.event(c, "Warning", "Failed", "Error: ErrImagePull")
                now = time.time()
                c.backoff_events = (now + 1, [("Normal", "BackOff", 'Back-off pulling image "%s"' % image),
                                              ("Warning", "Failed", "Error: ImagePullBackOff")])
                c.next_try = now + min(10 * 2 ** c.pull_failures, 300)
                c.pull_failures += 1
                return
            took = go_duration(time.time() - t0)
            p.pulled(c.ref, resolved)
            self.event(c, "Normal", "Pulled", 'Successfully pulled image "%s" in %s (%s including waiting). '
                       'Image size: %d bytes.' % (image, took, took, resolved["sizeBytes"]))
        c.pull_failures = 0
        c.backoff_events = None
        c.image = resolved
        try:
            argv, env, cwd, mounts = self.container_config(c)
        except ConfigError as e:
            c.reason, c.message = "CreateContainerConfigError", str(e)
            self.event(c, "Warning", "Failed", "Error: " + str(e))
            c.next_try = time.time() + 10
            return
        (self.docker_launch if p.docker else self.launch)(c, argv, env, cwd, mounts)

    def container_config(self, c):
        p = self.pods
        s, img = c.spec, c.image
        env = dict(img.get("env", {}))
        env["HOSTNAME"] = self.name
        for k, v in SERVICE_ENV:
            env[k] = v
        for src in s.get("envFrom") or []:
            for kind, plural in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
                if kind in src:
                    data = self.lookup(plural, src[kind].get("name"), None, src[kind].get("optional"))
                    for k, v in (data or {}).items():
                        env[src.get("prefix", "") + k] = v
        for e in s.get("env") or []:
            name = e.get("name", "")
            if "valueFrom" in e:
                value = self.value_from(e["valueFrom"])
                if value is None:
                    continue
            else:
                value = expand(e.get("value", ""), env)
            env[name] = value
        env.setdefault("HOME", "/root")
        frameworks = img.get("frameworks") or {}
        real = img.get("hostFrameworks") or []
        if [fw for fw in frameworks if fw not in real]:
            # the SIMULATED packages; a framework in hostFrameworks is the node's real one (Debian's torch)
            shims = [os.path.join(SHARED, "images", "python", fw) for fw in sorted(frameworks) if fw not in real]
            env["PYTHONPATH"] = ":".join(shims + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        if frameworks or img.get("files"):
            env["K3GPU_LAB_IMAGE"] = json.dumps({
                "image": c.ref.canonical(), "frameworks": frameworks, "hostFrameworks": real, "nvidia": self.nvidia,
                "cuda": img.get("cuda") or p.cuda, "gpus": p.gpus if self.nvidia else [],
                "arch": {"arm64": "aarch64", "amd64": "x86_64"}.get(p.agent.facts.architecture,
                                                                    p.agent.facts.architecture)},
                separators=(",", ":"))
        entrypoint = s["command"] if "command" in s else img.get("entrypoint", [])
        args = s["args"] if "args" in s else ([] if "command" in s else img.get("cmd", []))
        argv = [expand(a, env) for a in list(entrypoint or []) + list(args or [])]
        cwd = s.get("workingDir") or img.get("workingDir") or "/"
        # the image's own programs (images/bin/...), read-only where the image has them
        mounts = [{"name": "image", "source": os.path.join(SHARED, "images", src), "target": target,
                   "readOnly": True} for target, src in sorted((img.get("files") or {}).items())]
        for target, src in self.pod_files:
            if not any((m.get("mountPath") or "").rstrip("/") == target for m in s.get("volumeMounts") or []):
                mounts.append({"name": "kubelet", "source": src, "target": target,
                               "readOnly": target.startswith("/var/run/secrets")})
        for m in s.get("volumeMounts") or []:
            src = self.volumes.get(m.get("name"))
            if src is None:
                raise ConfigError('cannot find volume "%s" to mount into container "%s"' % (m.get("name"), c.name))
            if m.get("subPath"):
                src = os.path.join(src, m["subPath"].lstrip("/"))
                if not os.path.exists(src):
                    os.makedirs(src, exist_ok=True)
            ro = bool(m.get("readOnly")) or "/kubernetes.io~configmap/" in src or "/kubernetes.io~secret/" in src
            mounts.append({"name": m.get("name"), "source": src, "target": m.get("mountPath", "/"), "readOnly": ro})
        return argv, env, cwd, mounts

    def value_from(self, vf):
        if "fieldRef" in vf:
            path = vf["fieldRef"].get("fieldPath", "")
            meta = self.pod.get("metadata", {})
            simple = {"metadata.name": self.name, "metadata.namespace": self.ns, "metadata.uid": self.uid,
                      "spec.nodeName": self.pods.node_name, "spec.serviceAccountName":
                      self.spec.get("serviceAccountName", "default"), "status.podIP": self.pods.ip or "",
                      "status.hostIP": self.pods.ip or "", "status.podIPs": self.pods.ip or "",
                      "status.hostIPs": self.pods.ip or ""}
            if path in simple:
                return simple[path]
            for prefix, key in (("metadata.labels['", "labels"), ("metadata.annotations['", "annotations")):
                if path.startswith(prefix) and path.endswith("']"):
                    return (meta.get(key) or {}).get(path[len(prefix):-2], "")
            return ""
        if "resourceFieldRef" in vf:
            res = vf["resourceFieldRef"].get("resource", "")
            f = self.pods.agent.facts
            return str(f.cpus) if res.endswith("cpu") else str(f.memory_kib * 1024) if res.endswith("memory") \
                else "0"
        for kind, plural in (("configMapKeyRef", "configmaps"), ("secretKeyRef", "secrets")):
            if kind in vf:
                ref = vf[kind]
                return self.lookup(plural, ref.get("name"), ref.get("key"), ref.get("optional"))
        return None

    def lookup(self, plural, name, key, optional):
        st, _, body = self.pods.request("GET", "/api/v1/namespaces/%s/%s/%s" % (self.ns, plural, name))
        kind = "configmap" if plural == "configmaps" else "secret"
        if st != 200:
            if optional:
                return None
            raise ConfigError('%s "%s" not found' % (kind, name))
        data = json.loads(body).get("data") or {}
        if plural == "secrets":
            data = {k: b64decode(v).decode("utf-8", "replace") for k, v in data.items()}
        if key is None:
            return data
        if key not in data:
            if optional:
                return None
            raise ConfigError("couldn't find key %s in %s %s/%s" % (key, kind.capitalize() if kind == "secret"
                                                                     else "ConfigMap", self.ns, name))
        return data[key]

    def start_failed(self, c, message, started):
        c.state = "terminated"
        c.term = {"exitCode": 128, "reason": "StartError", "message": message, "startedAt": "1970-01-01T00:00:00Z",
                  "finishedAt": rfc3339(time.time()), "containerID": c.container_id()}
        self.event(c, "Warning", "Failed", "Error: " + message)
