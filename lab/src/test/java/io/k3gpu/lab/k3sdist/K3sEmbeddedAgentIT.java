package io.k3gpu.lab.k3sdist;

import io.k3gpu.lab.Lab;
import io.k3gpu.lab.NodeProcesses;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabShell;
import io.k3gpu.lab.LabShell.Result;
import io.k3gpu.lab.LabState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.await;
import static io.k3gpu.lab.LabShell.deleteWork;
import static io.k3gpu.lab.LabShell.lockLab;
import static io.k3gpu.lab.LabShell.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A K3s server node runs pods (issue 12): K3s's {@code k3s server} runs an embedded agent (kubelet + containerd)
 * unless {@code --disable-agent} (pkg/cli/server/server.go), so K3s's quick start — {@code curl -sfL
 * https://get.k3s.io | sh -} on one machine, then run pods — works. Checked with the real kubectl on a one-node lab:
 * a Deployment of 2 busybox replicas becomes Available with its pods on the server node, run by one agent process
 * that is the server's child; {@code kubectl logs} answers from the server node's kubelet; the Node keeps the
 * server's roles and node-args; after {@code systemctl restart k3s} the pods run again (the lab's agent kills its
 * containers when it stops: they come back as the kubelet restarts lost containers); k3s-killall.sh leaves no agent
 * and no container process; a server with {@code --disable-agent} has no Node and its pods stay Pending with the
 * scheduler's message. Needs root; one lab (node1, cpu-only).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sEmbeddedAgentIT {
    static final String ID = "lembed1";
    static final int SUBNET = 200;
    static final String SERVER_IP = "10.213.200.11";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static LabState lab;
    static K3sDistribution k3s;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;
    static FileChannel lock;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        lock = lockLab(ID);
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("k3s-embedded-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only"), null, null));
        shell = new LabShell(lab, kubeconfig, work);
        k3s = K3sDistribution.of(lab);
        // K3s's quick start: the install script with no arguments installs a server
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | sh -");
        writeKubeconfig();
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                Set<String> nodes = NodeProcesses.namespaces(lab);
                Lab.down(lab.stateDir());
                String ps = run(List.of("ps", "-eo", "args"), null).out();
                assertThat(ps).doesNotContain(lab.stateDir().toString());
                assertThat(NodeProcesses.left(nodes)).as("processes of the lab's nodes").isEmpty();
            }
        } finally {
            deleteWork(work);
            if (lock != null) {
                lock.close();
            }
        }
    }

    @Test
    @Order(1)
    void oneServerRunsADeploymentOfTwoReplicasOnItsOwnNode() throws Exception {
        await("node1 Ready", 60, () -> shell.kubectl("get", "nodes").out().lines()
                .anyMatch(l -> l.matches("node1\\s+Ready\\s+control-plane,master\\s.*")));
        shell.kubectlOk("create", "deployment", "web", "--image=busybox:1.36", "--replicas=2", "--",
                "sh", "-c", "echo hello from $(hostname); exec sleep 3600");
        shell.kubectlOk("wait", "--for=condition=Available", "deployment/web", "--timeout=120s");
        JsonNode pods = JSON.readTree(shell.kubectlOk("get", "pods", "-l", "app=web", "-o", "json"));
        assertThat(pods.path("items")).hasSize(2);
        for (JsonNode p : pods.path("items")) {
            assertThat(p.path("spec").path("nodeName").asString()).isEqualTo("node1");
            assertThat(p.path("status").path("phase").asString()).isEqualTo("Running");
            assertThat(p.path("status").path("hostIP").asString()).isEqualTo(SERVER_IP);
        }
        // the containers are processes of the server node, under the one agent that the server's JVM started
        String ps = shell.sshOk("node1", "ps -eo pid=,ppid=,args=");
        List<String[]> agents = agentProcesses(ps);
        assertThat(agents).as(ps).hasSize(1);
        String jvm = agents.get(0)[1];
        assertThat(ps.lines().filter(l -> l.strip().startsWith(jvm + " ")).findFirst().orElse(""))
                .as("the agent's parent").contains("io.k3gpu.lab.k3s.K3sServerMain");
        assertThat(ps.lines().filter(l -> l.endsWith("sleep 3600")).count()).as(ps).isEqualTo(2);
        // the Node is the server's: roles, its command line, the first pod range; kubelet on :10250
        JsonNode node = JSON.readTree(shell.kubectlOk("get", "node", "node1", "-o", "json"));
        assertThat(node.path("metadata").path("labels").path("node-role.kubernetes.io/control-plane").asString())
                .isEqualTo("true");
        assertThat(node.path("metadata").path("labels").path("node-role.kubernetes.io/master").asString())
                .isEqualTo("true");
        assertThat(node.path("metadata").path("annotations").path("k3s.io/node-args").asString())
                .isEqualTo("[\"server\"]");
        assertThat(node.path("spec").path("podCIDR").asString()).isEqualTo("10.42.0.0/24");
        assertThat(node.path("status").path("addresses").path(0).path("address").asString()).isEqualTo(SERVER_IP);
        assertThat(node.path("status").path("daemonEndpoints").path("kubeletEndpoint").path("Port").asInt())
                .isEqualTo(10250);
        // one Node owner: the server's log has the agent's registration, once
        String log = shell.sshOk("node1", "cat /var/log/k3gpu-lab/k3s.log");
        assertThat(log).contains("Running kubelet ").contains("Successfully registered node")
                .contains("Control-plane role label has been set successfully on node: node1");
        assertThat(log.lines().filter(l -> l.contains("\"Successfully registered node\"")).count()).isEqualTo(1);
        System.out.println("server node with its embedded agent and 2 pods: " + rss());
        // metrics-server scrapes the server node's kubelet too
        await("kubectl top pods", 90, () -> {
            Result r = shell.kubectl("top", "pods", "-l", "app=web", "--no-headers");
            return r.exit() == 0 && r.out().lines().filter(l -> l.startsWith("web-")).count() == 2;
        });
    }

    @Test
    @Order(2)
    void kubectlLogsReadsAPodOfTheServerNode() throws Exception {
        String pod = webPods().get(0);
        await("the pod's log line", 30, () -> shell.kubectl("logs", pod).out().contains("hello from " + pod));
        assertThat(shell.kubectlOk("logs", "deployment/web")).contains("hello from web-");
    }

    @Test
    @Order(3)
    void afterSystemctlRestartK3sThePodsRunAgain() throws Exception {
        String before = agentProcesses(shell.sshOk("node1", "ps -eo pid=,ppid=,args=")).get(0)[0];
        List<String> pods = webPods();
        shell.sshOk("node1", "systemctl restart k3s");
        await("both pods Running again after the restart", 120, () -> {
            JsonNode list = JSON.readTree(shell.kubectlOk("get", "pods", "-l", "app=web", "-o", "json"));
            int ready = 0;
            for (JsonNode p : list.path("items")) {
                JsonNode c = p.path("status").path("containerStatuses").path(0);
                if (c.path("state").has("running") && c.path("restartCount").asInt() >= 1) {
                    ready++;
                }
            }
            return ready == 2;
        });
        assertThat(webPods()).as("the same pods, restarted as the kubelet restarts lost containers")
                .containsExactlyInAnyOrderElementsOf(pods);
        String ps = shell.sshOk("node1", "ps -eo pid=,ppid=,args=");
        List<String[]> agents = agentProcesses(ps);
        assertThat(agents).as(ps).hasSize(1);
        assertThat(agents.get(0)[0]).as("a new agent").isNotEqualTo(before);
        assertThat(ps.lines().filter(l -> l.endsWith("sleep 3600")).count()).as(ps).isEqualTo(2);
        await("the new container's log", 30, () -> shell.kubectl("logs", pods.get(0)).out()
                .contains("hello from " + pods.get(0)));
        shell.kubectlOk("wait", "--for=condition=Ready", "node/node1", "--timeout=60s");
    }

    @Test
    @Order(4)
    void killallStopsTheAgentAndItsContainers() {
        shell.sshOk("node1", "/usr/local/bin/k3s-killall.sh");
        String ps = shell.sshOk("node1", "ps -eo pid=,ppid=,args=");
        assertThat(agentProcesses(ps)).as(ps).isEmpty();
        assertThat(ps).doesNotContain("K3sServerMain").doesNotContain("sleep 3600");
    }

    @Test
    @Order(5)
    void aServerWithDisableAgentHasNoNodeAndItsPodsStayPending() throws Exception {
        shell.sshOk("node1", "/usr/local/bin/k3s-uninstall.sh");
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server --disable-agent' sh -");
        writeKubeconfig();
        String ps = shell.sshOk("node1", "ps -eo pid=,ppid=,args=");
        assertThat(agentProcesses(ps)).as(ps).isEmpty();
        shell.kubectlOk("create", "deployment", "web", "--image=busybox:1.36", "--replicas=2", "--", "sleep", "3600");
        await("2 unschedulable pods", 60, () -> {
            JsonNode list = JSON.readTree(shell.kubectlOk("get", "pods", "-l", "app=web", "-o", "json"));
            int pending = 0;
            for (JsonNode p : list.path("items")) {
                JsonNode c = p.path("status").path("conditions").path(0);
                if ("Pending".equals(p.path("status").path("phase").asString())
                        && "Unschedulable".equals(c.path("reason").asString())
                        && "no nodes available to schedule pods".equals(c.path("message").asString())) {
                    pending++;
                }
            }
            return pending == 2;
        });
        assertThat(shell.kubectlOk("get", "nodes", "-o", "name")).isBlank();
        System.out.println("server node with --disable-agent: " + rss());
        assertThat(shell.sshOk("node1", "ps -eo args=")).doesNotContain("sleep 3600");
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    /** {pid, ppid} of each running lab agent ({@code k3s-agent.py[c] agent ...}). */
    static List<String[]> agentProcesses(String ps) {
        List<String[]> out = new ArrayList<>();
        for (String l : ps.lines().toList()) {
            String[] f = l.strip().split("\\s+", 3);
            if (f.length == 3 && f[2].matches("/usr/bin/python3 -S \\S+/k3s-agent\\.pyc? agent .*")) {
                out.add(new String[] {f[0], f[1]});
            }
        }
        return out;
    }

    /** RSS of the server node's K3s processes (docs/benchmarks.md). */
    static String rss() {
        return shell.sshOk("node1",
                "ps -o rss=,args= -C java,python3 | awk '{printf \"%s %s %.1f MB; \", $2, $4, $1/1024}'");
    }

    static List<String> webPods() {
        return shell.kubectlOk("get", "pods", "-l", "app=web", "-o", "name").lines()
                .map(l -> l.substring(l.indexOf('/') + 1)).sorted().toList();
    }

    static void writeKubeconfig() throws Exception {
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", "https://" + SERVER_IP + ":6443"));
    }
}
