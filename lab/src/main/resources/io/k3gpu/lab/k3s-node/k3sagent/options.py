"""`k3s agent`'s flags, /etc/rancher/k3s/config.yaml (+ config.yaml.d) and K3S_* variables as K3s reads them, and
the K10 join token."""
import json
import os

from k3sagent.common import P, REDACTED, read_text

class UsageError(Exception):
    pass


BOOL, STRING, SLICE = "bool", "string", "slice"
FLAGS = {}


def flag(name, kind, env=None, *aliases):
    f = (name, kind, env)
    FLAGS[name] = f
    for a in aliases:
        FLAGS[a] = f


# acted on
flag("config", STRING, "K3S_CONFIG_FILE", "c")
flag("debug", BOOL, "K3S_DEBUG")
flag("log", STRING, None, "l")
flag("alsologtostderr", BOOL)
flag("token", STRING, "K3S_TOKEN", "t")
flag("token-file", STRING, "K3S_TOKEN_FILE")
flag("server", STRING, "K3S_URL", "s")
flag("data-dir", STRING, "K3S_DATA_DIR", "d")
flag("node-name", STRING, "K3S_NODE_NAME")
flag("with-node-id", BOOL)
flag("node-label", SLICE)
flag("node-taint", SLICE)
flag("node-ip", SLICE, None, "i")
flag("node-external-ip", SLICE)
flag("docker", BOOL)
flag("default-runtime", STRING)
flag("kubelet-arg", SLICE)
# accepted, not simulated
for _n, _e in (("v", None), ("vmodule", None), ("lb-server-port", "K3S_LB_SERVER_PORT"),
               ("resolv-conf", "K3S_RESOLV_CONF"), ("container-runtime-endpoint", None),
               ("image-service-endpoint", None), ("pause-image", None), ("snapshotter", None),
               ("private-registry", None), ("flannel-iface", None), ("flannel-conf", None),
               ("flannel-cni-conf", None), ("image-credential-provider-bin-dir", None),
               ("image-credential-provider-config", None), ("vpn-auth", "K3S_VPN_AUTH"),
               ("vpn-auth-file", "K3S_VPN_AUTH_FILE"), ("cluster-cidr", None)):
    flag(_n, STRING, _e)
for _n in ("kube-proxy-arg", "node-internal-dns", "node-external-dns", "airgap-extra-registry"):
    flag(_n, SLICE)
for _n, _e in (("selinux", "K3S_SELINUX"), ("protect-kernel-defaults", None), ("rootless", None),
               ("prefer-bundled-bin", None), ("disable-apiserver-lb", None),
               ("disable-default-registry-endpoint", None), ("nonroot-devices", None), ("enable-pprof", None)):
    flag(_n, BOOL, _e)

SECRET_FLAGS = ("token", "t", "vpn-auth")


def scan(args, lenient):
    """Flags by canonical name: list flags keep every value, the others their last."""
    values = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        if not a.startswith("-") or a == "-":
            if lenient:
                i += 1
                continue
            raise UsageError('unexpected argument "%s"' % a)
        body = a[2:] if a.startswith("--") else a[1:]
        value = None
        if "=" in body:
            body, value = body.split("=", 1)
        f = FLAGS.get(body)
        if f is None:
            if lenient:
                i += 1
                continue
            raise UsageError("flag provided but not defined: -" + body)
        name, kind, _ = f
        if kind == BOOL:
            if value is None:
                value = "true"
            elif value.lower() not in ("true", "false", "1", "0"):
                raise UsageError('invalid boolean value "%s" for -%s: parse error' % (value, body))
            value = "true" if value.lower() in ("true", "1") else "false"
        elif value is None:
            if i + 1 >= len(args):
                if lenient:
                    break
                raise UsageError("flag needs an argument: -" + body)
            i += 1
            value = args[i]
        if kind == SLICE:
            values.setdefault(name, []).append(value)
        else:
            values[name] = [value]
        i += 1
    return values


def strip_comment(line):
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def yaml_scalar(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] == "'":
        return v[1:-1].replace("''", "'")
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    low = v.lower()
    if low in ("yes", "on", "true"):
        return "true"
    if low in ("no", "off", "false"):
        return "false"
    return v


def yaml_flow_list(v):
    items, cur, quote = [], [], None
    for c in v:
        if quote:
            cur.append(c)
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            cur.append(c)
        elif c == ",":
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        items.append("".join(cur))
    return [yaml_scalar(x) for x in items]


def parse_yaml(text):
    """The flat part of a K3s config file: top-level keys with a scalar or a list (block or flow) value."""
    out = {}
    key = None
    for raw in text.splitlines():
        line = strip_comment(raw).rstrip()
        s = line.strip()
        if not s or s in ("---", "..."):
            continue
        if line[0] in " \t-":
            if key is not None and isinstance(out.get(key), list) and s.startswith("-"):
                out[key].append(yaml_scalar(s[1:]))
            continue
        k, sep, v = line.partition(":")
        if not sep:
            continue
        key = yaml_scalar(k)
        v = v.strip()
        if v == "":
            out[key] = []
        elif v.startswith("[") and v.endswith("]"):
            out[key] = yaml_flow_list(v[1:-1])
        else:
            out[key] = yaml_scalar(v)
    return out


def config_args(path, explicit):
    """config.yaml then config.yaml.d/*.yaml (sorted; key+ appends) as --flag=value arguments."""
    merged = {}
    texts = []
    main = read_text(path)
    if main is None and explicit:
        raise UsageError("open %s: no such file or directory" % path)
    if main is not None:
        texts.append(main)
    d = path + ".d"
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            if n.endswith((".yaml", ".yml")):
                t = read_text(os.path.join(d, n))
                if t is not None:
                    texts.append(t)
    for t in texts:
        for k, v in parse_yaml(t).items():
            if k.endswith("+"):
                k = k[:-1]
                prior = merged.get(k)
                merged[k] = (prior if isinstance(prior, list) else [] if prior is None else [prior]) + \
                    (v if isinstance(v, list) else [v])
            else:
                merged[k] = v
    out = []
    for k, v in merged.items():
        f = FLAGS.get(k)
        if f is None:
            continue  # server keys in a shared config file
        for item in v if isinstance(v, list) else [v]:
            out.append("--%s=%s" % (f[0], item))
    return out


class Options:
    def __init__(self, values, node_args):
        self.values = values
        self.node_args = node_args

    def string(self, name):
        v = self.values.get(name)
        return v[-1] if v else None

    def list(self, name):
        """A list flag's values; address lists may also be comma-separated, as K3s splits them."""
        values = self.values.get(name, [])
        if name not in ("node-ip", "node-external-ip"):
            return list(values)
        return [x.strip() for v in values for x in v.split(",") if x.strip()]

    def bool(self, name):
        return self.string(name) == "true"


def redacted(args):
    out, hide = ["agent"], False
    for a in args:
        if hide:
            out.append(REDACTED)
            hide = False
            continue
        name = a.lstrip("-")
        bare = name.split("=", 1)[0]
        secret = a.startswith("-") and bare in SECRET_FLAGS
        if secret and "=" in name:
            out.append(a.split("=", 1)[0] + "=" + REDACTED)
        else:
            out.append(a)
            hide = secret
    return out


EMBEDDED_ENV = "K3GPU_LAB_EMBEDDED_AGENT"


def embedded(env):
    """What the lab's `k3s server` tells its embedded agent (K3s's pkg/cli/server/server.go runs agent.Run in the
    server process with the server's agent flags; the lab's server is a JVM, so the agent is its child process):
    JSON {"nodeArgs": [...], "etcd": bool, "podCIDR": str|null} in K3GPU_LAB_EMBEDDED_AGENT, or None for `k3s agent`.
    The variable is removed so that nothing the agent starts inherits it."""
    text = env.pop(EMBEDDED_ENV, None)
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        raise UsageError("invalid %s" % EMBEDDED_ENV)
    return {"nodeArgs": list(doc.get("nodeArgs") or ["server"]), "etcd": bool(doc.get("etcd")),
            "podCIDR": doc.get("podCIDR")}


def parse_options(args, env):
    cli = scan(args, True)
    config = (cli.get("config") or [None])[-1] or env.get("K3S_CONFIG_FILE")
    from_config = config_args(config or P("/etc/rancher/k3s/config.yaml"), config is not None)
    full = from_config + list(args)
    values = scan(full, False)
    for f in set(FLAGS.values()):
        name, _, var = f
        if var and name not in values and env.get(var):
            values[name] = [env[var]]
    return Options(values, redacted(full))


AGENT_HELP = "NAME:\n   k3s agent - Run node agent\n\nUSAGE:\n   k3s agent [OPTIONS]"


NORMALIZE = ("failed to normalize server token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> "
             "or <PASSWORD>")


def parse_token(token):
    """(CA hash or None, password) of a K10 token or a bare password, as K3s's clientaccess parses them."""
    t = token.strip()
    if not t.startswith("K10"):
        alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
        if len(t) == 23 and t[6] == "." and all(c in alnum for c in t[:6] + t[7:]):
            raise ValueError(NORMALIZE)
        return None, t
    rest = t[3:]
    ca_hash = None
    if "::" in rest:
        ca_hash, rest = rest.split("::", 1)
        if ca_hash and len(ca_hash) != 64:
            raise ValueError("invalid token CA hash length")
    c = rest.find(":")
    if c < 0 or c == len(rest) - 1:
        raise ValueError(NORMALIZE)
    return ca_hash or None, rest[c + 1:]
