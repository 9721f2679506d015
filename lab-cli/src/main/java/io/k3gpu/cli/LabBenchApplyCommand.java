package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabNode;
import io.k3gpu.lab.LabState;
import io.k3gpu.lab.k3sdist.K3sDistribution;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The fleet benchmark (docs/benchmarks.md, "Fleet"): for each N, a lab of one server and N GPU agents; an unmeasured
 * apply and reset (warm-up), then apply with all agents at once, apply again (converged), reset, apply with
 * --parallel 1, reset. Each apply runs as its own k3gpu
 * process, as a user runs it (with the launcher's JVM options): wall time, the apply's own time, SSH connections per
 * host and the process's peak RSS.
 */
@Command(name = "bench-apply", hidden = true,
        description = "Benchmark apply on lab clusters of 1 server + N agents (needs root).")
final class LabBenchApplyCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = "--agents", paramLabel = "N[,N...]", split = ",", defaultValue = "1,10,30",
            description = "Agent counts (default: ${DEFAULT-VALUE}).")
    List<Integer> agents;

    @Option(names = "--profile", paramLabel = "P[,P...]", split = ",", defaultValue = "jetson-nano,orin-nano,dgpu",
            description = "Agent profiles, cycled (default: ${DEFAULT-VALUE}).")
    List<String> profiles;

    @Option(names = "--id", defaultValue = "benchfleet", description = "Lab id (default: ${DEFAULT-VALUE}).")
    String id;

    @Option(names = "--subnet", defaultValue = "252", description = "Lab subnet (default: ${DEFAULT-VALUE}).")
    int subnet;

    @Option(names = "--runs", defaultValue = "1",
            description = "Measured rounds per N; the table shows medians (default: ${DEFAULT-VALUE}).")
    int runs;

    /** What the ./k3gpu launcher gives apply's JVM (LauncherTest keeps the two the same). */
    static final String LAUNCHER_JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

    @Option(names = "--java-opts", paramLabel = "OPTS", defaultValue = LAUNCHER_JAVA_OPTS,
            description = "JVM options of the measured k3gpu processes (default: the ./k3gpu launcher's, "
                    + "${DEFAULT-VALUE}; \"\" for the JVM's defaults).")
    String javaOpts;

    LabBenchApplyCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    /** One measured k3gpu process. */
    record Run(int exit, double wallS, double applyS, int connections, int hosts, long peakRssKiB, String summary) {
        double connectionsPerHost() {
            return hosts == 0 ? 0 : (double) connections / hosts;
        }
    }

    @Override
    public Integer call() throws Exception {
        List<String[]> rows = new ArrayList<>();
        Run base = null;
        Run baseSeq = null;
        for (int n : agents) {
            List<String> p = new ArrayList<>(List.of("cpu-only"));
            p.addAll(LabConfig.cycle(n, profiles));
            LabConfig config = new LabConfig(id, subnet, p, LabConfig.STATE_ROOT.resolve(id), null);
            Lab.down(config.stateDir());
            LabState lab = Lab.up(config);
            try {
                Path dir = Files.createTempDirectory("k3gpu-bench-apply");
                Path file = clusterFile(lab, dir);
                // a first, unmeasured round: the lab's first K3s server start pays for cold caches
                check(k3gpu("apply", file), "warm-up apply");
                check(k3gpu("reset", file), "reset");
                String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
                List<Run> all = new ArrayList<>();
                List<Run> noop = new ArrayList<>();
                List<Run> seq = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    all.add(check(k3gpu("apply", file), "apply"));
                    noop.add(check(k3gpu("apply", file), "re-apply"));
                    check(k3gpu("reset", file), "reset");
                    seq.add(check(k3gpu("apply", file, "--parallel", "1"), "apply --parallel 1"));
                    check(k3gpu("reset", file), "reset");
                }
                Run parallel = median(all);
                Run again = median(noop);
                Run sequential = median(seq);
                if (base == null) {
                    base = parallel;
                    baseSeq = sequential;
                }
                rows.add(new String[]{Integer.toString(n), s(parallel.applyS()) + " (" + s(parallel.wallS()) + ")",
                        s(sequential.applyS()) + " (" + s(sequential.wallS()) + ")",
                        String.format(Locale.ROOT, "%.2f", parallel.applyS() / base.applyS()),
                        String.format(Locale.ROOT, "%.2f", sequential.applyS() / baseSeq.applyS()),
                        s(again.applyS()),
                        String.format(Locale.ROOT, "%.2f / %.2f / %.2f", parallel.connectionsPerHost(),
                                again.connectionsPerHost(), sequential.connectionsPerHost()),
                        parallel.peakRssKiB() / 1024 + " / " + sequential.peakRssKiB() / 1024, load});
                terminal.err().println("N=" + n + ": apply " + times(all) + ", re-apply " + times(noop)
                        + ", --parallel 1 " + times(seq) + "; " + parallel.summary());
                terminal.err().flush();
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            } finally {
                Lab.down(lab.stateDir());
            }
        }
        terminal.out().println("| agents | apply, all at once: s (process wall s) | apply --parallel 1: s (wall s) "
                + "| ratio to N=1, all at once | ratio to N=1, --parallel 1 | converged re-apply, s "
                + "| SSH connections per host (apply / re-apply / sequential) | peak RSS MiB (all at once / sequential) "
                + "| load average before |");
        terminal.out().println("|---|---|---|---|---|---|---|---|---|");
        for (String[] r : rows) {
            terminal.out().println("| " + String.join(" | ", r) + " |");
        }
        terminal.out().flush();
        return 0;
    }

    private static Path clusterFile(LabState lab, Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("cluster:\n  installUrl: ").append(K3sDistribution.of(lab).installUrl())
                .append("\n  readyTimeout: 5m\n  kubeconfig: {path: kubeconfig, context: bench}\n");
        sb.append("ssh:\n  key: ").append(lab.keyFile()).append("\n  knownHosts: ").append(lab.knownHostsFile())
                .append("\n  sshConfig: /dev/null\n  strictHostKeyChecking: yes\n  connectTimeout: 30s\nhosts:\n");
        List<LabNode> nodes = lab.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            LabNode n = nodes.get(i);
            sb.append("  - {name: ").append(n.name()).append(", address: ").append(n.ip()).append(", role: ")
                    .append(i == 0 ? "server, gpu: none}" : "agent, gpu: auto}").append('\n');
        }
        Path f = dir.resolve("cluster.yaml");
        Files.writeString(f, sb.toString(), StandardCharsets.UTF_8);
        return f;
    }

    /** Runs k3gpu VERB -f FILE -o json in a JVM of its own, watching its peak RSS. */
    private Run k3gpu(String verb, Path file, String... more) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        if (!javaOpts.isBlank()) {
            cmd.addAll(List.of(javaOpts.strip().split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), K3gpu.class.getName(), verb, "-f",
                file.toString(), "-o", "json"));
        cmd.addAll(List.of(more));
        Path log = Files.createTempFile("k3gpu-bench", ".jsonl");
        Path err = Files.createTempFile("k3gpu-bench", ".err");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectOutput(log.toFile()).redirectError(err.toFile()).start();
        Path status = Path.of("/proc", Long.toString(p.pid()), "status");
        long peak = 0;
        while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, hwm(status));
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        List<String> lines = Files.readAllLines(log);
        List<String> errors = Files.readAllLines(err);
        Files.deleteIfExists(log);
        Files.deleteIfExists(err);
        String last = lines.isEmpty() ? "{}" : lines.get(lines.size() - 1);
        if (!last.startsWith("{\"event\":\"summary\"")) {
            last = last + " | stderr: " + String.join(" | ", errors.subList(Math.max(0, errors.size() - 5), errors.size()));
        }
        JsonNode s = Json.MAPPER.readTree(last);
        return new Run(p.exitValue(), wall, s.path("elapsedMs").asLong() / 1000.0, s.path("sshConnections").asInt(),
                s.path("hosts").asInt(), peak, last);
    }

    private static long hwm(Path status) {
        try {
            for (String l : Files.readAllLines(status)) {
                if (l.startsWith("VmHWM:")) {
                    return Long.parseLong(l.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process just ended
        }
        return 0;
    }

    private static Run check(Run r, String what) {
        if (r.exit() != 0) {
            throw new K3gpuException(ExitCode.FAILED, "bench: " + what + " failed (exit " + r.exit() + "): " + r.summary(),
                    null);
        }
        return r;
    }

    private static String times(List<Run> runs) {
        return runs.stream().map(r -> s(r.applyS())).toList().toString();
    }

    /** The run of median apply time (the lower middle one for an even count). */
    private static Run median(List<Run> runs) {
        List<Run> sorted = new ArrayList<>(runs);
        sorted.sort(java.util.Comparator.comparingDouble(Run::applyS));
        return sorted.get((sorted.size() - 1) / 2);
    }

    private static String s(double seconds) {
        return String.format(Locale.ROOT, "%.1f", seconds);
    }
}
