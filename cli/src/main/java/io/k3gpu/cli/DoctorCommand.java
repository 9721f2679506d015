package io.k3gpu.cli;

import io.k3gpu.core.doctor.Check;
import io.k3gpu.core.doctor.Doctor;
import io.k3gpu.core.doctor.DoctorChecks;
import io.k3gpu.core.doctor.DoctorReport;
import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.fleet.ClusterSpec;
import io.k3gpu.core.fleet.HostSpec;
import io.k3gpu.core.fleet.SshFleet;
import io.k3gpu.core.kube.ClusterApi;
import io.k3gpu.core.kube.Fabric8ClusterApi;
import io.k3gpu.core.kube.NodeStatus;
import io.k3gpu.core.ssh.SshConnector;
import io.k3gpu.core.text.TerminalText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

@Command(name = "doctor",
        description = {"Check that a node is ready to be (or is) a GPU node of the cluster, with the fix for each problem.",
                "",
                "Checks L4T/JetPack and its known traps, the NVIDIA Container Toolkit and its CSV lists,",
                "Docker/containerd, stale nvidia-container-runtime copies, what k3s check-config verifies (kernel",
                "options, cgroups with memory), swap, free disk under /var/lib/rancher and, with --server or",
                "--kubeconfig, the server's 6443/tcp and 8472/udp from the node, its clock against the server's,",
                "and whether its hostname is another Node's. Each check is PASS, WARN, FAIL or SKIP with the fix.",
                "-f checks every host of a cluster file at once. Exit 1 on any FAIL."})
final class DoctorCommand implements Callable<Integer> {
    private final Terminal terminal;

    @Mixin
    SshOptions ssh;

    @Mixin
    OutputOptions output;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
            description = "A cluster file: every host at once (its first server is the server; the cluster's Nodes "
                    + "are read through it when K3s runs there).")
    Path file;

    @Option(names = "--server", paramLabel = "IP",
            description = "The K3s server the node joins (default: the server of --kubeconfig).")
    String server;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "The cluster's kubeconfig: its Nodes (is the hostname taken?) and its server.")
    Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "Context in the kubeconfig (default: its current context).")
    String context;

    DoctorCommand(Terminal terminal) {
        this.terminal = terminal;
        this.ssh = new SshOptions(terminal);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        List<DoctorReport> reports = file != null ? fleet() : List.of(one());
        PrintWriter out = terminal.out();
        if (json) {
            if (file == null) {
                out.print(Json.pretty(reports.get(0).toJson()) + "\n");
            } else {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("ok", reports.stream().allMatch(DoctorReport::ok));
                doc.put("hosts", reports.stream().map(DoctorReport::toJson).toList());
                out.print(Json.pretty(doc) + "\n");
            }
        } else {
            for (int i = 0; i < reports.size(); i++) {
                out.print((i > 0 ? "\n" : "") + text(reports.get(i)));
            }
        }
        out.flush();
        return reports.stream().allMatch(DoctorReport::ok) ? 0 : 1;
    }

    private DoctorReport one() {
        if (server != null && server.isBlank()) {
            throw new K3gpuException(ExitCode.USAGE, "--server is empty", "give the server's address");
        }
        String srv = server;
        List<NodeStatus> nodes = null;
        String note = "no --kubeconfig given";
        if (kubeconfig != null) {
            String yaml = io.k3gpu.core.util.LocalFiles.read(kubeconfig).orElseThrow(() -> new K3gpuException(
                    ExitCode.USAGE, "no kubeconfig at " + kubeconfig, "pass the file k3gpu install wrote"));
            ClusterApi api = Fabric8ClusterApi.forCommands(yaml, context);
            if (srv == null) {
                srv = URI.create(api.serverUrl()).getHost();
            }
            try {
                nodes = api.nodes();
            } catch (K3gpuException e) {
                // the node is still examined; the server checks say whether it can be reached from there
                nodes = null;
                note = "the cluster's Nodes could not be read: " + e.getMessage();
            }
        }
        try (SshConnector connector = ssh.connector()) {
            return Doctor.examine(connector.connect(ssh.target()), new DoctorChecks.Cluster(srv, nodes, note));
        }
    }

    /** Every host at once, one thread each; a host that cannot be reached is a report with its error. */
    private List<DoctorReport> fleet() {
        ClusterSpec spec = FleetCommands.load(file, terminal);
        String srv = server != null ? server : URI.create(spec.serverUrl()).getHost();
        try (SshConnector connector = FleetCommands.connector(terminal);
             SshFleet fleet = SshFleet.forPlan(spec, connector, terminal::env)) {
            List<NodeStatus> nodes = null;
            String note = fleet.openExistingCluster().orElse(null);
            if (note == null) {
                nodes = fleet.clusterNodes();
            }
            DoctorChecks.Cluster cluster = new DoctorChecks.Cluster(srv, nodes, note);
            ExecutorService pool = Executors.newFixedThreadPool(Math.min(spec.hosts().size(), 32));
            try {
                List<Future<DoctorReport>> futures = new ArrayList<>();
                for (HostSpec h : spec.hosts()) {
                    futures.add(pool.submit(() -> {
                        try {
                            DoctorReport r = Doctor.examine(fleet.shell(h), cluster);
                            return new DoctorReport(h.name(), r.hostname(), r.checks(), null);
                        } catch (K3gpuException e) {
                            return new DoctorReport(h.name(), null, List.of(),
                                    e.getMessage() + (e.hint() == null ? "" : "; " + e.hint()));
                        }
                    }));
                }
                List<DoctorReport> reports = new ArrayList<>();
                for (Future<DoctorReport> f : futures) {
                    reports.add(f.get());
                }
                return reports;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** One host: a header with the counts, then one line per check and its fix. Pure; unit-tested. */
    static String text(DoctorReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.host());
        if (r.hostname() != null && !r.hostname().equals(r.host())) {
            sb.append(" (").append(TerminalText.strip(r.hostname())).append(')');
        }
        if (r.error() != null) {
            sb.append(": not examined: ").append(TerminalText.strip(r.error())).append('\n');
            return sb.toString();
        }
        sb.append(": ");
        List<String> counts = new ArrayList<>();
        for (Check.Status s : Check.Status.values()) {
            if (r.count(s) > 0) {
                counts.add(r.count(s) + " " + s);
            }
        }
        sb.append(String.join(", ", counts)).append('\n');
        for (Check c : r.checks()) {
            sb.append(String.format("  %-4s  %-34s %s%n", c.status(), c.title(), TerminalText.strip(c.detail())));
            if (c.fix() != null && c.status() != Check.Status.PASS) {
                sb.append(String.format("  %-4s  %-34s fix: %s%n", "", "", TerminalText.strip(c.fix())));
            }
        }
        return sb.toString();
    }
}
