package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabState;
import io.k3gpu.lab.k3sdist.K3sDistribution;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * The seed's story, run for real on the embedded lab and shown as a person would type it: each step is the real
 * k3gpu command (run in this process), its output, and whether it did what it should — the failing verify included.
 */
@Command(name = "demo", description = {"Run the seed's whole story on an embedded lab, then tear it down (needs root).",
        "Steps: ssh-keys, install, join --docker, nodes, verify (FAIL), gpu-runtime, verify (PASS), train --repo,",
        "stats --all."})
final class DemoCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = "--keep", description = "Leave the lab running afterwards (k3gpu lab down --id demo removes it).")
    boolean keep;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "1", description = "Training epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    DemoCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    /** One step: a command line, and what its exit code and output must show. */
    private record Step(String title, List<String> args, String stdin, int exit, Predicate<String> output, String expectation) {
    }

    @Override
    public Integer call() {
        PrintWriter out = terminal.out();
        Instant start = Instant.now();
        LabConfig config = new LabConfig("demo", 250, List.of("cpu-only", "jetson-nano"), null, null);
        Lab.down(config.stateDir());
        out.println("== bringing up the lab: a K3s server node and a Jetson Nano (real sshd, replayed hardware)");
        LabState lab = Lab.up(config);
        int failures = 0;
        try {
            List<Step> steps = story(lab);
            int n = 0;
            for (Step s : steps) {
                n++;
                out.println();
                out.println("== " + n + "/" + steps.size() + " " + s.title());
                out.println("$ k3gpu " + String.join(" ", s.args()));
                out.flush();
                String[] result = run(s);
                int exit = Integer.parseInt(result[0]);
                out.print(result[1]);
                boolean ok = exit == s.exit() && s.output().test(result[1]);
                out.println(ok ? "-> as expected: " + s.expectation()
                        : "-> NOT as expected (exit " + exit + "): wanted " + s.expectation());
                out.flush();
                if (!ok) {
                    failures++;
                    break;
                }
            }
        } finally {
            if (keep) {
                out.println("\nthe lab stays up: k3gpu lab status --id demo; k3gpu lab down --id demo");
            } else {
                Lab.down(lab.stateDir());
                out.println("\n== the lab is down");
            }
        }
        long seconds = Duration.between(start, Instant.now()).toSeconds();
        if (failures > 0) {
            throw new K3gpuException(ExitCode.FAILED, "the demo stopped at a step that did not do what it should (after "
                    + seconds + "s)", "the output above shows the step; run it again with --keep to look at the lab");
        }
        out.println("demo: every step did what it should, in " + seconds + "s");
        return 0;
    }

    private List<Step> story(LabState lab) {
        String server = lab.node("node1").ip();
        String jetson = lab.node("jetson1").ip();
        K3sDistribution k3s = K3sDistribution.of(lab);
        Path home = lab.stateDir().resolve("demo-user");
        String key = home.resolve(".ssh/id_ed25519").toString();
        String knownHosts = home.resolve(".ssh/known_hosts").toString();
        String kubeconfig = home.resolve("kubeconfig").toString();
        List<String> ssh = List.of("--ssh-key", key, "--known-hosts", knownHosts, "--ssh-config", "/dev/null");
        String password = lab.user("k3gpu").password() + "\n";
        List<Step> steps = new ArrayList<>();
        steps.add(new Step("copy an SSH key to the server (password login once, then keys only)",
                args(List.of("ssh-keys", "--ip", server, "--user", "k3gpu", "--key", key, "--known-hosts", knownHosts,
                        "--ssh-config", "/dev/null", "--root", "--password-stdin")), password, 0,
                o -> o.contains("key login works"), "key login works and root accepts the key"));
        steps.add(new Step("copy it to the Jetson too",
                args(List.of("ssh-keys", "--ip", jetson, "--user", "k3gpu", "--key", key, "--known-hosts", knownHosts,
                        "--ssh-config", "/dev/null", "--root", "--password-stdin")), password, 0,
                o -> o.contains("key login works"), "key login works"));
        steps.add(new Step("what the Jetson is", args(List.of("facts", "--ip", jetson), ssh), "", 0,
                o -> o.contains("32.7.1") && o.contains("default runtime runc"), "a Nano on L4T 32.7.1, Docker's default runtime still runc"));
        steps.add(new Step("install the K3s server", args(List.of("install", "--ip", server, "--install-url", k3s.installUrl(),
                "--local-path", kubeconfig, "--timeout", "90s"), ssh), "", 0, o -> o.contains("is Ready"), "the server is Ready"));
        steps.add(new Step("join the Jetson with Docker, as the seed does", args(List.of("join", "--ip", jetson, "--server-ip", server,
                "--docker", "--install-url", k3s.installUrl(), "--timeout", "90s"), ssh), "", 0,
                o -> o.contains("is Ready"), "the Jetson is a Ready node"));
        steps.add(new Step("the cluster", List.of("nodes", "-o", "wide", "--kubeconfig", kubeconfig), "", 0,
                o -> o.contains("jetson1") && o.contains("docker-runc"), "both nodes Ready; the Jetson's GPU runtime is runc"));
        steps.add(new Step("does a pod get the GPU? (not yet)", List.of("verify", "--node", "jetson1", "--kubeconfig", kubeconfig,
                "--timeout", "90s"), "", 1, o -> o.contains("FAIL") && o.contains("k3gpu gpu-runtime --ip " + jetson),
                "FAIL with the seed's dlerror and the fix to run"));
        steps.add(new Step("make NVIDIA Docker's default runtime", args(List.of("gpu-runtime", "--ip", jetson), ssh), "", 0,
                o -> o.contains("changed"), "daemon.json merged, Docker restarted, default runtime nvidia"));
        steps.add(new Step("does a pod get the GPU now?", List.of("verify", "--node", "jetson1", "--kubeconfig", kubeconfig,
                "--timeout", "90s"), "", 0, o -> o.contains("PASS"), "PASS: libcudart loads"));
        steps.add(new Step("train MNIST the seed's way: git-clone init container, then python3 /workspace/mnist.py",
                List.of("train", "--node", "jetson1", "--repo", gitRepo(lab), "--script", "mnist.py", "--epochs",
                        Integer.toString(epochs), "--data-dir", "/usr/share/datasets/fashion-mnist", "--kubeconfig", kubeconfig,
                        "--timeout", "3m"), "", 0, o -> o.contains("Complete") && o.contains("test accuracy"),
                "the Job completes with a real test accuracy"));
        steps.add(new Step("a few seconds of tegrastats from every GPU node of the cluster", args(List.of("stats", "--all",
                "--kubeconfig", kubeconfig, "--duration", "3s", "--interval", "1000"), ssh), "", 0,
                o -> o.contains(" jetson1 ") && !o.contains(" node1 "), "live samples from the board, found as jetson1 in the cluster"));
        return steps;
    }

    /** The lab's git server holds example-mnist-training with the project's trainer as mnist.py. */
    private static String gitRepo(LabState lab) {
        return K3sDistribution.of(lab).gitRepoUrl();
    }

    private static List<String> args(List<String> a, List<String> more) {
        List<String> all = new ArrayList<>(a);
        all.addAll(more);
        return all;
    }

    private static List<String> args(List<String> a) {
        return a;
    }

    /** Runs one k3gpu command in this process; returns its exit code and what it printed (stdout then stderr). */
    private String[] run(Step s) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Map<String, String> env = new HashMap<>();
        int code = K3gpu.run(s.args().toArray(String[]::new), new PrintWriter(out), new PrintWriter(err),
                new ByteArrayInputStream(s.stdin().getBytes(StandardCharsets.UTF_8)), env);
        return new String[]{Integer.toString(code), indent(err.toString()) + indent(out.toString())};
    }

    private static String indent(String text) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\\R")) {
            if (!line.isEmpty()) {
                sb.append("  ").append(line).append('\n');
            }
        }
        return sb.toString();
    }
}
