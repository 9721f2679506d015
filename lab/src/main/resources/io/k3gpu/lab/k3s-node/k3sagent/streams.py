"""kubelet's streaming: exec, attach and port-forward for the API server (kubectl exec / attach / port-forward).

The API server speaks kubectl's protocols (WebSocket v5 channels, SPDY/3.1); between it and the kubelet runs the
lab's own, after `POST /exec|/attach/<ns>/<pod>/<container>?<query>` or `POST /portForward/<ns>/<pod>?port=<n>` and
`101`: frames [channel:1][length:4 big-endian][bytes] both ways on remotecommand v5's channels (0 stdin, 1 stdout,
2 stderr, 3 status / error, 4 resize, 255 close of the channel in its one byte). What kubelet's cri streaming server
does is followed: exec runs the command in the container (runtime.exec_command) and ends with the metav1.Status of
its exit (NonZeroExitCode with an ExitCode cause), attach streams what the container writes and feeds its stdin
(spec.stdin), port-forward connects to 127.0.0.1:<port> in the pod's network namespace (the node's: the lab's pods
share it)."""
import errno
import fcntl
import json
import os
import pty
import select
import signal
import socket
import ssl
import struct
import subprocess
import termios
import time

from k3sagent.runtime import exec_command, close_stdin

STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def parse_query(query):
    from k3sagent.kubelet import unquote_url
    out = {}
    for kv in query.split("&"):
        if kv:
            k, _, v = kv.partition("=")
            out.setdefault(unquote_url(k.replace("+", " ")), []).append(unquote_url(v.replace("+", " ")))
    return out


def flag(q, name):
    return (q.get(name) or ["false"])[-1] in ("true", "1")


def status_success():
    return {"metadata": {}, "status": "Success"}


def status_exit(argv, code):
    """What kubelet's ServeExec writes for a command that exited non-zero (remotecommand/exec.go, v1.31)."""
    return {"metadata": {}, "status": "Failure",
            "message": "command terminated with non-zero exit code: command '%s' exited with %d: " % (
                " ".join(argv), code),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "%d" % code}]}}


def status_internal(message):
    return {"metadata": {}, "status": "Failure", "message": "Internal error occurred: " + message,
            "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500}


class Conn:
    """The upgraded TLS connection to the API server: non-blocking, framed."""

    def __init__(self, s):
        self.s = s
        s.setblocking(False)
        self.buf = b""
        self.eof = False

    def fileno(self):
        return self.s.fileno()

    def ready(self):
        return self.s.pending() > 0

    def frames(self):
        """The frames that have come (reads what is there; sets eof when the peer is gone)."""
        while True:
            try:
                data = self.s.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                break
            except (OSError, ssl.SSLError):
                self.eof = True
                break
            if not data:
                self.eof = True
                break
            self.buf += data
            if self.s.pending() == 0:
                break
        out = []
        while len(self.buf) >= 5:
            n = struct.unpack(">I", self.buf[1:5])[0]
            if len(self.buf) < 5 + n:
                break
            out.append((self.buf[0], self.buf[5:5 + n]))
            self.buf = self.buf[5 + n:]
        return out

    def send(self, channel, data):
        data = bytes([channel]) + struct.pack(">I", len(data)) + data
        while data:
            try:
                n = self.s.send(data)
                data = data[n:]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                select.select([], [self.s], [], 1)

    def status(self, obj):
        self.send(STATUS, json.dumps(obj, separators=(",", ":")).encode())


def refuse(s, code, message):
    body = message.encode()
    s.sendall(("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
               "Connection: close\r\n\r\n" % (code, {404: "Not Found", 400: "Bad Request"}.get(code, "Error"),
                                             len(body))).encode() + body)


def accept(s):
    s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: k3gpu-lab-stream\r\n\r\n")
    return Conn(s)


def serve(pods, s, kind, parts, query):
    """One streaming request on kubelet socket s (TLS, request line and headers read)."""
    q = parse_query(query)
    if kind == "portForward" and len(parts) == 3:
        return port_forward(pods, s, parts[1], parts[2], q)
    if kind in ("exec", "attach") and len(parts) == 4:
        c = pods.running_container(parts[1], parts[2], parts[3])
        if c is None:
            # kubelet's GetExec / GetAttach for a container the runtime does not run
            return refuse(s, 404, 'container not found ("%s")' % parts[3])
        if kind == "exec":
            return run_exec(s, c, q)
        return run_attach(pods, s, c, q)
    refuse(s, 404, "404 page not found")


def run_exec(s, c, q):
    argv = q.get("command") or []
    if not argv:
        return refuse(s, 400, "you must specify at least 1 command")
    tty = flag(q, "tty")
    want_in = flag(q, "stdin") or flag(q, "input")
    want_err = flag(q, "stderr") or flag(q, "error")  # without it the command's stderr is dropped, as kubelet does
    cmd, env = exec_command(c, argv, tty)
    conn = accept(s)
    master = None
    early = []
    try:
        if tty:
            master, slave = pty.openpty()
            # the terminal's size first: kubectl sends it as soon as the stream is up (docker's exec takes it at
            # create as ConsoleSize), so the command starts with it
            deadline = time.monotonic() + 0.5
            while not any(ch == RESIZE for ch, _ in early) and not conn.eof and time.monotonic() < deadline:
                if conn.ready() or select.select([conn], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    early += conn.frames()
            for ch, data in early:
                if ch == RESIZE:
                    resize(master, data)
            proc = subprocess.Popen(["setsid", "--wait", "--ctty"] + cmd, stdin=slave, stdout=slave, stderr=slave,
                                    env=env, close_fds=True)
            os.close(slave)
            outs = {master: STDOUT}
            stdin_fd = master if want_in else None
        else:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if want_in else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, close_fds=True,
                                    start_new_session=True)
            outs = {proc.stdout.fileno(): STDOUT, proc.stderr.fileno(): STDERR}
            stdin_fd = proc.stdin.fileno() if want_in else None
    except OSError as e:
        conn.status(status_internal("error executing command in container: %s" % e))
        if master is not None:
            os.close(master)
        return
    exited_at = None
    while True:
        if conn.eof:
            # the client went away: the command goes with it (a terminal would hang up)
            try:
                if tty:
                    proc.kill()
                else:
                    os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            break
        rl = [conn] + list(outs)
        r = [conn] if conn.ready() else select.select(rl, [], [], 0.2)[0]
        for fd in [x for x in r if x is not conn]:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                if outs[fd] != STDERR or want_err:
                    conn.send(outs[fd], data)
            else:
                del outs[fd]
        if conn in r or early:
            frames, early = [f for f in early if f[0] != RESIZE] + (conn.frames() if conn in r else []), []
            for ch, data in frames:
                if ch == STDIN and stdin_fd is not None and data:
                    try:
                        os.write(stdin_fd, data)
                    except OSError:
                        pass
                elif ch == CLOSE and data[:1] == b"\x00" and stdin_fd is not None:
                    if tty:
                        os.write(master, b"\x04")  # end of input on a terminal
                    else:
                        proc.stdin.close()
                    stdin_fd = None
                elif ch == RESIZE and master is not None:
                    resize(master, data)
        if proc.poll() is not None:
            # output still buffered in the pipes comes first; a background child may keep them open: not waited for
            exited_at = exited_at or time.monotonic()
            if not outs or time.monotonic() - exited_at > 0.5:
                break
    code = proc.wait()
    if code < 0:
        code = 128 - code
    if not conn.eof:
        conn.status(status_success() if code == 0 else status_exit(argv, code))
    if master is not None:
        os.close(master)


def resize(fd, data):
    try:
        size = json.loads(data)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(size.get("Height", 0)),
                                                        int(size.get("Width", 0)), 0, 0))
    except (ValueError, OSError, AttributeError):
        pass


def run_attach(pods, s, c, q):
    """What the container writes from now on (its log, stdout and stderr as the runtime wrote them), stdin to its
    process when the spec has stdin; ends when the container does."""
    path = c.log_path
    want_in = flag(q, "stdin") or flag(q, "input")
    try:
        f = open(path, "rb")
    except (OSError, TypeError):
        return refuse(s, 404, 'container not found ("%s")' % c.name)
    conn = accept(s)
    with f:
        f.seek(0, os.SEEK_END)
        while not conn.eof:
            data = f.read(65536)
            if data:
                conn.send(STDOUT, data)
                continue
            if not pods.following(c, path):
                data = f.read()
                if data:
                    conn.send(STDOUT, data)
                conn.status(status_success())
                return
            r = [conn] if conn.ready() else select.select([conn], [], [], 0.2)[0]
            if r:
                for ch, data in conn.frames():
                    if ch == STDIN and want_in and c.stdin_w is not None and data:
                        try:
                            os.write(c.stdin_w, data)
                        except OSError:
                            pass
                    elif ch == CLOSE and data[:1] == b"\x00" and want_in and c.spec.get("stdinOnce"):
                        close_stdin(c)  # stdinOnce: the first attach's end closes the container's stdin


def port_forward(pods, s, namespace, name, q):
    w = pods.worker(namespace, name)
    if w is None:
        return refuse(s, 404, 'pod "%s" does not exist' % name)
    try:
        port = int((q.get("port") or [""])[-1])
    except ValueError:
        return refuse(s, 400, "invalid port")
    conn = accept(s)
    try:
        pod_conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        netns = "/proc/%d/ns/net" % os.getpid()
        why = os.strerror(e.errno).lower() if e.errno else str(e)
        if e.errno == errno.ECONNREFUSED:
            why = "connection refused"
        conn.send(STATUS, ("error forwarding port %d to pod %s, uid : failed to execute portforward in network "
                           "namespace \"%s\": failed to connect to localhost:%d inside namespace \"%s\", IPv4: dial "
                           "tcp4 127.0.0.1:%d: connect: %s IPv6 dial tcp6 [::1]:%d: connect: %s " % (
                               port, w.uid, netns, port, netns, port, why, port, why)).encode())
        return
    pod_conn.setblocking(False)
    with pod_conn:
        while not conn.eof:
            r = [conn] if conn.ready() else select.select([conn, pod_conn], [], [], 1)[0]
            if pod_conn in r:
                try:
                    data = pod_conn.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    return  # the pod's side closed: the streams end
                if data:
                    conn.send(STDOUT, data)
            if conn in r:
                for ch, data in conn.frames():
                    if ch == STDIN and data:
                        pod_conn.setblocking(True)
                        try:
                            pod_conn.sendall(data)
                        except OSError:
                            return
                        finally:
                            pod_conn.setblocking(False)
                    elif ch == CLOSE and data[:1] == b"\x00":
                        try:
                            pod_conn.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
