package io.k3gpu.lab.k3s.controllers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.k3gpu.lab.k3s.K3sLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Job controller (batch/v1, NonIndexed completion, v1.31 with JobPodReplacementPolicy on) and the TTL-after-finished
 * controller.
 *
 * <p>For each Job: pods from {@code spec.template} named {@code <job>-<5 random>}, labelled
 * {@code batch.kubernetes.io/job-name}, {@code job-name}, {@code batch.kubernetes.io/controller-uid},
 * {@code controller-uid}, owned by the Job (controller, blockOwnerDeletion), created through the API (so admission
 * applies: a missing RuntimeClass gives a Warning {@code FailedCreate} event); as many active as
 * {@code min(parallelism, completions - succeeded)}; a failed pod is replaced after a back-off (10 s doubling, at most
 * 6 min) while failures stay within {@code backoffLimit}. Status: {@code startTime}, {@code active},
 * {@code ready}, {@code terminating}, {@code succeeded}, {@code failed}, {@code uncountedTerminatedPods}; a pod that
 * disappears before finishing counts as failed. When completions are reached: {@code SuccessCriteriaMet} then
 * {@code Complete} (reason CompletionsReached, "Reached expected number of succeeded pods"), {@code completionTime},
 * a Normal {@code Completed} event "Job completed". When failures exceed {@code backoffLimit} (reason
 * BackoffLimitExceeded, "Job has reached the specified backoff limit") or {@code activeDeadlineSeconds} passes (reason
 * DeadlineExceeded, "Job was active longer than specified deadline"): {@code FailureTarget}, the active pods deleted,
 * and once none is left {@code Failed} with a Warning event of that reason. Events {@code SuccessfulCreate}
 * "Created pod: x" and {@code SuccessfulDelete} "Deleted pod: x".
 *
 * <p>{@code completionMode: Indexed} as v1.31's {@code pkg/controller/job} (job_controller.go manageJob,
 * indexed_job_utils.go): one pod per index in {@code [0, completions)} that has neither succeeded nor an active pod,
 * lowest first, at most {@code parallelism} active; each named {@code <job>-<index>-<5 random>}
 * (podGenerateNameWithIndex), with the annotation and the label (PodIndexLabel, on by default)
 * {@code batch.kubernetes.io/job-completion-index}, {@code spec.hostname = <job>-<index>} (the template's subdomain
 * kept) and, in every container and init container that does not set it, {@code JOB_COMPLETION_INDEX} from a fieldRef
 * to that annotation. {@code status.completedIndexes} is the succeeded indexes as the controller's
 * orderedIntervals.String() writes them ("0,1" for two consecutive ones, "0-2,4" for more); {@code succeeded} is their
 * number; the Job is Complete when all {@code completions} indexes succeeded. Extra active pods of one index are
 * deleted. Failures count against {@code backoffLimit} as for NonIndexed (no backoffLimitPerIndex).
 *
 * <p>TTL: a finished Job with {@code ttlSecondsAfterFinished} is deleted (Foreground, uid precondition) that many
 * seconds after its completionTime / Failed transition.
 */
final class JobController {
    private static final String COMPONENT = "job-controller";
    private static final Duration BACKOFF = Duration.ofSeconds(10);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(6);
    static final String INDEX_KEY = "batch.kubernetes.io/job-completion-index";
    static final String INDEX_ENV = "JOB_COMPLETION_INDEX";
    /** names.MaxGeneratedNameLength: 63 less the 5 random characters. */
    private static final int MAX_GENERATED_NAME = 58;

    /** What the controller counted for one Job (by uid), as the tracking finalizers do in Kubernetes. */
    private static final class Tracker {
        final Set<String> counted = new HashSet<>();
        int succeeded;
        final java.util.TreeSet<Integer> succeededIndexes = new java.util.TreeSet<>();
        int failed;
        Instant lastFailure;
        int createFailures;
        Instant nextCreate;
    }

    private final KubeApi api;
    private final Events events;
    private final Clock clock;
    private final K3sLog log;
    private final Map<String, Tracker> trackers = new HashMap<>();

    JobController(KubeApi api, Events events, Clock clock, K3sLog log) {
        this.api = api;
        this.events = events;
        this.clock = clock;
        this.log = log;
    }

    void syncAll() {
        Set<String> alive = new HashSet<>();
        for (ObjectNode job : J.items(api.call("GET", "/apis/batch/v1/jobs", null, null))) {
            alive.add(J.uid(job));
            sync(job);
        }
        trackers.keySet().retainAll(alive);
    }

    void sync(String namespace, String name) {
        KubeApi.Result r = api.call("GET", J.job(namespace, name), null, null);
        if (r.ok()) {
            sync(r.object());
        }
    }

    /** A pod is gone: one of a Job's that had not finished counts as failed (succeeded if it had succeeded). */
    void podDeleted(JsonNode pod) {
        JsonNode owner = controllerOf(pod);
        if (owner == null) {
            return;
        }
        Tracker t = trackers.get(owner.path("uid").asString(""));
        if (t == null || t.counted.contains(J.uid(pod))) {
            return;
        }
        t.counted.add(J.uid(pod));
        if ("Succeeded".equals(J.text(pod, "status.phase"))) {
            t.succeeded++;
            int index = index(pod);
            if (index >= 0) {
                t.succeededIndexes.add(index);
            }
        } else {
            t.failed++;
            t.lastFailure = clock.instant();
        }
    }

    static JsonNode controllerOf(JsonNode pod) {
        for (JsonNode ref : pod.path("metadata").path("ownerReferences")) {
            if ("Job".equals(ref.path("kind").asString("")) && ref.path("controller").asBoolean(false)) {
                return ref;
            }
        }
        return null;
    }

    void sync(ObjectNode job) {
        if (J.deleting(job)) {
            return;
        }
        String ns = J.namespace(job);
        String uid = J.uid(job);
        Instant now = clock.instant();
        JsonNode spec = job.path("spec");
        ObjectNode status = job.path("status") instanceof ObjectNode s ? s.deepCopy() : J.obj();
        Tracker t = trackers.computeIfAbsent(uid, k -> {
            Tracker n = new Tracker();
            n.succeeded = status.path("succeeded").asInt(0);
            n.failed = status.path("failed").asInt(0);
            n.succeededIndexes.addAll(parseIntervals(status.path("completedIndexes").asString("")));
            return n;
        });
        if (finished(status)) {
            ttl(job, status, now);
            return;
        }
        List<ObjectNode> active = new ArrayList<>();
        int terminating = 0;
        int ready = 0;
        for (ObjectNode pod : J.items(api.call("GET", J.pods(ns), null, null))) {
            JsonNode owner = controllerOf(pod);
            if (owner == null || !uid.equals(owner.path("uid").asString(""))) {
                continue;
            }
            String phase = J.text(pod, "status.phase", "Pending");
            if (Scheduling.TERMINAL.contains(phase)) {
                if (t.counted.add(J.uid(pod))) {
                    if (phase.equals("Succeeded")) {
                        t.succeeded++;
                        if (index(pod) >= 0) {
                            t.succeededIndexes.add(index(pod));
                        }
                    } else {
                        t.failed++;
                        t.lastFailure = now;
                    }
                }
            } else if (J.deleting(pod)) {
                terminating++;
            } else {
                active.add(pod);
                if ("True".equals(J.condition(pod, "Ready").path("status").asString(""))) {
                    ready++;
                }
            }
        }
        if (!status.hasNonNull("startTime") && !spec.path("suspend").asBoolean(false)) {
            status.put("startTime", J.time(now));
        }
        int backoffLimit = spec.path("backoffLimit").asInt(6);
        Integer completions = spec.hasNonNull("completions") ? spec.path("completions").asInt() : null;
        int parallelism = spec.path("parallelism").asInt(1);
        boolean indexed = "Indexed".equals(spec.path("completionMode").asString("")) && completions != null;
        if (indexed) {
            t.succeededIndexes.removeIf(i -> i >= completions);
            t.succeeded = t.succeededIndexes.size();
            // calculateSucceededIndexes / firstPendingIndexes: one active pod per index; extra or out-of-range ones go
            Map<Integer, ObjectNode> byIndex = new HashMap<>();
            for (ObjectNode pod : new ArrayList<>(active)) {
                int i = index(pod);
                if (i < 0 || i >= completions || t.succeededIndexes.contains(i) || byIndex.putIfAbsent(i, pod) != null) {
                    KubeApi.Result d = api.call("DELETE", J.pod(ns, J.name(pod)), null, null);
                    if (d.ok() || d.status() == 404) {
                        events.record(job, "Normal", "SuccessfulDelete", "Deleted pod: " + J.name(pod), COMPONENT);
                    }
                    active.remove(pod);
                    terminating++;
                }
            }
        }

        JsonNode interim = interimCondition(status);
        if (interim == null) {
            if (t.failed > backoffLimit) {
                interim = condition(status, "FailureTarget", "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit", now);
            } else if (spec.hasNonNull("activeDeadlineSeconds") && status.hasNonNull("startTime")
                    && !now.isBefore(J.instant(status.path("startTime").asString())
                    .plusSeconds(spec.path("activeDeadlineSeconds").asLong()))) {
                interim = condition(status, "FailureTarget", "DeadlineExceeded",
                        "Job was active longer than specified deadline", now);
            }
        }
        if (interim != null && "FailureTarget".equals(interim.path("type").asString())) {
            for (ObjectNode pod : active) {
                KubeApi.Result d = api.call("DELETE", J.pod(ns, J.name(pod)), null, null);
                if (d.ok() || d.status() == 404) {
                    events.record(job, "Normal", "SuccessfulDelete", "Deleted pod: " + J.name(pod), COMPONENT);
                    if (d.ok() && J.deleting(d.object())) {
                        terminating++;
                    }
                }
            }
            active.clear();
            ready = 0;
        } else if (interim == null && !spec.path("suspend").asBoolean(false)) {
            int want = completions == null ? (t.succeeded > 0 ? 0 : parallelism)
                    : Math.max(0, Math.min(parallelism, completions - t.succeeded));
            List<Integer> pending = new ArrayList<>();
            if (indexed) {
                Set<Integer> busy = new HashSet<>();
                active.forEach(p -> busy.add(index(p)));
                for (int i = 0; i < completions && pending.size() < want - active.size(); i++) {
                    if (!busy.contains(i) && !t.succeededIndexes.contains(i)) {
                        pending.add(i);
                    }
                }
            }
            if (active.size() < want && backedOff(t, now)
                    && (t.nextCreate == null || !now.isBefore(t.nextCreate))) {
                int toCreate = indexed ? pending.size() : want - active.size();
                for (int i = 0; i < toCreate; i++) {
                    ObjectNode created = createPod(job, indexed ? pending.get(i) : -1);
                    if (created == null) { // retried with the controller's back-off, as the FailedCreate repeats
                        t.createFailures++;
                        t.nextCreate = now.plus(delay(t.createFailures));
                        break;
                    }
                    t.createFailures = 0;
                    t.nextCreate = null;
                    active.add(created);
                }
            }
            boolean complete = completions == null ? t.succeeded > 0 && active.isEmpty()
                    : t.succeeded >= completions && active.isEmpty();
            if (complete) {
                interim = condition(status, "SuccessCriteriaMet", "CompletionsReached",
                        "Reached expected number of succeeded pods", now);
            }
        }
        status.put("active", active.size());
        status.put("succeeded", t.succeeded);
        status.put("failed", t.failed);
        status.put("terminating", terminating);
        status.put("ready", ready);
        if (indexed) {
            String completed = intervals(t.succeededIndexes);
            if (completed.isEmpty()) {
                status.remove("completedIndexes");
            } else {
                status.put("completedIndexes", completed);
            }
        }
        status.putObject("uncountedTerminatedPods");
        String finishedType = null;
        if (interim != null && active.isEmpty() && terminating == 0) {
            boolean success = "SuccessCriteriaMet".equals(interim.path("type").asString());
            finishedType = success ? "Complete" : "Failed";
            JsonNode done = condition(status, finishedType, interim.path("reason").asString(""),
                    interim.path("message").asString(""), now);
            if (success) {
                status.put("completionTime", done.path("lastTransitionTime").asString());
            }
        }
        ObjectNode shaped = shape(status);
        if (!shaped.equals(job.path("status"))) {
            ObjectNode updated = job.deepCopy();
            updated.set("status", shaped);
            KubeApi.Result r = api.call("PUT", J.job(ns, J.name(job)) + "/status", "application/json",
                    J.write(updated));
            if (r.ok() && finishedType != null) {
                if (finishedType.equals("Complete")) {
                    events.record(job, "Normal", "Completed", "Job completed", COMPONENT);
                } else {
                    events.record(job, "Warning", interim.path("reason").asString(),
                            interim.path("message").asString(), COMPONENT);
                }
                log.debug("job-controller: " + ns + "/" + J.name(job) + " " + finishedType);
            }
        }
    }

    private static boolean finished(JsonNode status) {
        for (JsonNode c : status.path("conditions")) {
            String type = c.path("type").asString("");
            if ((type.equals("Complete") || type.equals("Failed")) && "True".equals(c.path("status").asString(""))) {
                return true;
            }
        }
        return false;
    }

    private static JsonNode interimCondition(JsonNode status) {
        for (JsonNode c : status.path("conditions")) {
            String type = c.path("type").asString("");
            if ((type.equals("SuccessCriteriaMet") || type.equals("FailureTarget"))
                    && "True".equals(c.path("status").asString(""))) {
                return c;
            }
        }
        return null;
    }

    /** Appends a condition (JobCondition: type, status, lastProbeTime, lastTransitionTime, reason, message). */
    private static JsonNode condition(ObjectNode status, String type, String reason, String message, Instant now) {
        ObjectNode c = J.arrayAt(status, "conditions").addObject();
        c.put("type", type);
        c.put("status", "True");
        c.put("lastProbeTime", J.time(now));
        c.put("lastTransitionTime", J.time(now));
        c.put("reason", reason);
        c.put("message", message);
        return c;
    }

    private boolean backedOff(Tracker t, Instant now) {
        if (t.failed == 0 || t.lastFailure == null) {
            return true;
        }
        return !now.isBefore(t.lastFailure.plus(delay(t.failed)));
    }

    /** 10 s, doubling with each failure, at most 6 min. */
    private static Duration delay(int failures) {
        Duration d = BACKOFF.multipliedBy(1L << Math.min(Math.max(failures - 1, 0), 10));
        return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
    }

    /** A pod's completion index from its annotation; -1 when absent or not a number (unknownCompletionIndex). */
    static int index(JsonNode pod) {
        String v = pod.path("metadata").path("annotations").path(INDEX_KEY).asString("");
        try {
            int i = Integer.parseInt(v);
            return i < 0 ? -1 : i;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** orderedIntervals.String(): "0-2,4"; two consecutive indexes are written "0,1", not "0-1". */
    static String intervals(java.util.SortedSet<Integer> indexes) {
        StringBuilder b = new StringBuilder();
        Integer first = null;
        Integer last = null;
        for (int i : indexes) {
            if (last != null && i == last + 1) {
                last = i;
                continue;
            }
            appendInterval(b, first, last);
            first = i;
            last = i;
        }
        appendInterval(b, first, last);
        return b.toString();
    }

    private static void appendInterval(StringBuilder b, Integer first, Integer last) {
        if (first == null) {
            return;
        }
        if (b.length() > 0) {
            b.append(',');
        }
        b.append(first);
        if (last > first) {
            b.append(last == first + 1 ? ',' : '-').append(last);
        }
    }

    /** parseIndexesFromString: "1,3-5" back to indexes; malformed parts are skipped as the controller skips them. */
    static List<Integer> parseIntervals(String text) {
        List<Integer> out = new ArrayList<>();
        for (String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] ends = part.split("-", 2);
            try {
                int first = Integer.parseInt(ends[0].trim());
                int last = ends.length == 2 ? Integer.parseInt(ends[1].trim()) : first;
                for (int i = first; i <= last; i++) {
                    out.add(i);
                }
            } catch (NumberFormatException e) {
                // skipped
            }
        }
        return out;
    }

    /** podGenerateNameWithIndex: {@code <job>-<index>-}, the job's part cut so the prefix stays within 58. */
    static String generateNameWithIndex(String job, int index) {
        String suffix = "-" + index + "-";
        String prefix = job + suffix;
        return prefix.length() > MAX_GENERATED_NAME ? prefix.substring(0, MAX_GENERATED_NAME - suffix.length()) + suffix
                : prefix;
    }

    /** addCompletionIndexEnvVariable: JOB_COMPLETION_INDEX from the annotation, unless the container sets it. */
    private static void addIndexEnv(ArrayNode containers) {
        for (JsonNode c : containers) {
            boolean present = false;
            for (JsonNode e : c.path("env")) {
                present |= INDEX_ENV.equals(e.path("name").asString(""));
            }
            if (!present && c instanceof ObjectNode oc) {
                ObjectNode env = J.arrayAt(oc, "env").addObject();
                env.put("name", INDEX_ENV);
                env.putObject("valueFrom").putObject("fieldRef").put("apiVersion", "v1")
                        .put("fieldPath", "metadata.annotations['" + INDEX_KEY + "']");
            }
        }
    }

    private ObjectNode createPod(ObjectNode job, int index) {
        String ns = J.namespace(job);
        String name = J.name(job);
        String uid = J.uid(job);
        JsonNode template = job.path("spec").path("template");
        ObjectNode pod = J.obj();
        pod.put("apiVersion", "v1");
        pod.put("kind", "Pod");
        ObjectNode meta = pod.putObject("metadata");
        meta.put("generateName", index >= 0 ? generateNameWithIndex(name, index) : name + "-");
        meta.put("namespace", ns);
        ObjectNode labels = meta.putObject("labels");
        template.path("metadata").path("labels").properties().forEach(e -> labels.set(e.getKey(), e.getValue()));
        if (!job.path("spec").path("manualSelector").asBoolean(false)) {
            labels.put("batch.kubernetes.io/controller-uid", uid);
            labels.put("batch.kubernetes.io/job-name", name);
            labels.put("controller-uid", uid);
            labels.put("job-name", name);
        }
        if (template.path("metadata").path("annotations").isObject()) {
            meta.set("annotations", template.path("metadata").path("annotations").deepCopy());
        }
        ObjectNode spec = template.path("spec") instanceof ObjectNode ts ? ts.deepCopy() : J.obj();
        if (index >= 0) {
            J.objectAt(meta, "annotations").put(INDEX_KEY, String.valueOf(index));
            labels.put(INDEX_KEY, String.valueOf(index));
            spec.put("hostname", name + "-" + index);
            addIndexEnv(J.arrayAt(spec, "initContainers"));
            addIndexEnv(J.arrayAt(spec, "containers"));
            if (spec.path("initContainers").isEmpty()) {
                spec.remove("initContainers");
            }
        }
        ArrayNode owners = meta.putArray("ownerReferences");
        owners.addObject().put("apiVersion", "batch/v1").put("kind", "Job").put("name", name).put("uid", uid)
                .put("controller", true).put("blockOwnerDeletion", true);
        pod.set("spec", spec);
        KubeApi.Result r = api.call("POST", J.pods(ns), "application/json", J.write(pod));
        if (!r.ok()) {
            String message = r.json().path("message").asString(r.body() == null ? "error " + r.status() : r.body());
            events.record(job, "Warning", "FailedCreate", "Error creating: " + message, COMPONENT);
            return null;
        }
        ObjectNode created = r.object();
        events.record(job, "Normal", "SuccessfulCreate", "Created pod: " + J.name(created), COMPONENT);
        return created;
    }

    /** JobStatus in the API's field order, zero counters omitted as the API omits them. */
    private static ObjectNode shape(ObjectNode s) {
        ObjectNode out = J.obj();
        for (String f : List.of("conditions", "startTime", "completionTime", "active", "succeeded", "failed",
                "terminating", "completedIndexes", "failedIndexes", "uncountedTerminatedPods", "ready")) {
            JsonNode v = s.get(f);
            if (v == null || v.isNull()) {
                continue;
            }
            if ((f.equals("active") || f.equals("succeeded") || f.equals("failed")) && v.asInt(0) == 0) {
                continue;
            }
            out.set(f, v);
        }
        return out;
    }

    private void ttl(ObjectNode job, JsonNode status, Instant now) {
        JsonNode ttl = job.path("spec").path("ttlSecondsAfterFinished");
        if (ttl.isMissingNode() || ttl.isNull()) {
            return;
        }
        Instant finishedAt = J.instant(status.path("completionTime").asString(null));
        if (finishedAt == null) {
            for (JsonNode c : status.path("conditions")) {
                if ("Failed".equals(c.path("type").asString("")) || "Complete".equals(c.path("type").asString(""))) {
                    finishedAt = J.instant(c.path("lastTransitionTime").asString(null));
                }
            }
        }
        if (finishedAt == null || now.isBefore(finishedAt.plusSeconds(ttl.asLong(0)))) {
            return;
        }
        ObjectNode options = J.obj();
        options.put("kind", "DeleteOptions");
        options.put("apiVersion", "v1");
        options.put("propagationPolicy", "Foreground");
        options.putObject("preconditions").put("uid", J.uid(job));
        api.call("DELETE", J.job(J.namespace(job), J.name(job)), "application/json", J.write(options));
        log.debug("ttl-after-finished-controller: deleted " + J.namespace(job) + "/" + J.name(job));
    }
}
