package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteShell;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The lock a k3gpu apply holds on a host so that two applies never change it at once (k0sctl's per-host lock):
 * {@value #PATH}, whose lines say who holds it ({@code who=user@machine}, {@code when=}, {@code pid=},
 * {@code run=} a random id). Taken atomically: the content is written to a temporary file that is then hard-linked to
 * the lock's name, which fails when the lock exists. Removed at the end of the run, only when it is still this run's.
 */
public final class HostLock {
    public static final String PATH = "/var/lib/k3gpu/apply.lock";
    static final String TAKEN = "k3gpu-lock-taken";
    static final String HELD = "k3gpu-lock-held";

    /** The runs of this process that hold a lock now (several applies may run in one JVM: the library, tests). */
    private static final java.util.Set<String> ACTIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final String run = UUID.randomUUID().toString();
    private final String who;
    private final long pid;

    public HostLock(String who, long pid) {
        this.who = who;
        this.pid = pid;
    }

    /** This process's lock: user@machine and its pid. */
    public static HostLock ofThisProcess() {
        String machine;
        try {
            machine = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            machine = "unknown";
        }
        return new HostLock(System.getProperty("user.name") + "@" + machine, ProcessHandle.current().pid());
    }

    /** The lock file's content for this run. Pure. */
    String content(Instant when) {
        return "who=" + who + "\nwhen=" + when + "\npid=" + pid + "\nrun=" + run + "\n";
    }

    /** The shell command that takes the lock (content on stdin) and prints whether it did, or the holder's lines. */
    static String acquireCommand() {
        return "mkdir -p /var/lib/k3gpu && t=$(mktemp " + PATH + ".XXXXXX) && cat > \"$t\" && chmod 0644 \"$t\" && "
                + "if ln \"$t\" " + PATH + " 2>/dev/null; then rm -f \"$t\"; echo " + TAKEN + "; "
                + "else rm -f \"$t\"; echo " + HELD + "; head -c 1024 " + PATH + "; fi";
    }

    /** Whether the holder is an earlier, finished run of this same process (same user@machine and pid). Pure. */
    boolean leftByThisProcess(Map<String, String> holder) {
        String holderRun = holder.get("run");
        return who.equals(holder.get("who")) && String.valueOf(pid).equals(holder.get("pid")) && holderRun != null
                && !holderRun.equals(run) && !ACTIVE.contains(holderRun);
    }

    /** Replaces the lock's content with this run's (content on stdin), in one rename. */
    static String takeOverCommand() {
        return "t=$(mktemp " + PATH + ".XXXXXX) && cat > \"$t\" && chmod 0644 \"$t\" && mv -f \"$t\" " + PATH
                + " && echo " + TAKEN;
    }

    /** Removes the lock when it is this run's. */
    String releaseCommand() {
        return "grep -qx 'run=" + run + "' " + PATH + " 2>/dev/null && rm -f " + PATH + " || true";
    }

    /** Takes the lock on the host, or fails saying who holds it and how to clear a stale one. */
    public void acquire(RemoteShell shell, String hostName) {
        ExecResult r = shell.sudo(acquireCommand(), content(Instant.now()).getBytes(StandardCharsets.UTF_8));
        String out = r.stdout();
        if (r.ok() && out.startsWith(TAKEN)) {
            ACTIVE.add(run);
            return;
        }
        if (!r.ok() || !out.startsWith(HELD)) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, "cannot take the apply lock " + PATH + " on "
                    + shell.host() + " (exit " + r.exitCode() + "): " + r.tail(2), "check that /var/lib is writable there");
        }
        Map<String, String> holder = parse(out.substring(HELD.length()));
        if (leftByThisProcess(holder)) {
            // an earlier run of this very process could not release it (the link was down then): it is ours to take
            ExecResult t = shell.sudo(takeOverCommand(), content(Instant.now()).getBytes(StandardCharsets.UTF_8));
            if (t.ok() && t.stdout().startsWith(TAKEN)) {
                ACTIVE.add(run);
                return;
            }
        }
        throw held(hostName, shell.host(), holder);
    }

    /** Releases the lock when this run holds it; a failure to is not an error of the run (the next one reports it). */
    public void release(RemoteShell shell) {
        ACTIVE.remove(run);
        shell.sudo(releaseCommand());
    }

    /** The holder's lines (untrusted: what the node's file says), key to value, printable characters only. Pure. */
    static Map<String, String> parse(String text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\\R")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq).strip(), line.substring(eq + 1).replaceAll("[^\\x20-\\x7e]", "?")
                        .strip());
            }
        }
        return m;
    }

    /** Why the host is locked: whose lock, whether it is stale (its process on this machine is gone), how to clear it. */
    K3gpuException held(String hostName, String address, Map<String, String> holder) {
        String whoHolds = holder.getOrDefault("who", "?");
        String pidText = holder.getOrDefault("pid", "?");
        String since = holder.getOrDefault("when", "?");
        String me = who.substring(who.indexOf('@') + 1);
        boolean here = whoHolds.endsWith("@" + me);
        Optional<Long> holderPid = pidText.matches("\\d{1,10}") ? Optional.of(Long.parseLong(pidText)) : Optional.empty();
        boolean stale = here && holderPid.isPresent() && ProcessHandle.of(holderPid.get()).map(p -> !p.isAlive())
                .orElse(true);
        String clear = "ssh " + address + " sudo rm " + PATH;
        if (stale) {
            return new K3gpuException(ExitCode.FAILED, hostName + " is locked by a stale apply: " + PATH + " says "
                    + whoHolds + " pid " + pidText + " since " + since + ", and that process is gone",
                    "remove the stale lock (" + clear + "), then run apply again");
        }
        return new K3gpuException(ExitCode.FAILED, hostName + " is locked by another apply: " + whoHolds + " pid "
                + pidText + " since " + since + " (" + PATH + ")",
                "wait for that apply to finish; if none runs any more (the lock is stale), remove it (" + clear
                        + ") and run apply again");
    }
}
