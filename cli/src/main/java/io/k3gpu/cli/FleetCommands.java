package io.k3gpu.cli;

import io.k3gpu.core.fleet.ClusterFile;
import io.k3gpu.core.fleet.ClusterFileException;
import io.k3gpu.core.fleet.ClusterSpec;
import io.k3gpu.core.fleet.FleetResult;
import io.k3gpu.core.fleet.HostResult;
import io.k3gpu.core.ssh.SshConnector;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What plan, apply and reset -f share: reading the cluster file, the run's SSH connector, the progress view. */
final class FleetCommands {
    private FleetCommands() {
    }

    /**
     * The validated file. When it is not valid, every problem goes to stderr, one a line ({@code file:line:col:
     * message}), before the error itself; no host has been contacted. Secrets' environment variables are those of
     * the k3gpu process.
     */
    static ClusterSpec load(Path file, Terminal terminal) {
        try {
            return ClusterFile.load(file, terminal::env);
        } catch (ClusterFileException e) {
            terminal.err().print(e.lines());
            terminal.err().flush();
            throw e;
        }
    }

    /** One connector for the whole run: one SSH connection per host; warnings (a new host key) on stderr. */
    static SshConnector connector(Terminal terminal) {
        return new SshConnector(m -> {
            terminal.err().println("warning: " + m);
            terminal.err().flush();
        }, terminal.env("SSH_AUTH_SOCK"));
    }

    static FleetProgress.Mode mode(boolean json, Terminal terminal) {
        if (json) {
            return FleetProgress.Mode.JSON;
        }
        return terminal.interactive() ? FleetProgress.Mode.LIVE : FleetProgress.Mode.PLAIN;
    }

    /** The progress view of a run: its mode, and on a terminal the terminal's size. */
    static FleetProgress progress(Terminal terminal, boolean json, ClusterSpec spec, String verb) {
        FleetProgress.Mode mode = mode(json, terminal);
        Terminal.Size size = mode == FleetProgress.Mode.LIVE ? terminal.size() : new Terminal.Size(Integer.MAX_VALUE, 120);
        PrintWriter out = mode == FleetProgress.Mode.LIVE ? terminal.screen() : terminal.out();
        return new FleetProgress(out, mode, spec, verb, size.columns(), size.rows(), System::nanoTime);
    }

    /** The text summary: one line per host (what changed, or that nothing did, or why it failed), then the failures. */
    static void summary(PrintWriter out, String verb, FleetResult r, int connections) {
        long changed = r.count(HostResult.Status.CHANGED);
        long unchanged = r.count(HostResult.Status.UNCHANGED);
        long failed = r.count(HostResult.Status.FAILED);
        long skipped = r.count(HostResult.Status.SKIPPED);
        out.println();
        for (HostResult h : r.hosts()) {
            out.println("  " + h.host().name() + ": " + FleetProgress.outcome(h));
        }
        String counts = changed + " changed, " + unchanged + " unchanged, " + failed + " failed"
                + (skipped > 0 ? ", " + skipped + " skipped" : "");
        out.println(verb + ": " + r.hosts().size() + (r.hosts().size() == 1 ? " host in " : " hosts in ") + FleetProgress.seconds(r.elapsed().toNanos()) + ": "
                + (changed == 0 && r.ok() ? "nothing changed (" + counts + ")" : counts) + "; " + connections
                + (connections == 1 ? " SSH connection" : " SSH connections"));
        if (!r.ok()) {
            out.println("failures:");
            for (HostResult h : r.failures()) {
                out.println("  " + h.host().display() + ": " + h.error());
            }
        }
        out.flush();
    }

    /** The summary as a JSON line. */
    static Map<String, Object> summaryJson(FleetResult r, int connections) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("event", "summary");
        s.put("hosts", r.hosts().size());
        for (HostResult.Status st : HostResult.Status.values()) {
            s.put(st.label(), r.count(st));
        }
        s.put("elapsedMs", r.elapsed().toMillis());
        s.put("sshConnections", connections);
        List<Map<String, Object>> failures = new ArrayList<>();
        for (HostResult h : r.failures()) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("host", h.host().name());
            f.put("address", h.host().address());
            f.put("status", h.status().label());
            f.put("error", h.error());
            f.put("exitCode", h.exitCode() == null ? null : h.exitCode().code());
            failures.add(f);
        }
        s.put("failures", failures);
        return s;
    }
}
