package io.k3gpu.lab.k3sdist;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.k3gpu.lab.k3s.HostFacts;
import io.k3gpu.lab.k3s.K3sServer;
import io.k3gpu.lab.k3s.K3sServerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The agent's pod runner on the host, without a lab or root: one agent (containers without a mount namespace of
 * their own: K3GPU_LAB_POD_ISOLATION=none) against an in-process simulated server, pods created with
 * {@code spec.nodeName}, checked through the API as kubectl would see them and through the kubelet endpoint.
 */
class K3sAgentPodsTest {
    static final String NODE = "podnode";
    @TempDir
    static Path dir;
    static K3sServer server;
    static KubernetesClient client;
    static K3sAgentTest.AgentProcess agent;
    static int kubeletPort;
    static final ByteArrayOutputStream SERVER_LOG = new ByteArrayOutputStream();

    @BeforeAll
    static void setUp() throws Exception {
        assumeThat(Path.of("/usr/bin/python3")).isExecutable();
        Path shared = dir.resolve("shared");
        MirrorContent.writeNodeFiles(shared);
        K3sAgentTest.agent = shared.resolve("k3s-agent.py");
        HostFacts real = HostFacts.probe(dir, false);
        HostFacts host = new HostFacts("k3s-server", real.architecture(), real.kernelVersion(), real.osImage(), 2,
                4_000_000, 30_000_000, "127.0.0.1", "boot", "machine", 0, List.of(), null, null);
        // the agent runs on this host, not in a node: K3s's packaged components off (--disable), or their pods
        // would run here (traefik listening on the host's ports)
        server = K3sServer.start(K3sServerOptions.defaults().etcRoot(dir.resolve("server")).bindAddress("127.0.0.1")
                .httpsListenPort(0).hostFacts(host).disable("traefik").disable("servicelb").disable("metrics-server")
                .logTo(new PrintStream(SERVER_LOG, true, StandardCharsets.UTF_8)));
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(server.kubeconfig())))
                .build();
        kubeletPort = K3sAgentTest.freePort();
        agent = new K3sAgentTest.AgentProcess(dir.resolve("node"), Map.of("K3S_TOKEN", server.token(), "K3S_URL",
                server.url(), "K3GPU_LAB_POD_ISOLATION", "none", "K3GPU_LAB_PULL_SECONDS", "0.05",
                "K3GPU_LAB_KUBELET_PORT", Integer.toString(kubeletPort), "K3GPU_LAB_K3S_SHARED", shared.toString()),
                "--node-name", NODE);
        agent.awaitLine(l -> l.contains("\"Successfully registered node\""), 20);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    static Pod create(String yaml) {
        return (Pod) client.resource(yaml).create();
    }

    static String pod(String name, String restartPolicy, String containers) {
        return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: default\nspec:\n"
                + "  nodeName: " + NODE + "\n  restartPolicy: " + restartPolicy + "\n" + containers;
    }

    static Pod await(String name, int seconds, Predicate<Pod> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Pod p = null;
        while (System.nanoTime() < deadline) {
            p = client.pods().inNamespace("default").withName(name).get();
            if (p != null && done.test(p)) {
                return p;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("pod " + name + " after " + seconds + " s: " + (p == null ? "gone"
                : p.getStatus()) + "\nagent:\n" + String.join("\n", agent.lines));
    }

    static String phase(Pod p) {
        return p.getStatus() == null ? null : p.getStatus().getPhase();
    }

    static String logs(String name, String container) throws Exception {
        return client.pods().inNamespace("default").withName(name).inContainer(container).getLog();
    }

    static List<String> events(Pod p) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> p.getMetadata().getUid().equals(e.getInvolvedObject().getUid()))
                .sorted((a, b) -> a.getMetadata().getName().compareTo(b.getMetadata().getName()))
                .map(e -> e.getType() + " " + e.getReason() + " " + e.getMessage()).collect(Collectors.toList());
    }

    static PodCondition condition(Pod p, String type) {
        return p.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow();
    }

    /** Runs {@code code} with the agent module as {@code a} (loaded from the shared directory); returns its output. */
    static String python(String code) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-S", "-c", "import json, os, sys\n"
                + "sys.path.insert(0, os.path.dirname(sys.argv[1]))\nfrom k3sagent import common, images\n" + code,
                K3sAgentTest.agent.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void imageReferencesNormaliseAsDockerDoesAndTheCatalogHasTheDefaultImages() throws Exception {
        String out = python("""
                c = images.Catalog(os.path.join(os.path.dirname(sys.argv[1]), 'images', 'images.json'))
                def r(ref, arch):
                    i, why = c.resolve(images.ImageRef(ref), arch)
                    return why or '%s:%s %s %s %s%s' % (i['repo'], i['tag'], i['cmd'], i['frameworks'], i['cuda'],
                                                          ' real: %s' % i['hostFrameworks'] if i['hostFrameworks'] else '')
                for ref in ['busybox', 'icetekio/jetson-nano-tensorflow', 'nvcr.io/nvidia/pytorch:24.12-py3',
                            'localhost:5000/x']:
                    x = images.ImageRef(ref)
                    print(x.canonical(), x.familiar())
                print(images.ImageRef('Busybox').error)
                for ref, arch in [('icetekio/jetson-nano-tensorflow', 'arm64'),
                                  ('nvcr.io/nvidia/l4t-pytorch:r35.2.1-pth2.0-py3', 'arm64'),
                                  ('dustynv/l4t-pytorch:r36.4.0', 'arm64'), ('nvcr.io/nvidia/pytorch:24.12-py3', 'amd64'),
                                  ('pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime', 'amd64'),
                                  ('iceci/utils', 'arm64'), ('alpine/git', 'amd64'),
                                  ('icetekio/jetson-nano-tensorflow', 'amd64'), ('x/y', 'amd64'), ('busybox:nope', 'amd64')]:
                    print(r(ref, arch))
                x = images.ImageRef('x/y')
                print(images.pull_error(x, 'repository', True, 'amd64'))
                print(images.pull_error(images.ImageRef('icetekio/jetson-nano-tensorflow'), 'platform', False, 'amd64'))
                print(common.go_duration(0.3042), common.go_duration(1.2456), common.go_duration(20))
                """);
        assertThat(out).isEqualTo("""
                docker.io/library/busybox:latest busybox:latest
                docker.io/icetekio/jetson-nano-tensorflow:latest icetekio/jetson-nano-tensorflow:latest
                nvcr.io/nvidia/pytorch:24.12-py3 nvcr.io/nvidia/pytorch:24.12-py3
                localhost:5000/x:latest localhost:5000/x:latest
                couldn't parse image name "Busybox": invalid reference format: repository name (library/Busybox) \
                must be lowercase
                docker.io/icetekio/jetson-nano-tensorflow:latest ['/bin/bash'] {'tensorflow': '2.3.1'} None
                nvcr.io/nvidia/l4t-pytorch:r35.2.1-pth2.0-py3 ['/bin/bash'] {'torch': '1.13.1'} None real: ['torch']
                docker.io/dustynv/l4t-pytorch:r36.4.0 ['/bin/bash'] {'torch': '2.5.0'} None
                nvcr.io/nvidia/pytorch:24.12-py3 ['/bin/bash'] {'torch': '2.6.0a0'} 12.6
                docker.io/pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime [] {'torch': '1.13.1'} 12.1 real: ['torch']
                docker.io/iceci/utils:latest ['/bin/sh'] {} None
                docker.io/alpine/git:latest ['--help'] {} None
                platform
                repository
                tag
                Error response from daemon: pull access denied for x/y, repository does not exist or may require \
                'docker login': denied: requested access to the resource is denied
                rpc error: code = NotFound desc = failed to pull and unpack image \
                "docker.io/icetekio/jetson-nano-tensorflow:latest": no match for platform in manifest: not found
                304ms 1.245s 20s
                """);
    }

    @Test
    void initContainerThenContainerRunToSucceededWithKubeletsStatusAndEvents() throws Exception {
        create(pod("two-steps", "Never", """
                  initContainers:
                  - name: prepare
                    image: busybox
                    command: ["sh", "-c", "echo preparing"]
                  containers:
                  - name: main
                    image: busybox:1.36
                    command: ["sh", "-c", "echo out $(GREETING) $MY_POD on $MY_NODE; echo err >&2"]
                    env:
                    - name: GREETING
                      value: hello
                    - name: MY_POD
                      valueFrom: {fieldRef: {fieldPath: metadata.name}}
                    - name: MY_NODE
                      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
                """));
        Pod p = await("two-steps", 20, x -> "Succeeded".equals(phase(x)));
        ContainerStatus init = p.getStatus().getInitContainerStatuses().get(0);
        assertThat(init.getState().getTerminated().getReason()).isEqualTo("Completed");
        assertThat(init.getReady()).isTrue();
        ContainerStatus main = p.getStatus().getContainerStatuses().get(0);
        assertThat(main.getState().getTerminated().getExitCode()).isZero();
        assertThat(main.getState().getTerminated().getReason()).isEqualTo("Completed");
        assertThat(main.getImage()).isEqualTo("docker.io/library/busybox:1.36");
        assertThat(main.getImageID()).matches("docker\\.io/library/busybox@sha256:[0-9a-f]{64}");
        assertThat(main.getContainerID()).matches("containerd://[0-9a-f]{64}");
        assertThat(main.getRestartCount()).isZero();
        assertThat(condition(p, "Ready").getReason()).isEqualTo("PodCompleted");
        assertThat(condition(p, "Initialized").getReason()).isEqualTo("PodCompleted");
        assertThat(condition(p, "PodScheduled").getStatus()).isEqualTo("True");
        assertThat(p.getStatus().getHostIP()).isEqualTo("127.0.0.1");
        assertThat(p.getStatus().getStartTime()).isNotNull();
        assertThat(logs("two-steps", "prepare")).isEqualTo("preparing\n");
        assertThat(logs("two-steps", "main")).isEqualTo("out hello two-steps on " + NODE + "\nerr\n");
        List<String> events = events(p);
        assertThat(events).contains("Normal Pulling Pulling image \"busybox\"", "Normal Created Created container prepare",
                "Normal Started Started container main");
        assertThat(events).anyMatch(e -> e.matches("Normal Pulled Successfully pulled image \"busybox:1.36\" in \\d+ms "
                + "\\(\\d+ms including waiting\\)\\. Image size: 4261504 bytes\\."));
    }

    @Test
    void failingCommandFailsThePodWithItsExitCodeAndAMissingOneIsAStartError() throws Exception {
        create(pod("fails", "Never", """
                  containers:
                  - name: c
                    image: busybox
                    command: ["sh", "-c", "echo giving up; exit 3"]
                """));
        Pod p = await("fails", 20, x -> "Failed".equals(phase(x)));
        ContainerStatus c = p.getStatus().getContainerStatuses().get(0);
        assertThat(c.getState().getTerminated().getExitCode()).isEqualTo(3);
        assertThat(c.getState().getTerminated().getReason()).isEqualTo("Error");
        assertThat(condition(p, "Ready").getReason()).isEqualTo("ContainersNotReady");
        assertThat(logs("fails", "c")).isEqualTo("giving up\n");

        create(pod("no-such-command", "Never", """
                  containers:
                  - name: c
                    image: busybox
                    command: ["no-such-command"]
                """));
        p = await("no-such-command", 20, x -> "Failed".equals(phase(x)));
        c = p.getStatus().getContainerStatuses().get(0);
        assertThat(c.getState().getTerminated().getReason()).isEqualTo("StartError");
        assertThat(c.getState().getTerminated().getExitCode()).isEqualTo(128);
        assertThat(c.getState().getTerminated().getMessage()).isEqualTo("failed to create containerd task: failed to "
                + "create shim task: OCI runtime create failed: runc create failed: unable to start container "
                + "process: exec: \"no-such-command\": executable file not found in $PATH: unknown");
    }

    @Test
    void imageEntrypointAndCmdApplyWhenThePodSetsNoCommand() throws Exception {
        create(pod("git-version", "Never", """
                  containers:
                  - name: git
                    image: alpine/git:v2.47.1
                    args: ["--version"]
                """));
        await("git-version", 20, x -> "Succeeded".equals(phase(x)));
        assertThat(logs("git-version", "git")).startsWith("git version ");
    }

    @Test
    void aRealPytorchImageRunsDebiansTorchWithGlooAndNoSimulatedPackage() throws Exception {
        assumeThat(Path.of("/usr/lib/python3/dist-packages/torch")).isDirectory();
        create(pod("real-torch", "Never", """
                  containers:
                  - name: t
                    image: pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime
                    command: ["python3", "-c", "import json, os, torch, torch.distributed as d; print(torch.__version__, \
                d.is_available(), d.is_gloo_available(), hasattr(torch, '__k3gpu_simulated__'), \
                os.environ.get('PYTHONPATH'), json.loads(os.environ['K3GPU_LAB_IMAGE'])['hostFrameworks'])"]
                """));
        await("real-torch", 60, x -> "Succeeded".equals(phase(x)));
        assertThat(logs("real-torch", "t")).isEqualTo("1.13.0a0 True True False None ['torch']\n");
    }

    @Test
    void onFailureRestartsTheContainerUntilItSucceeds() throws Exception {
        Path marker = dir.resolve("restart-marker");
        create(pod("retry", "OnFailure", """
                  containers:
                  - name: c
                    image: busybox
                    command: ["sh", "-c", "if [ -e %1$s ]; then echo second; else touch %1$s; echo first; exit 1; fi"]
                """.formatted(marker)));
        Pod p = await("retry", 20, x -> "Succeeded".equals(phase(x)));
        ContainerStatus c = p.getStatus().getContainerStatuses().get(0);
        assertThat(c.getRestartCount()).isEqualTo(1);
        assertThat(c.getLastState().getTerminated().getExitCode()).isEqualTo(1);
        assertThat(logs("retry", "c")).isEqualTo("second\n");
        assertThat(client.pods().inNamespace("default").withName("retry").inContainer("c").terminated().getLog())
                .isEqualTo("first\n");
    }

    @Test
    void unknownImageGivesErrImagePullThenImagePullBackOff() throws Exception {
        create(pod("bad-image", "Never", """
                  containers:
                  - name: c
                    image: x/y
                """));
        Pod p = await("bad-image", 20, x -> x.getStatus().getContainerStatuses() != null
                && !x.getStatus().getContainerStatuses().isEmpty()
                && x.getStatus().getContainerStatuses().get(0).getState().getWaiting() != null
                && "ImagePullBackOff".equals(x.getStatus().getContainerStatuses().get(0).getState().getWaiting()
                .getReason()));
        assertThat(phase(p)).isEqualTo("Pending");
        assertThat(p.getStatus().getContainerStatuses().get(0).getState().getWaiting().getMessage())
                .isEqualTo("Back-off pulling image \"x/y\"");
        assertThat(events(p)).containsSubsequence("Normal Pulling Pulling image \"x/y\"",
                "Warning Failed Failed to pull image \"x/y\": rpc error: code = NotFound desc = failed to pull and "
                        + "unpack image \"docker.io/x/y:latest\": failed to resolve reference \"docker.io/x/y:latest\": "
                        + "docker.io/x/y:latest: not found",
                "Warning Failed Error: ErrImagePull", "Normal BackOff Back-off pulling image \"x/y\"",
                "Warning Failed Error: ImagePullBackOff");
        assertThat(kubectlLogsError("bad-image", "c")).contains(
                "container \"c\" in pod \"bad-image\" is waiting to start: trying and failing to pull image");
        client.pods().inNamespace("default").withName("bad-image").delete();
        awaitGone("bad-image");
    }

    @Test
    void deletingARunningPodKillsItsProcessesAndConfirmsTheDeletion() throws Exception {
        create(pod("sleeper", "Never", """
                  terminationGracePeriodSeconds: 5
                  containers:
                  - name: c
                    image: busybox
                    command: ["sh", "-c", "echo started; sleep 3600 & wait"]
                """));
        await("sleeper", 20, x -> "Running".equals(phase(x)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!logs("sleeper", "c").contains("started")) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(sleeping()).as("the container's processes").isNotEmpty();
        long t0 = System.nanoTime();
        client.pods().inNamespace("default").withName("sleeper").delete();
        awaitGone("sleeper");
        System.out.printf("delete to gone: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        assertThat(sleeping()).as("the container's processes after the deletion").isEmpty();
    }

    /** The pids of processes running this test's "sleep 3600". */
    static List<Long> sleeping() {
        return ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("").endsWith("sleep 3600"))
                .filter(h -> h.parent().map(pp -> pp.info().commandLine().orElse("").contains("echo started"))
                        .orElse(false)).map(ProcessHandle::pid).collect(Collectors.toList());
    }

    static void awaitGone(String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (client.pods().inNamespace("default").withName(name).get() != null) {
            assertThat(System.nanoTime()).as("pod %s deleted", name).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    static String kubectlLogsError(String name, String container) {
        try {
            return logs(name, container);
        } catch (Exception e) {
            return e.getMessage();
        }
    }
}
