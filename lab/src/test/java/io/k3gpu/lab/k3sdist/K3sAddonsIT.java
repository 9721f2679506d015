package io.k3gpu.lab.k3sdist;

import static org.assertj.core.api.Assertions.assertThat;
import static io.k3gpu.lab.LabShell.assumeRoot;
import static io.k3gpu.lab.LabShell.await;
import static io.k3gpu.lab.LabShell.deleteWork;
import static io.k3gpu.lab.LabShell.lockLab;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabShell;
import io.k3gpu.lab.LabShell.Result;
import io.k3gpu.lab.LabState;
import io.k3gpu.lab.k3s.K3sServer;
import io.k3gpu.lab.k3s.K3sServerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * K3s's packaged components on a lab cluster of a server and one agent installed with K3s's defaults, with the real
 * kubectl (the agent with {@code --docker}: its pods are Docker containers): what {@code kubectl get pods -A} shows on a fresh K3s v1.31 (coredns, local-path-provisioner,
 * metrics-server and traefik Running, the helm-install Jobs of traefik-crd and traefik Completed, one
 * {@code svclb-traefik-*} pod 2/2 Running per node), the traefik LoadBalancer Service with the nodes' addresses as
 * EXTERNAL-IP and node ports, traefik answering through its ClusterIP; {@code kubectl top nodes|pods} once the
 * metrics-server pod is Ready, ServiceUnavailable while it is scaled to 0; {@code --disable metrics-server},
 * {@code --disable traefik} and {@code --disable servicelb} (in-process servers) as K3s does them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sAddonsIT {
    static final String ID = "la8addons";
    static final int SUBNET = 201;
    static final String K3S_URL = "https://10.213.201.11:6443";
    static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();
    static LabState lab;
    static Path kubeconfig;
    static Path work;
    static LabShell shell;
    static FileChannel lock;
    @TempDir
    static Path dir;

    @BeforeAll
    static void up() throws Exception {
        assumeRoot();
        lock = lockLab(ID);
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
        work = Files.createTempDirectory("addons-it");
        kubeconfig = work.resolve("kubeconfig.yaml");
        lab = Lab.up(new LabConfig(ID, SUBNET, List.of("cpu-only", "cpu-only"), null, null));
        shell = new LabShell(lab, kubeconfig, work);
        K3sDistribution k3s = K3sDistribution.of(lab);
        shell.sshOk("node1", "curl -sfL " + k3s.installUrl() + " | sh -");
        Files.writeString(kubeconfig, shell.sshOk("node1", "cat /etc/rancher/k3s/k3s.yaml")
                .replace("https://127.0.0.1:6443", K3S_URL));
        String token = shell.sshOk("node1", "cat /var/lib/rancher/k3s/server/node-token").strip();
        Result agent = shell.ssh("node2", "read -r K3S_TOKEN && export K3S_TOKEN && curl -sfL "
                + k3s.installUrl() + " | K3S_URL=" + K3S_URL + " INSTALL_K3S_EXEC='agent --docker' sh -", token + "\n");
        assertThat(agent.exit()).as(agent.out()).isZero();
        await("2 Ready nodes", 90, () -> shell.kubectl("get", "nodes").out().lines()
                .filter(l -> l.matches("(node1|node2)\\s+Ready\\s.*")).count() == 2);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                Lab.down(lab.stateDir());
            }
        } finally {
            deleteWork(work);
            if (lock != null) {
                lock.close();
            }
        }
    }

    /** NAME READY STATUS of each kube-system pod whose name starts with prefix. */
    static List<String> pods(String prefix) {
        return shell.kubectl("get", "pods", "-n", "kube-system", "--no-headers").out().lines()
                .filter(l -> l.startsWith(prefix)).map(l -> String.join(" ", List.of(l.split("\\s+")).subList(1, 3)))
                .toList();
    }

    @Test
    @Order(1)
    void kubeSystemRunsWhatAFreshK3sRuns() throws Exception {
        try {
            await("the packaged pods", 180, () -> pods("coredns-").equals(List.of("1/1 Running"))
                    && pods("local-path-provisioner-").equals(List.of("1/1 Running"))
                    && pods("metrics-server-").equals(List.of("1/1 Running"))
                    && pods("traefik-").equals(List.of("1/1 Running"))
                    && pods("helm-install-traefik-crd-").equals(List.of("0/1 Completed"))
                    && pods("helm-install-traefik-").size() == 2 // the crd job's pod matches too
                    && pods("helm-install-traefik-").stream().allMatch(p -> p.equals("0/1 Completed"))
                    && pods("svclb-traefik-").equals(List.of("2/2 Running", "2/2 Running")));
        } finally {
            System.out.println(shell.kubectl("get", "pods", "-A", "-o", "wide").out());
            System.out.println(shell.kubectl("get", "svc", "-n", "kube-system").out());
            System.out.println(shell.kubectl("-n", "kube-system", "logs", "job/helm-install-traefik").out());
        }
        assertThat(shell.kubectlOk("get", "pods", "-n", "kube-system", "-l", "app.kubernetes.io/name=traefik",
                "-o", "jsonpath={.items[0].spec.containers[0].image}")).isEqualTo(
                "rancher/mirrored-library-traefik:2.11.10");
        assertThat(shell.kubectlOk("get", "pods", "-n", "kube-system", "-o", "wide", "--no-headers").lines()
                .filter(l -> l.startsWith("svclb-traefik-")).map(l -> l.split("\\s+")[6]).sorted().toList())
                .containsExactly("node1", "node2");
        assertThat(shell.kubectlOk("get", "helmcharts", "-n", "kube-system", "-o",
                "jsonpath={range .items[*]}{.metadata.name}={.status.jobName} {end}"))
                .isEqualTo("traefik=helm-install-traefik traefik-crd=helm-install-traefik-crd ");
        assertThat(shell.kubectlOk("get", "secrets", "-n", "kube-system", "-l", "owner=helm", "-o", "name"))
                .contains("secret/sh.helm.release.v1.traefik.v1", "secret/sh.helm.release.v1.traefik-crd.v1");
        assertThat(shell.kubectlOk("get", "crd", "ingressroutes.traefik.io", "-o", "name"))
                .isEqualTo("customresourcedefinition.apiextensions.k8s.io/ingressroutes.traefik.io\n");
    }

    @Test
    @Order(2)
    void traefiksLoadBalancerServiceHasTheNodesAddresses() throws Exception {
        await("traefik's external IPs", 60, () -> shell.kubectlOk("get", "svc", "-n", "kube-system",
                "traefik", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}").equals("10.213.201.11 10.213.201.12"));
        String line = shell.kubectlOk("get", "svc", "-n", "kube-system", "traefik", "--no-headers");
        String[] col = line.split("\\s+");
        assertThat(col[1]).isEqualTo("LoadBalancer");
        assertThat(col[3]).isEqualTo("10.213.201.11,10.213.201.12");
        assertThat(col[4]).matches("80:3\\d{4}/TCP,443:3\\d{4}/TCP");
        JsonNode ds = JSON.readTree(shell.kubectlOk("get", "ds", "-n", "kube-system", "-l",
                "svccontroller.k3s.cattle.io/svcname=traefik", "-o", "json")).path("items").get(0);
        assertThat(ds.path("metadata").path("name").asString()).startsWith("svclb-traefik-");
        JsonNode c = ds.path("spec").path("template").path("spec").path("containers");
        assertThat(c.get(0).path("name").asString()).isEqualTo("lb-tcp-80");
        assertThat(c.get(0).path("ports").get(0).path("hostPort").asInt()).isEqualTo(80);
        assertThat(c.get(1).path("name").asString()).isEqualTo("lb-tcp-443");
        assertThat(c.get(0).path("image").asString()).isEqualTo("rancher/klipper-lb:v0.4.9");
        // traefik's web entry point through its ClusterIP (the agent's kube-proxy): no routes, 404
        String ip = shell.kubectlOk("get", "svc", "-n", "kube-system", "traefik", "-o",
                "jsonpath={.spec.clusterIP}");
        // externalTrafficPolicy Cluster: each svclb container forwards its port to the Service's ClusterIP
        assertThat(c.get(0).path("env").toString()).contains("{\"name\":\"DEST_PORT\",\"value\":\"80\"}",
                "{\"name\":\"DEST_IPS\",\"value\":\"" + ip + "\"}");
        assertThat(shell.sshOk("node2", "curl -s -w ' %{http_code}' http://" + ip + "/"))
                .isEqualTo("404 page not found\n 404");
    }

    @Test
    @Order(3)
    void topShowsNodesAndPodsWhileMetricsServerRuns() throws Exception {
        assertThat(shell.kubectlOk("get", "apiservice", "v1beta1.metrics.k8s.io", "-o",
                "jsonpath={.status.conditions[?(@.type==\"Available\")].status}")).isEqualTo("True");
        String[] last = {""};
        try {
            await("kubectl top nodes", 90, () -> (last[0] = shell.kubectl("top", "nodes").out())
                    .lines().filter(l -> l.matches("node[12]\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%\\s*"))
                    .count() == 2);
        } finally {
            System.out.println(last[0]);
        }
        String nodes = shell.kubectlOk("top", "nodes");
        System.out.println(nodes);
        assertThat(nodes.lines().findFirst().orElse("").split("\\s+")).containsExactly("NAME", "CPU(cores)",
                "CPU%", "MEMORY(bytes)", "MEMORY%");
        // a pod has metrics after two scrapes (15 s apart) since it started
        await("kubectl top pods -A", 90, () -> shell.kubectl("top", "pods", "-A").out().lines()
                .filter(l -> l.matches("kube-system\\s+(traefik|svclb-traefik|metrics-server)-.*")).count() == 4);
        String pods = shell.kubectlOk("top", "pods", "-A");
        System.out.println(pods);
        assertThat(pods.lines().findFirst().orElse("").split("\\s+")).containsExactly("NAMESPACE", "NAME",
                "CPU(cores)", "MEMORY(bytes)");
        assertThat(pods.lines().filter(l -> l.startsWith("kube-system")).map(l -> l.split("\\s+")[1]))
                .anyMatch(p -> p.startsWith("traefik-")).anyMatch(p -> p.startsWith("coredns-"))
                .anyMatch(p -> p.startsWith("svclb-traefik-"));

        // no ready metrics-server endpoint: the aggregator answers 503
        shell.kubectlOk("-n", "kube-system", "scale", "deploy/metrics-server", "--replicas=0");
        await("the APIService unavailable", 60, () -> shell.kubectlOk("get", "apiservice",
                "v1beta1.metrics.k8s.io", "-o", "jsonpath={.status.conditions[0].reason}").equals("MissingEndpoints"));
        Result down = shell.kubectl("top", "nodes");
        assertThat(down.exit()).isEqualTo(1);
        assertThat(down.out()).endsWith("Error from server (ServiceUnavailable): the server is currently unable to "
                + "handle the request (get nodes.metrics.k8s.io)\n");
        shell.kubectlOk("-n", "kube-system", "scale", "deploy/metrics-server", "--replicas=1");
        await("kubectl top nodes again", 120, () -> shell.kubectl("top", "nodes").exit() == 0);
    }

    @Test
    @Order(4)
    void eachDisableTakesItsComponentAway() throws Exception {
        Path data = dir.resolve("srv");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        // K3s's defaults first (no agent: nothing runs), then the same data dir with the three --disable flags
        try (K3sServer s = K3sServer.start(K3sServerOptions.defaults().etcRoot(data).bindAddress("127.0.0.1")
                .httpsListenPort(0).disableAgent(true).logTo(new PrintStream(log, true, StandardCharsets.UTF_8)))) {
            String kc = s.kubeconfig().toString();
            await("helm-install jobs", 30, () -> kubectl(kc, "get", "jobs", "-n", "kube-system", "-o",
                    "name").out().contains("job.batch/helm-install-traefik\n"));
            assertThat(kubectl(kc, "get", "deploy,apiservice,helmchart", "-A", "-o", "name").out()).contains(
                    "deployment.apps/metrics-server", "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io",
                    "helmchart.helm.cattle.io/traefik");
            // the metrics-server pod is not running (no node): listed, unavailable
            Result top = kubectl(kc, "top", "nodes");
            assertThat(top.exit()).isEqualTo(1);
            assertThat(top.out()).contains("(ServiceUnavailable)");
            kubectl(kc, "create", "service", "loadbalancer", "web", "--tcp=8080:80");
            await("svclb-web", 30, () -> kubectl(kc, "get", "ds", "-n", "kube-system", "-o", "name").out()
                    .contains("daemonset.apps/svclb-web-"));
        }
        try (K3sServer s = K3sServer.start(K3sServerOptions.defaults().etcRoot(data).bindAddress("127.0.0.1")
                .httpsListenPort(0).disableAgent(true).disable("metrics-server").disable("traefik")
                .disable("servicelb").logTo(new PrintStream(log, true, StandardCharsets.UTF_8)))) {
            String kc = s.kubeconfig().toString();
            Result top = kubectl(kc, "top", "nodes");
            assertThat(top.exit()).isEqualTo(1);
            assertThat(top.out()).isEqualTo("error: Metrics API not available\n");
            String left = kubectl(kc, "get", "deploy,apiservice,helmchart,jobs,svc", "-A", "-o", "name").out();
            assertThat(left).doesNotContain("metrics-server", "traefik", "metrics.k8s.io").contains("service/web");
            // servicelb disabled: the LoadBalancer Service stays <pending>
            kubectl(kc, "create", "service", "loadbalancer", "other", "--tcp=8081:80");
            Thread.sleep(3000);
            assertThat(kubectl(kc, "get", "svc", "other", "--no-headers").out().split("\\s+")[3]).isEqualTo(
                    "<pending>");
            assertThat(kubectl(kc, "get", "ds", "-n", "kube-system", "-o", "name").out()).doesNotContain(
                    "svclb-other-");
        }
        // --disable-helm-controller: traefik's HelmChart is deployed again, and nothing installs it
        Path other = dir.resolve("srv-no-helm");
        try (K3sServer s = K3sServer.start(K3sServerOptions.defaults().etcRoot(other).bindAddress("127.0.0.1")
                .httpsListenPort(0).disableAgent(true).disableHelmController(true)
                .logTo(new PrintStream(log, true, StandardCharsets.UTF_8)))) {
            String kc = s.kubeconfig().toString();
            await("the traefik HelmChart", 30, () -> kubectl(kc, "get", "helmchart", "-n", "kube-system", "-o",
                    "name").out().contains("helmchart.helm.cattle.io/traefik\n"));
            Thread.sleep(3000);
            assertThat(kubectl(kc, "get", "jobs", "-n", "kube-system", "-o", "name").out()).doesNotContain("helm-install");
            assertThat(kubectl(kc, "get", "deploy", "-n", "kube-system", "-o", "name").out()).contains(
                    "deployment.apps/metrics-server").doesNotContain("traefik");
        }
        try (var files = Files.walk(data)) {
            assertThat(files.map(f -> f.getFileName().toString())).doesNotContain("traefik.yaml",
                    "metrics-server.yaml").contains("coredns.yaml");
        }
    }

    static Result kubectl(String kubeconfig, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig));
        cmd.addAll(List.of(args));
        return LabShell.run(cmd, null);
    }
}
