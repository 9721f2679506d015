"""The client side of the agent's HTTPS: one keep-alive connection to the K3s server, Go's error words."""
import errno
import json
import socket
import ssl

from k3sagent.common import VERSION

class GoError(Exception):
    """An error worded as Go's net/http words it."""


def dial_error(host, port, e):
    addr = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
    if isinstance(e, socket.gaierror):
        return "dial tcp: lookup %s: no such host" % host
    if isinstance(e, socket.timeout):
        return "dial tcp %s: i/o timeout" % addr
    words = {errno.ECONNREFUSED: "connection refused", errno.EHOSTUNREACH: "no route to host",
             errno.ENETUNREACH: "network is unreachable", errno.ETIMEDOUT: "connection timed out"}
    return "dial tcp %s: connect: %s" % (addr, words.get(e.errno, (e.strerror or str(e)).lower()))


def tls_error(host, e):
    text = str(getattr(e, "verify_message", "") or e)
    if "hostname" in text or "IP address mismatch" in text:
        return "tls: failed to verify certificate: x509: certificate is not valid for " + host
    return "tls: failed to verify certificate: x509: certificate signed by unknown authority"


class Conn:
    """One HTTPS connection, kept alive between requests (a heartbeat costs no TLS handshake)."""

    def __init__(self, host, port, ctx, auth=None, timeout=10.0):
        self.host, self.port, self.ctx, self.auth, self.timeout = host, port, ctx, auth, timeout
        self.sock = self.rfile = None

    def close(self):
        for c in (self.rfile, self.sock):
            try:
                if c is not None:
                    c.close()
            except OSError:
                pass
        self.sock = self.rfile = None

    def connect(self):
        try:
            raw = socket.create_connection((self.host, self.port), self.timeout)
        except OSError as e:
            raise GoError(dial_error(self.host, self.port, e))
        try:
            self.sock = self.ctx.wrap_socket(raw, server_hostname=self.host)
        except ssl.SSLCertVerificationError as e:
            raw.close()
            raise GoError(tls_error(self.host, e))
        except (OSError, ssl.SSLError) as e:
            raw.close()
            raise GoError("remote error: tls: %s" % (getattr(e, "reason", None) or e))
        self.rfile = self.sock.makefile("rb")

    def request(self, method, path, body=None, ctype="application/json"):
        """(status, reason, body bytes); raises GoError when the server cannot be reached."""
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self.connect()
            try:
                return self.exchange(method, path, body, ctype)
            except (OSError, EOFError) as e:
                self.close()
                if fresh or attempt:
                    if isinstance(e, socket.timeout):
                        raise GoError("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
                    raise GoError("EOF" if isinstance(e, EOFError) else "read tcp %s:%d: %s" % (
                        self.host, self.port, (getattr(e, "strerror", None) or str(e)).lower()))
        raise GoError("EOF")

    def exchange(self, method, path, body, ctype):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        head = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (self.host, self.port),
                "User-Agent: k3s/%s" % VERSION, "Accept: application/json, */*"]
        if self.auth:
            head.append("Authorization: Basic " + self.auth)
        if body is not None:
            head.append("Content-Type: " + ctype)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head.append("Content-Length: %d" % len(data))
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        status_line = self.rfile.readline(65537)
        if not status_line:
            raise EOFError()
        parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        while True:
            h = self.rfile.readline(65537)
            if not h:
                raise EOFError()
            if h in (b"\r\n", b"\n"):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if method == "HEAD" or status in (204, 304):
            payload = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            payload = b"".join(chunks)
        elif "content-length" in headers:
            payload = self.rfile.read(int(headers["content-length"]))
        else:
            payload = self.rfile.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, reason, payload


def insecure_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
