"""The kubelet's container log files: which file /containerLogs serves for a container (current or previous), with
the kubelet's refusals, and the tail of one."""
import os

from k3sagent.common import read_bytes


class PodLogs:
    """Pods' log files (uses Pods' lock and workers)."""

    def log_file(self, namespace, name, container, previous):
        """(status, message, path, container): what /containerLogs serves, with kubelet's refusals."""
        with self.lock:
            w = self.workers.get((namespace, name))
        if w is None:
            return 404, 'pod "%s" does not exist' % name, None, None
        c = next((x for x in w.containers() if x.name == container), None)
        if c is None:
            return 404, 'container "%s" not found in pod "%s"' % (container, name), None, None
        d = os.path.join(w.log_dir, c.name)
        with w.cond:
            state, reason, restarts, last = c.state, c.reason, c.restarts, c.last
            current = c.log_path
        if previous:
            if not last:
                return 400, 'previous terminated container "%s" in pod "%s" not found' % (container, name), None, \
                    None
            return 200, None, os.path.join(d, "%d.log" % (restarts - 1)), None
        if state == "running" or (state == "terminated" and current):
            return 200, None, current, c
        if state == "terminated" or last:
            path = os.path.join(d, "%d.log" % (restarts - 1 if state == "waiting" else restarts))
            if os.path.exists(path):
                return 200, None, path, None
            if state == "terminated":
                return 400, 'container "%s" in pod "%s" is terminated' % (container, name), None, None
        if reason == "ErrImagePull":
            return 400, 'container "%s" in pod "%s" is waiting to start: image can\'t be pulled' % (
                container, name), None, None
        if reason == "ImagePullBackOff":
            return 400, 'container "%s" in pod "%s" is waiting to start: trying and failing to pull image' % (
                container, name), None, None
        return 400, 'container "%s" in pod "%s" is waiting to start: %s' % (container, name, reason), None, None

    @staticmethod
    def following(c, path):
        """Whether more may come to a log file: its container still runs that process."""
        return c is not None and c.state == "running" and c.log_path == path

    def logs(self, namespace, name, container, follow, tail_lines):
        """(HTTP status, text) for a /containerLogs request without follow."""
        code, message, path, _ = self.log_file(namespace, name, container, False)
        if code != 200:
            return code, message
        return 200, tail(read_bytes(path), tail_lines).decode("utf-8", "replace")



def tail(data, lines):
    if lines is None or lines < 0:
        return data
    if lines == 0:
        return b""
    parts = data.splitlines(True)
    return b"".join(parts[-lines:])
