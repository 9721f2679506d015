package io.k3gpu.cli;

import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rolling upgrade of issue 14 on a lab: one server and three agents (two GPU nodes in containerd mode) installed at v1.30.8+k3s1 by apply, then the file at v1.31.4+k3s1: plan lists the upgrade in apply's
 * order; a PodDisruptionBudget that forbids eviction makes the first agent's drain wait and fail by its (short)
 * drainTimeout, that agent left cordoned and the others untouched; with the budget gone and a fault planted on the
 * last agent's install (a read-only /usr/local/bin: the install script cannot write the new binary), the
 * rollout finishes the first agent, upgrades the second and stops at the third, cordoned; with the fault removed a
 * re-run finishes it and a last one has nothing to do. Asserted with the real kubectl. The tests build on each other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpgradeIT {
    private static final String OLD = "v1.30.8+k3s1";
    private static final String NEW = "v1.31.4+k3s1";
    static TestLab lab;
    static Path dir;
    static Path kubeconfig;

    @BeforeAll
    static void up() throws Exception {
        lab = TestLab.up("itupgr", 203, "cpu-only", "cpu-only", "dgpu", "dgpu");
        dir = Files.createTempDirectory("k3gpu-upgrade-it");
        kubeconfig = dir.resolve("kubeconfig");
    }

    @AfterAll
    static void down() throws Exception {
        lab.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The cluster file at {@code version}. */
    private static Path file(String version) throws Exception {
        K3sDistribution k3s = K3sDistribution.of(lab.state);
        Path f = dir.resolve("cluster.yaml");
        Files.writeString(f, """
                cluster:
                  k3sVersion: %s
                  installUrl: %s
                  readyTimeout: 45s
                  kubeconfig: {path: kubeconfig, context: itupgr}
                  upgrade: {drainTimeout: 15s}
                ssh:
                  key: %s
                  knownHosts: %s
                  sshConfig: /dev/null
                  strictHostKeyChecking: yes
                  connectTimeout: 3s
                hosts:
                  - {name: cp1, address: %s, role: server, gpu: none}
                  - {name: cpu, address: %s, role: agent, gpu: none}
                  - {name: g1, address: %s, role: agent, gpu: k3s}
                  - {name: g2, address: %s, role: agent, gpu: k3s}
                """.formatted(version, k3s.installUrl(), lab.state.keyFile(), lab.state.knownHostsFile(),
                lab.ip("node1"), lab.ip("node2"), lab.ip("gpu1"), lab.ip("gpu2")));
        return f;
    }

    private static Cli.Result k3gpu(String verb, Path file) {
        return Cli.run(verb, "-f", file.toString());
    }

    private static String kubectl(String... args) throws Exception {
        Kubectl.Result r = Kubectl.run(kubeconfig, args);
        assertThat(r.exit()).as(String.join(" ", args) + ": " + r.out()).isZero();
        return r.out();
    }

    /** Each Node by its InternalIP: "VERSION cordoned|schedulable". */
    private static Map<String, String> nodes() throws Exception {
        String out = kubectl("get", "nodes", "-o", "jsonpath={range .items[*]}{.status.addresses[?(@.type==\"InternalIP\")]"
                + ".address} {.status.nodeInfo.kubeletVersion} {.spec.unschedulable}{\"\\n\"}{end}");
        Map<String, String> m = new TreeMap<>();
        for (String line : out.strip().split("\n")) {
            String[] f = line.strip().split(" ");
            m.put(f[0], f[1] + (f.length > 2 && f[2].equals("true") ? " cordoned" : " schedulable"));
        }
        return m;
    }

    private static String state(String node) throws Exception {
        return nodes().get(lab.ip(node));
    }

    private static String nodeName(String node) throws Exception {
        return kubectl("get", "nodes", "-o", "jsonpath={.items[?(@.status.addresses[0].address==\"" + lab.ip(node)
                + "\")].metadata.name}").strip();
    }

    @Test
    @Order(1)
    void applyInstallsTheClusterAtTheOldRelease() throws Exception {
        Cli.Result r = k3gpu("apply", file(OLD));
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).doesNotContain("rolling upgrade");
        assertThat(nodes()).hasSize(4).allSatisfy((ip, s) -> assertThat(s).isEqualTo(OLD + " schedulable"));
    }

    @Test
    @Order(2)
    void planListsTheUpgradeOfEveryHostInApplysOrder() throws Exception {
        Cli.Result r = k3gpu("plan", file(NEW));
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("cp1 (" + lab.ip("node1") + "), server:\n  + upgrade: " + OLD + " → " + NEW)
                .contains("g2 (" + lab.ip("gpu2") + "), agent:\n  gpu: k3s --default-runtime nvidia (K3s " + NEW
                        + ")\n  + upgrade: " + OLD + " → " + NEW)
                .contains("""
                        rolling upgrade to v1.31.4+k3s1: 1 server one at a time, then 3 agents in batches of 1 (cordon, drain, upgrade, Ready, GPU gate, uncordon)
                          1. cp1: upgrade v1.30.8+k3s1 → v1.31.4+k3s1
                          2. agents batch 1: cpu (upgrade v1.30.8+k3s1 → v1.31.4+k3s1)
                          3. agents batch 2: g1 (upgrade v1.30.8+k3s1 → v1.31.4+k3s1)
                          4. agents batch 3: g2 (upgrade v1.30.8+k3s1 → v1.31.4+k3s1)
                        """);
        assertThat(nodes()).allSatisfy((ip, s) -> assertThat(s).isEqualTo(OLD + " schedulable"));
    }

    @Test
    @Order(3)
    void aBudgetThatForbidsEvictionMakesTheDrainWaitAndFailByItsTimeoutTheNodeLeftCordoned() throws Exception {
        String cpu = nodeName("node2");
        Path web = dir.resolve("web.yaml");
        Files.writeString(web, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      nodeSelector: {kubernetes.io/hostname: %s}
                      terminationGracePeriodSeconds: 1
                      containers:
                        - {name: main, image: docker.io/library/busybox:1.36, command: [sh, -c, "sleep 3600"]}
                ---
                apiVersion: policy/v1
                kind: PodDisruptionBudget
                metadata: {name: web, namespace: default}
                spec:
                  minAvailable: 2
                  selector: {matchLabels: {app: web}}
                """.formatted(cpu));
        kubectl("apply", "-f", web.toString());
        String budget = "";
        for (int i = 0; i < 120 && !budget.equals("2 2 0"); i++) {
            Thread.sleep(500);
            budget = kubectl("get", "pdb", "web", "-o", "jsonpath={.status.currentHealthy} {.status.desiredHealthy} "
                    + "{.status.disruptionsAllowed}").strip();
        }
        assertThat(budget).as("currentHealthy desiredHealthy disruptionsAllowed").isEqualTo("2 2 0");
        // the real kubectl drain meets the lab's 429 with Kubernetes' message
        Kubectl.Result drain = Kubectl.run(kubeconfig, "drain", cpu, "--ignore-daemonsets", "--delete-emptydir-data",
                "--timeout=3s");
        assertThat(drain.exit()).as(drain.out()).isNotZero();
        assertThat(drain.out()).contains("Cannot evict pod as it would violate the pod's disruption budget.");
        kubectl("uncordon", cpu);

        Cli.Result r = k3gpu("apply", file(NEW));
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).containsPattern("upgrade of cpu stopped at step drain: draining node " + cpu
                        + " did not finish within 15s: pod default/web-[a-z0-9-]+ cannot be evicted: PodDisruptionBudget "
                        + "web \\(allows 0 disruptions: 2 healthy, 2 desired\\)")
                .contains("the node stays cordoned; the hosts after it were not touched")
                .contains("the rollout resumes at cpu")
                .contains("cpu: pod default/web-");
        assertThat(state("node1")).isEqualTo(NEW + " schedulable");
        assertThat(state("node2")).isEqualTo(OLD + " cordoned");
        assertThat(state("gpu1")).isEqualTo(OLD + " schedulable");
        assertThat(state("gpu2")).isEqualTo(OLD + " schedulable");
        assertThat(kubectl("get", "node", cpu, "-o", "jsonpath={.spec.taints[*].key}"))
                .contains("node.kubernetes.io/unschedulable");
        assertThat(kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}"))
                .isEqualTo("Running Running");
        assertThat(kubectl("get", "events", "-n", "default", "--field-selector", "involvedObject.name=" + cpu,
                "-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}")).contains("K3gpuCordon", "NodeNotSchedulable")
                .doesNotContain("K3gpuDrain");
    }

    @Test
    @Order(4)
    void anAgentWhoseUpgradeFailsStopsTheRolloutCordonedAndARerunFinishesIt() throws Exception {
        kubectl("delete", "pdb", "web");
        // a read-only /usr/local/bin: K3s's install script cannot put the new binary there and fails
        lab.sh("gpu2", "mount --bind /usr/local/bin /usr/local/bin && mount -o remount,bind,ro /usr/local/bin");
        Cli.Result failed;
        try {
            failed = k3gpu("apply", file(NEW));
        } finally {
            lab.sh("gpu2", "umount /usr/local/bin");
        }
        assertThat(failed.exit()).as(failed.all()).isEqualTo(1);
        assertThat(failed.out()).contains("0 servers one at a time, then 3 agents in batches of 1")
                .contains("1. agents batch 1: cpu (upgrade " + OLD + " → " + NEW + ")")
                .contains("upgrade of g2 stopped at step upgrade: the K3s install script failed on " + lab.ip("gpu2"))
                .contains("the node stays cordoned")
                .contains("the rollout resumes at g2");
        assertThat(state("node2")).isEqualTo(NEW + " schedulable");
        assertThat(state("gpu1")).isEqualTo(NEW + " schedulable");
        assertThat(state("gpu2")).isEqualTo(OLD + " cordoned");
        // the evicted pods went Pending (their node selector names the cordoned node), then back once uncordoned
        assertThat(failed.out()).contains("cpu: evicting pod default/web-");

        Cli.Result again = k3gpu("apply", file(NEW));
        assertThat(again.exit()).as(again.all()).isZero();
        String out = again.out();
        assertThat(out).contains("1. agents batch 1: g2 (upgrade " + OLD + " → " + NEW + ")")
                .contains("g2: GPU gate: labels, verify pod").contains("g2: | CUDA available: True");
        assertThat(out.indexOf("g2: cordoning node")).isLessThan(out.indexOf("g2: draining node"));
        assertThat(out.indexOf("g2: draining node")).isLessThan(out.indexOf("g2: GPU gate"));
        assertThat(out.indexOf("g2: GPU gate")).isLessThan(out.indexOf("g2: uncordoning node"));
        assertThat(nodes()).hasSize(4).allSatisfy((ip, s) -> assertThat(s).isEqualTo(NEW + " schedulable"));
        String g2 = nodeName("gpu2");
        assertThat(kubectl("get", "events", "-n", "default", "--field-selector", "involvedObject.name=" + g2,
                "-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}"))
                .contains("K3gpuCordon", "K3gpuDrain", "K3gpuUpgraded", "K3gpuGpuGate", "K3gpuUncordon", "Starting");
        assertThat(kubectl("get", "nodes", "-o", "jsonpath={.items[*].spec.taints[*].key}"))
                .doesNotContain("node.kubernetes.io/unschedulable");
    }

    @Test
    @Order(5)
    void theFirstRolloutWentServerFirstThenOneAgentAtATimeAndARerunHasNothingToDo() throws Exception {
        Cli.Result r = k3gpu("apply", file(NEW));
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).doesNotContain("rolling upgrade").doesNotContain("cordoning")
                .contains("nothing changed");
        // the order, from the Events k3gpu recorded on each Node: the server's upgrade first; each agent uncordoned
        // before the next one was cordoned (one agent a batch)
        String events = kubectl("get", "events", "-n", "default", "-o", "jsonpath={range .items[?(@.source.component"
                + "==\"k3gpu\")]}{.firstTimestamp} {.involvedObject.name} {.reason}{\"\\n\"}{end}");
        assertThat(events).contains(nodeName("node1") + " K3gpuUpgraded");
        java.util.List<String> lines = events.lines().sorted().toList();
        String cp = nodeName("node1");
        String g1 = nodeName("gpu1");
        String g2 = nodeName("gpu2");
        assertThat(at(lines, cp, "K3gpuUpgraded")).isLessThanOrEqualTo(at(lines, nodeName("node2"), "K3gpuCordon"));
        assertThat(at(lines, g1, "K3gpuUncordon")).isLessThanOrEqualTo(at(lines, g2, "K3gpuCordon"));
        assertThat(at(lines, nodeName("node2"), "K3gpuUncordon")).isLessThanOrEqualTo(at(lines, g1, "K3gpuCordon"));
    }

    @Test
    @Order(6)
    void aStaleLockIsReportedWithHowToClearIt() throws Exception {
        lab.sh("gpu1", ("mkdir -p /var/lib/k3gpu && printf 'who=%s@%s\\nwhen=2026-01-01T00:00:00Z\\npid=999999999\\n"
                + "run=x\\n' > /var/lib/k3gpu/apply.lock").formatted(System.getProperty("user.name"),
                java.net.InetAddress.getLocalHost().getHostName()));
        try {
            Cli.Result r = k3gpu("apply", file(NEW));
            assertThat(r.exit()).as(r.all()).isEqualTo(1);
            assertThat(r.all()).contains("g1 is locked by a stale apply: /var/lib/k3gpu/apply.lock says ")
                    .contains("pid 999999999 since 2026-01-01T00:00:00Z, and that process is gone")
                    .contains("ssh " + lab.ip("gpu1") + " sudo rm /var/lib/k3gpu/apply.lock");
            // the locks this apply took on the other hosts are gone again
            assertThat(lab.sh("node1", "ls /var/lib/k3gpu/ 2>/dev/null || true")).doesNotContain("apply.lock");
        } finally {
            lab.sh("gpu1", "rm -f /var/lib/k3gpu/apply.lock");
        }
    }

    /** The timestamp of the first Event of that node and reason. */
    private static String at(java.util.List<String> lines, String node, String reason) {
        return lines.stream().filter(l -> l.endsWith(" " + node + " " + reason)).findFirst()
                .map(l -> l.substring(0, l.indexOf(' '))).orElseThrow(() -> new AssertionError(
                        "no " + reason + " event on " + node + " in " + lines));
    }
}
