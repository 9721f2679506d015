/**
 * The control plane of the simulated K3s server: what kube-scheduler, kube-controller-manager (Job, TTL-after-finished,
 * DaemonSet, Deployment, ReplicaSet, garbage collector, pod GC, node lifecycle, taint eviction) and the API server's admission and deletion do, started
 * by {@code K3sServer} on the first server ({@link io.k3gpu.lab.k3s.controllers.Controllers}).
 *
 * <h2>What a node agent (kubelet) must do</h2>
 * The simulated agent mirrors the kubelet; the server relies on exactly this:
 * <ol>
 *   <li><b>Heartbeats.</b> {@code PATCH /api/v1/nodes/<node>/status} (merge patch) with all four conditions and a
 *   fresh {@code lastHeartbeatTime}, and/or renew {@code kube-node-lease/<node>} ({@code spec.renewTime}), at least
 *   every 40 s (every 10 s is what K3s does). After 40 s of silence (60 s for a node that never posted Ready) the node
 *   lifecycle controller sets Ready/MemoryPressure/DiskPressure/PIDPressure to Unknown ("Kubelet stopped posting
 *   node status.") and taints the node {@code node.kubernetes.io/unreachable} (NoSchedule and NoExecute); a
 *   heartbeat with Ready=True removes the taints. Never PUT the whole Node (it would drop the server's taints);
 *   never write {@code spec.taints} in a heartbeat.</li>
 *   <li><b>Allocatable.</b> {@code status.allocatable} must carry {@code pods} (else every pod is "Too many pods"),
 *   {@code cpu}, {@code memory}, and {@code nvidia.com/gpu} where pods may use the GPU; the scheduler counts the
 *   requests of the node's bound, non-finished pods against it.</li>
 *   <li><b>Which pods.</b> The pods with {@code spec.nodeName=<node>} (list or watch with that field selector). The
 *   scheduler sets {@code spec.nodeName} and {@code PodScheduled=True} and leaves {@code phase: Pending}; a pod
 *   created with {@code spec.nodeName} skips the scheduler and has no PodScheduled condition: the kubelet adds
 *   {@code PodScheduled=True} when it first writes the pod's status.</li>
 *   <li><b>Pod status.</b> Always {@code PATCH /api/v1/namespaces/<ns>/pods/<pod>/status} with
 *   {@code application/merge-patch+json} (lists are replaced whole: send all of {@code conditions},
 *   {@code initContainerStatuses}, {@code containerStatuses}); never PUT a pod. As kubelet writes it:
 *   <ul>
 *     <li>starting: {@code phase: Pending}, {@code hostIP}, {@code hostIPs}, {@code startTime}, conditions
 *     PodReadyToStartContainers, Initialized (False, reason ContainersNotInitialized while init containers run),
 *     Ready and ContainersReady False (reason ContainersNotReady), PodScheduled True; init container statuses
 *     {@code state.running} / {@code state.terminated} in order, the containers waiting with reason
 *     {@code PodInitializing}; then the containers waiting with reason {@code ContainerCreating};</li>
 *     <li>image trouble: {@code state.waiting.reason} {@code ErrImagePull} (message: the pull error), then
 *     {@code ImagePullBackOff} (message {@code Back-off pulling image "<image>"}); phase stays Pending;</li>
 *     <li>running: {@code phase: Running}, {@code podIP} and {@code podIPs: [{ip}]} (kubectl shows {@code podIPs}),
 *     {@code state.running.startedAt}, {@code ready: true}, {@code started: true}, conditions Ready and
 *     ContainersReady True;</li>
 *     <li>exited: {@code state.terminated} with {@code exitCode}, {@code reason} {@code Completed} (0) or
 *     {@code Error} (otherwise; {@code OOMKilled} when killed for memory), {@code startedAt}, {@code finishedAt};
 *     with restartPolicy Never: {@code phase: Succeeded} when every container exited 0, else {@code Failed}; a
 *     failed init container fails the pod ({@code Init:Error}); Ready False with reason {@code PodCompleted}.</li>
 *   </ul>
 *   kubectl's STATUS column (ContainerCreating, Init:0/1, Init:ErrImagePull, ErrImagePull, ImagePullBackOff, Running,
 *   Completed, Error, Terminating) is derived from exactly these fields. The Job controller reads {@code phase} only:
 *   Succeeded completes the Job, Failed counts against {@code backoffLimit}.</li>
 *   <li><b>Deletion.</b> A pod deleted through the API while bound to a Ready node (other than the server's own) and
 *   not finished is not removed: it gets {@code metadata.deletionTimestamp} (now + grace) and
 *   {@code deletionGracePeriodSeconds} (the DELETE's {@code gracePeriodSeconds}, else the pod's
 *   {@code terminationGracePeriodSeconds}, 30), and stays, Terminating, until its kubelet confirms. On seeing
 *   {@code deletionTimestamp}, the agent stops the pod's processes (SIGTERM, SIGKILL after
 *   {@code deletionGracePeriodSeconds}), may write the final container states (terminated, exit 137/143, reason
 *   Error) with a merge patch, and then sends
 *   {@code DELETE /api/v1/namespaces/<ns>/pods/<pod>} with body
 *   {@code {"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0}} (or {@code ?gracePeriodSeconds=0});
 *   the pod is then gone (a DELETED watch event). A plain DELETE without 0 does not finish it. Pods that are
 *   unbound, Succeeded/Failed, or on a node that is gone or not Ready are removed at once — so a pod can also vanish
 *   from the node's list without a deletionTimestamp ever being seen: the agent must then kill what it still runs
 *   for it. Finished pods stay until someone deletes them (Jobs keep theirs); the agent keeps their logs meanwhile.</li>
 *   <li><b>Evictions.</b> Pods on a node tainted unreachable/not-ready are deleted after their tolerationSeconds
 *   (300 s by default) with a DisruptionTarget condition; by then the node is not Ready, so they go at once.</li>
 * </ol>
 *
 * <h2>Messages</h2>
 * Scheduler (PodScheduled=False reason Unschedulable, and a Warning FailedScheduling event from default-scheduler):
 * {@code 0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector.
 * preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful
 * for scheduling.}; reasons: {@code node(s) were unschedulable}, {@code node(s) had untolerated taint {key: value}},
 * {@code node(s) didn't match Pod's node affinity/selector}, {@code node(s) didn't have free ports for the requested
 * pod ports}, {@code Too many pods}, {@code Insufficient cpu|memory|ephemeral-storage|<resource>};
 * {@code no nodes available to schedule pods} without nodes. Success: Normal Scheduled
 * {@code Successfully assigned <ns>/<pod> to <node>}. A pending pod is tried again on every Node change (a device
 * plugin making {@code nvidia.com/gpu} allocatable) and on each tick. Admission: 403 {@code pods "x" is forbidden: pod rejected:
 * RuntimeClass "nvidia" not found}. Job events (job-controller): SuccessfulCreate {@code Created pod: x},
 * FailedCreate {@code Error creating: ...}, SuccessfulDelete {@code Deleted pod: x}, Completed {@code Job completed},
 * Warning BackoffLimitExceeded {@code Job has reached the specified backoff limit}, Warning DeadlineExceeded
 * {@code Job was active longer than specified deadline}. DaemonSet events (daemonset-controller): SuccessfulCreate
 * {@code Created pod: x}, FailedCreate {@code Error creating: ...}, SuccessfulDelete {@code Deleted pod: x}, Warning
 * FailedDaemonPod {@code Found failed daemon pod ns/x on node n, will try to kill it}. Deployment events
 * (deployment-controller): ScalingReplicaSet {@code Scaled up replica set x from 0 to 3}, {@code Scaled down replica
 * set x from 4 to 3}; ReplicaSet events (replicaset-controller): SuccessfulCreate {@code Created pod: x},
 * SuccessfulDelete {@code Deleted pod: x}, FailedCreate {@code Error creating: ...}.
 *
 * <h2>DaemonSets</h2>
 * {@link io.k3gpu.lab.k3s.controllers.DaemonSetController}: a pod per node that matches the template's nodeSelector
 * and required node affinity and whose NoSchedule/NoExecute taints it tolerates (with the daemon tolerations:
 * not-ready and unreachable NoExecute, disk/memory/pid-pressure and unschedulable NoSchedule, network-unavailable
 * for hostNetwork), named {@code <ds>-<5 random>}, labelled {@code controller-revision-hash} and
 * {@code pod-template-generation}, pinned by {@code matchFields metadata.name In [node]} and bound by the scheduler.
 * For an agent this is an ordinary pod: run it, report it Ready, confirm its deletion; the controller counts
 * Ready pods into {@code numberReady}/{@code numberAvailable}, which {@code kubectl rollout status ds/x} waits for.
 *
 * <h2>Deployments and ReplicaSets</h2>
 * {@link io.k3gpu.lab.k3s.controllers.DeploymentController} keeps one ReplicaSet per template
 * ({@code <deploy>-<pod-template-hash>}, revision annotations) and sizes them by the strategy;
 * {@link io.k3gpu.lab.k3s.controllers.ReplicaSetController} keeps {@code spec.replicas} pods named
 * {@code <rs>-<5 random>} with the template's labels (pod-template-hash included). For an agent these are ordinary
 * pods: run them, report them Ready (readiness is what availableReplicas and {@code kubectl rollout status deploy/x}
 * count), confirm their deletion.
 *
 * <h2>Not simulated</h2>
 * Preemption (priorities are read, victims are never evicted), DaemonSet maxSurge (treated as 0), adoption of orphaned
 * pods and hash collisions, a paused Deployment and proportional scaling in mid-rollout, the StatefulSet controller,
 * pod affinity and topology spread, volumes in
 * scheduling, Indexed jobs, suspend, pod failure policies, the job-tracking finalizer (counting is in memory), a
 * namespace's cascading deletion, and leader election (an extra server runs no controllers).
 */
package io.k3gpu.lab.k3s.controllers;
