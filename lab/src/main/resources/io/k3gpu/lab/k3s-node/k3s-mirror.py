#!/usr/bin/python3 -S
"""The k3gpu lab's K3s install mirror:
k3s-mirror.py <bind address> <port> <root dir> <pid file> [<https port> <certificate chain> <key>].

Runs detached in the host's network namespace on the lab bridge's address, so every lab node can reach it, and serves
<root dir> (built by io.k3gpu.lab.k3sdist.MirrorContent) over plain HTTP on <port>:
  /install.sh                                          the install script (get.k3s.io's contract)
  /k3s/<version>/{k3s,k3s-arm64,sha256sum-amd64.txt,sha256sum-arm64.txt}
  /k3s-io/k3s/releases/download/<version>/...          the same files where GITHUB_URL puts them
  /k3s-io/k3s/releases/tag/<version>                   a release page (200), where channel redirects end
  /v1-release/channels                                 the channel list, as JSON (update.k3s.io's shape)
  /v1-release/channels/<channel>                       302 to .../releases/tag/<version> (from <root>/channels.json)
With the HTTPS arguments it also answers on <https port> of the same address for the hosts the real install script
reaches with its defaults (lab nodes resolve them to this address, and trust the lab's CA that signed the chain):
  https://get.k3s.io/                                  the install script
  https://update.k3s.io/v1-release/channels[/<channel>]  as above; the channel's 302 goes to github.com's release page,
                                                       as rancher/channelserver's redirectBase does
  https://github.com/k3s-io/k3s/releases/tag/<version>   the release page
  https://github.com/k3s-io/k3s/releases/download/<version>/<asset>
                                                       302 to release-assets.githubusercontent.com, as GitHub does
  https://release-assets.githubusercontent.com/github-production-release-asset/k3s-io/k3s/<version>/<asset>
                                                       the file (the lab's own path under GitHub's asset host)
Any other Host over HTTPS gets the plain HTTP tree. Access lines go to stderr (the lab's k3s-mirror.log).
SIGTERM stops it.
"""
import http.server
import json
import os
import signal
import ssl
import sys
import threading

GITHUB = "https://github.com"
ASSETS = "https://release-assets.githubusercontent.com"
ASSET_PREFIX = "/github-production-release-asset/k3s-io/k3s/"
RELEASES = "/k3s-io/k3s/releases/"


def main():
    bind, port, root, pid_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    https_port, chain, key = (int(sys.argv[5]), sys.argv[6], sys.argv[7]) if len(sys.argv) > 7 else (None, None, None)
    with open(os.path.join(root, "channels.json")) as f:
        channels = json.load(f)
    plain_base = "http://%s:%d" % (bind, port)

    def release_file(version, asset):
        """The file of a release asset, or None (no path tricks: one name each)."""
        if not version or not asset or "/" in version or "/" in asset or version[0] == "." or asset[0] == ".":
            return None
        f = os.path.join(root, "k3s", version, asset)
        return f if os.path.isfile(f) else None

    class Handler(http.server.SimpleHTTPRequestHandler):
        server_version = "k3gpu-lab-mirror"
        sys_version = ""
        https = False

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        def host(self):
            return (self.headers.get("Host") or "").split(":", 1)[0].lower() if self.https else ""

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

        def redirect(self, target):
            # what Go's http.Redirect writes for a GET: 302 and a one-line HTML body
            self.send_plain(302, '<a href="%s">Found</a>.\n\n' % target.replace("&", "&amp;"),
                            "text/html; charset=utf-8", target)

        def serve(self, rel):
            """The file at <root>/<rel> through SimpleHTTPRequestHandler (its headers, HEAD, Range-less GET)."""
            self.path = "/" + rel
            return False

        def channels(self, path, base, tag_base):
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
                    self.redirect(tag_base + version)
                return True
            return False

        def release_page(self, path):
            if path.startswith(RELEASES + "tag/"):
                version = path[len(RELEASES + "tag/"):]
                if version and "/" not in version and os.path.isdir(os.path.join(root, "k3s", version)):
                    self.send_plain(200, "<html><body><h1>k3s %s</h1><p>Simulated release of the k3gpu lab."
                                         "</p></body></html>\n" % version, "text/html; charset=utf-8")
                else:
                    self.send_plain(404, "Not Found\n")
                return True
            return False

        def route(self):
            """True when answered here; False to serve self.path from the tree."""
            path = self.path.split("?", 1)[0].rstrip("/")
            host = self.host()
            if host == "get.k3s.io":
                if path == "":
                    return self.serve("install.sh")
                self.send_plain(404, "Not Found\n")
                return True
            if host == "update.k3s.io":
                if not self.channels(path, "https://update.k3s.io", GITHUB + RELEASES + "tag/"):
                    self.send_plain(404, "Not Found\n")
                return True
            if host == "github.com":
                if self.release_page(path):
                    return True
                if path.startswith(RELEASES + "download/"):
                    parts = path[len(RELEASES + "download/"):].split("/")
                    if len(parts) == 2 and release_file(*parts):
                        self.redirect(ASSETS + ASSET_PREFIX + parts[0] + "/" + parts[1]
                                      + "?response-content-disposition=attachment%3B%20filename%3D" + parts[1]
                                      + "&response-content-type=application%2Foctet-stream")
                        return True
                self.send_plain(404, "Not Found\n")
                return True
            if host == "release-assets.githubusercontent.com":
                parts = path[len(ASSET_PREFIX):].split("/") if path.startswith(ASSET_PREFIX) else []
                if len(parts) == 2 and release_file(*parts):
                    return self.serve("k3s/" + parts[0] + "/" + parts[1])
                self.send_plain(404, "Not Found\n")
                return True
            base = "https://%s" % bind if self.https else plain_base
            return self.channels(path, base, base + RELEASES + "tag/") or self.release_page(path)

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
            host = (" " + self.host()) if self.https else ""
            sys.stderr.write("%s %s%s %s\n" % (self.log_date_time_string(), self.address_string(), host, fmt % args))
            sys.stderr.flush()

    class HttpsHandler(Handler):
        https = True

    class Server(http.server.ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True

        def handle_error(self, request, client_address):
            # a client that refuses the certificate, or hangs up: one line, no traceback
            sys.stderr.write("%s: %s\n" % (client_address[0], sys.exc_info()[1]))
            sys.stderr.flush()

    server = Server((bind, port), Handler)
    if https_port is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain, key)
        secure = Server((bind, https_port), HttpsHandler)
        # the handshake happens on the first read, in the request's own thread, not in the accepting one
        secure.socket = ctx.wrap_socket(secure.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=secure.serve_forever, kwargs={"poll_interval": 3600}, daemon=True).start()
    tmp = pid_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(tmp, pid_file)
    sys.stderr.write("k3s install mirror serving %s on %s%s\n" % (
        root, plain_base, "" if https_port is None else " and https://%s:%d" % (bind, https_port)))
    sys.stderr.flush()
    server.serve_forever(poll_interval=3600)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    main()
