"""A pod's status as the kubelet reports it: the phase (kubelet's getPhase), the conditions with their transition
times and the containers' statuses, patched to the server when they changed."""
import json
import time

from k3sagent.common import klog, utc_now


class PodStatus:
    """PodWorker's status: its phase and conditions, and the patch of pods/status."""

    def compute_phase(self):
        """kubelet's getPhase."""
        if self.done:
            return self.phase
        for c in self.inits:
            if not c.succeeded():
                if c.state == "terminated" and self.policy == "Never":
                    return "Failed"
                return "Pending"
        waiting = running = stopped = succeeded = 0
        for c in self.mains:
            if c.state == "running":
                running += 1
            elif c.state == "terminated":
                stopped += 1
                succeeded += c.term["exitCode"] == 0
            elif c.last is not None:
                stopped += 1
            else:
                waiting += 1
        if waiting:
            return "Pending"
        if running:
            return "Running"
        if self.policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if self.policy == "Never" else "Running"

    def condition(self, ctype, status, reason=None, message=None):
        prev = self.transitions.get(ctype)
        t = prev[1] if prev and prev[0] == status and prev[1] else utc_now()
        self.transitions[ctype] = (status, t)
        c = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": t}
        if reason:
            c["reason"] = reason
        if message:
            c["message"] = message
        return c

    def status(self):
        p = self.pods
        phase = self.compute_phase()
        terminal = phase in ("Succeeded", "Failed")
        conds = [self.condition("PodReadyToStartContainers", "True" if self.sandbox and not terminal else "False")]
        incomplete = [c.name for c in self.inits if not c.succeeded()]
        if not self.inits:
            conds.append(self.condition("Initialized", "True"))
        elif phase == "Succeeded":
            conds.append(self.condition("Initialized", "True", "PodCompleted"))
        elif incomplete and not any(c.state != "waiting" or c.last for c in self.mains):
            conds.append(self.condition("Initialized", "False", "ContainersNotInitialized",
                                        "containers with incomplete status: [%s]" % " ".join(incomplete)))
        else:
            conds.append(self.condition("Initialized", "True"))
        unready = [c.name for c in self.mains if not c.ready()]
        for ctype in ("Ready", "ContainersReady"):
            if phase == "Succeeded":
                conds.append(self.condition(ctype, "False", "PodCompleted"))
            elif unready:
                conds.append(self.condition(ctype, "False", "ContainersNotReady",
                                            "containers with unready status: [%s]" % " ".join(unready)))
            else:
                conds.append(self.condition(ctype, "True"))
        sched = next((x for x in self.pod.get("status", {}).get("conditions") or []
                      if x.get("type") == "PodScheduled"), None)
        conds.append(sched if sched else self.condition("PodScheduled", "True"))
        status = {"phase": phase, "conditions": conds}
        if p.ip:
            status["hostIP"] = p.ip
            status["hostIPs"] = [{"ip": p.ip}]
            if self.sandbox or any(c.state != "waiting" for c in self.containers()):
                status["podIP"] = p.ip
                status["podIPs"] = [{"ip": p.ip}]
        if self.start_time:
            status["startTime"] = self.start_time
        if self.inits:
            status["initContainerStatuses"] = [c.status() for c in self.inits]
        status["containerStatuses"] = [c.status() for c in self.mains]
        return status

    def write_status(self):
        with self.cond:
            status = self.status()
        text = json.dumps(status, sort_keys=True)
        if text == self.written:
            return
        st, reason, body = self.pods.request("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (self.ns, self.name),
                                             {"status": status}, "application/merge-patch+json")
        if st == 200:
            self.written = text
        elif st != 404:
            klog("E", "status_manager.go:851", "Failed to update status for pod",
                 pod="%s/%s" % (self.ns, self.name), err="%s %s" % (st, reason))
            self.wake_at(time.time() + 2)
