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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.await;
import static io.k3gpu.lab.LabShell.deleteWork;
import static io.k3gpu.lab.LabShell.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Distributed training's cluster side on the lab's simulated K3s, with the real kubectl and Debian's real PyTorch: an
 * Indexed Job (completions = parallelism = 2, backoffLimit 0) with a headless Service, subdomain, pod anti-affinity
 * and node affinity puts one worker on each GPU node; the workers resolve each other's {@code <job>-<i>.<svc>} names
 * through the cluster DNS (coredns behind kube-dns at 10.43.0.10) and run a real 2-process gloo all_reduce under
 * torchrun; the Job completes with completedIndexes "0,1". A failing index fails the Job (BackoffLimitExceeded) and
 * the other worker is terminated; a third worker that cannot fit gets the scheduler's anti-affinity message; deleting
 * a Job kills its workers; a worker killed on its node is Failed with exit code 137. Needs root; one lab (node1
 * server; gpu1, gpu2 H200 agents on containerd).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sIndexedJobIT {
    static final String ID = "itidxjob";
    static final int SUBNET = 220;
    static final String SERVER_IP = "10.213.220.11";
    static final String K3S_URL = "https://" + SERVER_IP + ":6443";
    static final String TORCH_IMAGE = "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static LabState lab;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        assumeThat(Path.of("/usr/lib/python3/dist-packages/torch")).as("Debian's python3-torch").isDirectory();
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("k3s-idxjob-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "dgpu", "dgpu"), null, null));
        shell = new LabShell(lab, kubeconfig, work);
        K3sDistribution k3s = K3sDistribution.of(lab);
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | INSTALL_K3S_EXEC='server' sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        List<CompletableFuture<Result>> installs = new ArrayList<>();
        for (String node : List.of("gpu1", "gpu2")) {
            installs.add(CompletableFuture.supplyAsync(() -> shell.ssh(node, "read -r K3S_TOKEN && export K3S_TOKEN "
                    + "&& curl -sfL " + k3s.installUrl() + " | K3S_URL=" + K3S_URL + " INSTALL_K3S_EXEC='agent' sh -",
                    token + "\n")));
        }
        for (CompletableFuture<Result> f : installs) {
            assertThat(f.join().exit()).as(f.join().out()).isZero();
        }
        await("3 Ready nodes", 90, () -> shell.kubectl("get", "nodes").out().lines()
                .filter(l -> l.matches("(node1|gpu1|gpu2)\\s+Ready\\s.*")).count() == 3);
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
        }
    }

    // ---------------------------------------------------------------------------------------------------- tests

    @Test
    @Order(1)
    void clusterDnsAnswersKubeDnsFromPodsOnEveryNodeWithTheKubeletsResolvConf() throws Exception {
        await("the coredns pod Running", 120, () -> shell.kubectl("-n", "kube-system", "get", "pods", "-l",
                "k8s-app=kube-dns").out().contains("Running"));
        JsonNode svc = JSON.readTree(shell.kubectlOk("-n", "kube-system", "get", "svc", "kube-dns", "-o", "json"));
        assertThat(svc.path("spec").path("clusterIP").asString()).isEqualTo("10.43.0.10");
        await("kube-dns endpoints", 60, () -> JSON.readTree(shell.kubectlOk("-n", "kube-system", "get", "endpoints",
                "kube-dns", "-o", "json")).path("subsets").path(0).path("addresses").size() == 1);
        for (String node : List.of("gpu1", "gpu2")) {
            String name = "dns-" + node;
            shell.kubectlOk("run", name, "--image=python:3.12-slim", "--restart=Never", "--overrides",
                    "{\"apiVersion\":\"v1\",\"spec\":{\"nodeSelector\":{\"kubernetes.io/hostname\":\"" + node + "\"}}}",
                    "--command", "--", "python3", "-c", "import socket; print(socket.gethostbyname("
                            + "'kube-dns.kube-system.svc.cluster.local')); print(open('/etc/resolv.conf').read())\n"
                            + "try:\n  import torch\nexcept ImportError as e:\n  print(e)");
            shell.awaitPhase(name, 90, "Succeeded", "Failed");
            assertThat(shell.kubectlOk("logs", name)).isEqualTo("""
                    10.43.0.10
                    search default.svc.cluster.local svc.cluster.local cluster.local
                    nameserver 10.43.0.10
                    options ndots:5

                    No module named 'torch'
                    """);
            shell.kubectlOk("delete", "pod", name, "--wait=false");
        }
    }

    static String workers(String job, int n, String script, String service) {
        return """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: %1$s
                spec:
                  completionMode: Indexed
                  completions: %2$d
                  parallelism: %2$d
                  backoffLimit: 0
                  template:
                    spec:
                      subdomain: %4$s
                      restartPolicy: Never
                      affinity:
                        nodeAffinity:
                          requiredDuringSchedulingIgnoredDuringExecution:
                            nodeSelectorTerms:
                            - matchExpressions:
                              - {key: kubernetes.io/hostname, operator: In, values: [gpu1, gpu2]}
                        podAntiAffinity:
                          requiredDuringSchedulingIgnoredDuringExecution:
                          - labelSelector:
                              matchLabels: {batch.kubernetes.io/job-name: %1$s}
                            topologyKey: kubernetes.io/hostname
                      containers:
                      - name: worker
                        image: %5$s
                        env: [{name: GLOO_SOCKET_IFNAME, value: eth0}]
                        command: ["bash", "-c", %3$s]
                """.formatted(job, n, JSON.writeValueAsString(script), service, TORCH_IMAGE);
    }

    static String headless(String name) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %1$s
                spec:
                  clusterIP: None
                  publishNotReadyAddresses: true
                  selector: {batch.kubernetes.io/job-name: %1$s}
                  ports: [{name: c10d, port: 29400}, {name: master, port: 29500}]
                """.formatted(name);
    }

    @Test
    @Order(2)
    void anIndexedJobRunsARealGlooAllReduceAcrossTwoNodesByTheirDnsNames() throws Exception {
        String script = """
                set -e
                peer=ddp-$((1 - JOB_COMPLETION_INDEX)).ddp
                for i in $(seq 90); do
                  ip=$(python3 -c 'import socket, sys; print(socket.gethostbyname(sys.argv[1]))' $peer 2>/dev/null) && break
                  sleep 1
                done
                echo "index $JOB_COMPLETION_INDEX hostname $(hostname) peer $peer $ip"
                cat > /tmp/allreduce.py <<'EOF'
                import os, torch, torch.distributed as dist
                dist.init_process_group("gloo")
                t = torch.tensor([float(dist.get_rank() + 1)])
                dist.all_reduce(t)
                print("rank %d world %d backend %s sum %.1f torch %s" % (dist.get_rank(), dist.get_world_size(),
                      dist.get_backend(), t.item(), torch.__version__), flush=True)
                dist.destroy_process_group()
                EOF
                # torch 1.13's flags (underscores); --redirects/--tee 1: its Std.from_str("0") is None on Python 3.11
                torchrun --nnodes 2 --nproc_per_node 1 --node_rank $JOB_COMPLETION_INDEX --redirects 1 --tee 1 \\
                  --master_addr ddp-0.ddp --master_port 29500 /tmp/allreduce.py
                """;
        shell.apply("ddp-svc", headless("ddp"));
        shell.apply("ddp", workers("ddp", 2, script, "ddp"));
        await("job ddp finished", 240, () -> finished("ddp") != null);
        JsonNode job = JSON.readTree(shell.kubectlOk("get", "job", "ddp", "-o", "json"));
        List<JsonNode> pods = jobPods("ddp");
        StringBuilder logs = new StringBuilder();
        for (JsonNode p : pods) {
            logs.append(shell.kubectl("logs", p.path("metadata").path("name").asString()).out());
        }
        assertThat(finished("ddp")).as(logs.toString()).isEqualTo("Complete");
        assertThat(job.path("status").path("completedIndexes").asString()).isEqualTo("0,1");
        assertThat(job.path("status").path("succeeded").asInt()).isEqualTo(2);
        assertThat(pods).hasSize(2);
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            JsonNode p = pods.get(i);
            String name = p.path("metadata").path("name").asString();
            assertThat(name).matches("ddp-" + i + "-[a-z0-9]{5}");
            assertThat(p.path("metadata").path("annotations").path("batch.kubernetes.io/job-completion-index")
                    .asString()).isEqualTo(String.valueOf(i));
            assertThat(p.path("metadata").path("labels").path("batch.kubernetes.io/job-completion-index")
                    .asString()).isEqualTo(String.valueOf(i));
            assertThat(p.path("spec").path("hostname").asString()).isEqualTo("ddp-" + i);
            assertThat(p.path("spec").path("subdomain").asString()).isEqualTo("ddp");
            assertThat(p.path("spec").path("containers").path(0).path("env").toString()).contains(
                    "{\"name\":\"JOB_COMPLETION_INDEX\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\","
                            + "\"fieldPath\":\"metadata.annotations['batch.kubernetes.io/job-completion-index']\"}}}");
            nodes.add(p.path("spec").path("nodeName").asString());
        }
        assertThat(nodes).containsExactlyInAnyOrder("gpu1", "gpu2");
        String ip0 = pods.get(0).path("status").path("hostIP").asString();
        String ip1 = pods.get(1).path("status").path("hostIP").asString();
        String log0 = shell.kubectlOk("logs", pods.get(0).path("metadata").path("name").asString());
        String log1 = shell.kubectlOk("logs", pods.get(1).path("metadata").path("name").asString());
        assertThat(log0).contains("index 0 hostname ddp-0 peer ddp-1.ddp " + ip1 + "\n")
                .contains("rank 0 world 2 backend gloo sum 3.0 torch 1.13");
        assertThat(log1).contains("index 1 hostname ddp-1 peer ddp-0.ddp " + ip0 + "\n")
                .contains("rank 1 world 2 backend gloo sum 3.0 torch 1.13");
        shell.kubectlOk("delete", "job", "ddp");
        shell.kubectlOk("delete", "svc", "ddp");
    }

    @Test
    @Order(3)
    void aFailingIndexFailsTheJobAndTheOtherWorkerIsTerminated() throws Exception {
        String script = "if [ $JOB_COMPLETION_INDEX = 1 ]; then sleep 3; exit 1; fi; exec sleep 3602";
        shell.apply("fail", workers("fail", 2, script, "fail"));
        await("job fail finished", 120, () -> finished("fail") != null);
        JsonNode job = JSON.readTree(shell.kubectlOk("get", "job", "fail", "-o", "json"));
        assertThat(finished("fail")).isEqualTo("Failed");
        JsonNode failed = null;
        for (JsonNode c : job.path("status").path("conditions")) {
            if (c.path("type").asString("").equals("Failed")) {
                failed = c;
            }
        }
        assertThat(failed.path("reason").asString()).isEqualTo("BackoffLimitExceeded");
        assertThat(failed.path("message").asString()).isEqualTo("Job has reached the specified backoff limit");
        assertThat(job.path("status").path("failed").asInt()).isGreaterThanOrEqualTo(1);
        await("worker 0 gone", 60, () -> jobPods("fail").stream().noneMatch(p -> p.path("metadata").path("name")
                .asString().startsWith("fail-0-")));
        await("its process gone", 30, () -> !processes("gpu1").contains("sleep 3602")
                && !processes("gpu2").contains("sleep 3602"));
        shell.kubectlOk("delete", "job", "fail");
    }

    @Test
    @Order(4)
    void aThirdWorkerWithoutANodeGetsTheAntiAffinityMessageAndDeletingTheJobKillsTheWorkers() throws Exception {
        shell.apply("three", workers("three", 3, "exec sleep 3603", "three"));
        await("two workers running", 120, () -> jobPods("three").stream().filter(p -> "Running".equals(
                p.path("status").path("phase").asString(""))).count() == 2);
        JsonNode pending = jobPods("three").stream().filter(p -> p.path("metadata").path("name").asString()
                .startsWith("three-2-")).findFirst().orElseThrow();
        JsonNode scheduled = null;
        for (JsonNode c : pending.path("status").path("conditions")) {
            if (c.path("type").asString("").equals("PodScheduled")) {
                scheduled = c;
            }
        }
        assertThat(scheduled.path("message").asString()).isEqualTo("0/3 nodes are available: 1 node(s) didn't match "
                + "Pod's node affinity/selector, 2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes "
                + "are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for "
                + "incoming pod.");
        shell.kubectlOk("delete", "job", "three");
        await("the workers gone", 60, () -> jobPods("three").isEmpty());
        await("their processes gone", 30, () -> !processes("gpu1").contains("sleep 3603")
                && !processes("gpu2").contains("sleep 3603"));
    }

    @Test
    @Order(5)
    void aWorkerKilledOnItsNodeFailsWithExitCode137() throws Exception {
        shell.kubectlOk("run", "victim", "--image=" + TORCH_IMAGE, "--restart=Never", "--overrides",
                "{\"apiVersion\":\"v1\",\"spec\":{\"nodeSelector\":{\"kubernetes.io/hostname\":\"gpu1\"}}}",
                "--command", "--", "sleep", "3604");
        shell.awaitPhase("victim", 60, "Running");
        shell.sshOk("gpu1", "pkill -KILL -x -f 'sleep 3604'");
        shell.awaitPhase("victim", 30, "Failed");
        JsonNode state = JSON.readTree(shell.kubectlOk("get", "pod", "victim", "-o", "json")).path("status")
                .path("containerStatuses").path(0).path("state").path("terminated");
        assertThat(state.path("exitCode").asInt()).isEqualTo(137);
        assertThat(state.path("reason").asString()).isEqualTo("Error");
        shell.kubectlOk("delete", "pod", "victim");
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    static String finished(String job) {
        Result r = shell.kubectl("get", "job", job, "-o", "json");
        if (r.exit() != 0) {
            return null;
        }
        for (JsonNode c : JSON.readTree(r.out()).path("status").path("conditions")) {
            String type = c.path("type").asString("");
            if ((type.equals("Complete") || type.equals("Failed")) && "True".equals(c.path("status").asString(""))) {
                return type;
            }
        }
        return null;
    }

    /** The Job's pods sorted by completion index. */
    static List<JsonNode> jobPods(String job) {
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(shell.kubectlOk("get", "pods", "-l", "batch.kubernetes.io/job-name=" + job, "-o", "json"))
                .path("items").forEach(out::add);
        out.sort((a, b) -> a.path("metadata").path("name").asString().compareTo(b.path("metadata").path("name")
                .asString()));
        return out;
    }

    static String processes(String node) {
        return shell.sshOk(node, "ps -eo args");
    }
}
