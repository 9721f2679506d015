#!/usr/bin/python3 -S
"""The k3gpu lab's K3s install mirror: k3s-mirror.py <bind address> <port> <root dir> <pid file>.

Runs detached in the host's network namespace on the lab bridge's address, so every lab node can reach it, and serves
<root dir> (built by io.k3gpu.lab.k3sdist.MirrorContent):
  /install.sh                                          the install script (get.k3s.io's contract)
  /k3s/<version>/{k3s,k3s-arm64,sha256sum-amd64.txt,sha256sum-arm64.txt}
  /k3s-io/k3s/releases/download/<version>/...          the same files where GITHUB_URL (the script's default) puts them
  /k3s-io/k3s/releases/tag/<version>                   a release page (200), where channel redirects end
  /v1-release/channels                                 the channel list, as JSON (update.k3s.io's shape)
  /v1-release/channels/<channel>                       302 to .../releases/tag/<version> (from <root>/channels.json)
Access lines go to stderr (the lab's k3s-mirror.log). SIGTERM stops it.
"""
import http.server
import json
import os
import signal
import sys


def main():
    bind, port, root, pid_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(os.path.join(root, "channels.json")) as f:
        channels = json.load(f)
    base = "http://%s:%d" % (bind, port)

    class Handler(http.server.SimpleHTTPRequestHandler):
        server_version = "k3gpu-lab-mirror"
        sys_version = ""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        def send_plain(self, code, text, ctype="text/plain; charset=utf-8", location=None):
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def route(self):
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/v1-release/channels":
                data = [{"id": c, "type": "channel", "name": c, "latest": v,
                         "links": {"self": base + "/v1-release/channels/" + c}} for c, v in channels.items()]
                self.send_plain(200, json.dumps({"type": "collection", "resourceType": "channels",
                                                 "links": {"self": base + "/v1-release/channels"},
                                                 "data": data}, indent=1) + "\n", "application/json")
                return True
            if path.startswith("/v1-release/channels/"):
                name = path[len("/v1-release/channels/"):]
                version = channels.get(name)
                if version is None:
                    self.send_plain(404, json.dumps({"type": "error", "status": "404", "code": "NotFound",
                                                     "message": "channel not found: " + name}) + "\n",
                                    "application/json")
                else:
                    target = base + "/k3s-io/k3s/releases/tag/" + version
                    self.send_plain(302, '<a href="%s">Found</a>.\n' % target, "text/html; charset=utf-8", target)
                return True
            prefix = "/k3s-io/k3s/releases/tag/"
            if path.startswith(prefix):
                version = path[len(prefix):]
                if version and "/" not in version and os.path.isdir(os.path.join(root, "k3s", version)):
                    self.send_plain(200, "<html><body><h1>k3s %s</h1><p>Simulated release of the k3gpu lab."
                                         "</p></body></html>\n" % version, "text/html; charset=utf-8")
                else:
                    self.send_plain(404, "Not Found\n")
                return True
            return False

        def do_GET(self):
            if not self.route():
                super().do_GET()

        def do_HEAD(self):
            if not self.route():
                super().do_HEAD()

        def list_directory(self, path):
            self.send_error(404, "Not Found")
            return None

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s %s\n" % (self.log_date_time_string(), self.address_string(), fmt % args))
            sys.stderr.flush()

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer((bind, port), Handler)
    server.daemon_threads = True
    tmp = pid_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(tmp, pid_file)
    sys.stderr.write("k3s install mirror serving %s on %s\n" % (root, base))
    sys.stderr.flush()
    server.serve_forever(poll_interval=3600)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    main()
