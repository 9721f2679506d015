package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.kube.Kubeconfig;
import io.k3gpu.core.remote.ChangesInFlight;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteCommandException;
import io.k3gpu.core.remote.RemoteFileCommands;
import io.k3gpu.core.remote.RemoteFiles;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.remote.RemoteStep;
import io.k3gpu.core.remote.RemoteTimeoutException;
import io.k3gpu.core.remote.Upload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Stream;

/** The remote steps install, join and reset share. */
final class K3sFlowSupport {
    static final String K3S_YAML = "/etc/rancher/k3s/k3s.yaml";
    static final String NODE_TOKEN = "/var/lib/rancher/k3s/server/node-token";

    private K3sFlowSupport() {
    }

    /**
     * Runs the install script (uploading an air-gap bundle first when given). {@code announce} prints the progress
     * line: before the bundle's upload, or else once the script's run is registered as a change in flight, so that a
     * Ctrl-C right after the line still says how the node was left.
     */
    static void runInstall(RemoteShell shell, K3sInstall install, String arch, Runnable announce) {
        String uploaded = null;
        if (install.airgapBundle() != null) {
            announce.run();
            uploaded = uploadBundle(shell, install.airgapBundle(), arch);
        }
        byte[] env = InstallCommands.envFile(install, false).getBytes(StandardCharsets.UTF_8);
        String again = "run the same command again to finish the install, or k3gpu reset --ip " + shell.host()
                + " to remove what it installed";
        RemoteStep step = RemoteStep.install("running the K3s install script");
        ChangesInFlight.Registration inFlight = ChangesInFlight.process().begin(new ChangesInFlight.Change(
                shell.host(), step.what(), "the K3s install script may still be running there "
                + "(the node stops it at its deadline at the latest); " + again,
                () -> (shell.stop(step) ? "the K3s install script was stopped there; "
                        : "the K3s install script had ended; ") + again));
        if (install.airgapBundle() == null) {
            announce.run();
        }
        try {
            ExecResult r = shell.sudoUpload(InstallCommands.install(install, uploaded), Upload.of(env), step);
            if (r.exitCode() == RemoteFileCommands.REFUSED) {
                throw new RemoteCommandException(shell.host(), "sending the K3s install environment", r,
                        "the link to the node was cut before the install started; run again");
            }
            if (r.exitCode() == InstallCommands.DOWNLOAD_FAILED) {
                throw new K3gpuException(ExitCode.REMOTE_COMMAND, "the node " + shell.host()
                        + " could not download the K3s install script from " + install.installUrl() + ": " + r.tail(2),
                        "check the node's network, or use --install-url with a mirror or --airgap-bundle DIR");
            }
            if (!r.ok()) {
                throw new K3gpuException(ExitCode.REMOTE_COMMAND, "the K3s install script failed on " + shell.host()
                        + " (exit " + r.exitCode() + "): " + r.tail(3),
                        "look at the lines above; --k3s-version and --k3s-channel choose what is downloaded");
            }
        } catch (RemoteTimeoutException e) {
            throw new K3gpuException(ExitCode.TIMEOUT, e.getMessage() + "; the script was stopped on the node", again);
        } finally {
            inFlight.close();
            Arrays.fill(env, (byte) 0);
        }
    }

    /** Copies install.sh, the k3s binary for the node's arch and any image archives; returns the script's path. */
    private static String uploadBundle(RemoteShell shell, Path dir, String arch) {
        RemoteFiles files = new RemoteFiles(shell, Clock.systemUTC());
        boolean arm = "aarch64".equals(arch) || "arm64".equals(arch);
        Path script = dir.resolve("install.sh");
        Path binary = dir.resolve(arm ? "k3s-arm64" : "k3s");
        if (!Files.isRegularFile(script) || !Files.isRegularFile(binary)) {
            throw new K3gpuException(ExitCode.USAGE, "the air-gap bundle " + dir + " needs install.sh and "
                    + binary.getFileName() + " (the node is " + arch + ")",
                    "download them from the K3s release page into that directory");
        }
        try {
            files.writeAtomically("/usr/local/bin/k3s", binary, "0755");
            shell.sudoOrThrow("making k3s executable", "chmod 0755 /usr/local/bin/k3s");
            String images = arm ? "arm64" : "amd64";
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith("k3s-airgap-images-" + images)).toList()) {
                    files.writeAtomically("/var/lib/rancher/k3s/agent/images/" + p.getFileName(), p, "0644");
                }
            }
            String remoteScript = "/var/lib/rancher/k3s/k3gpu-install.sh";
            files.writeAtomically(remoteScript, script, "0700");
            return remoteScript;
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read the air-gap bundle " + dir + ": " + e.getMessage(), null);
        }
    }

    /** The server's kubeconfig, pointed at {@code serverUrl} and named {@code context}; waits for K3s to write it. */
    static String fetchKubeconfig(RemoteShell server, String serverUrl, String context, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            ExecResult r = server.sudo(InstallCommands.readKubeconfig(Kubeconfig.MAX_K3S_YAML));
            if (!r.ok() && r.exitCode() != RemoteFileCommands.ABSENT) {
                throw new RemoteCommandException(server.host(), "reading " + K3S_YAML, r);
            }
            if (r.ok() && !r.stdout().isBlank()) {
                return Kubeconfig.fromK3s(server.host() + ":" + K3S_YAML, r.stdout(), serverUrl, context);
            }
            if (System.nanoTime() > deadline) {
                throw new K3gpuException(ExitCode.TIMEOUT, "K3s did not write " + K3S_YAML + " on " + server.host()
                        + " within " + wait.toSeconds() + "s", "is K3s installed and running there? (k3gpu facts)");
            }
            sleep(Duration.ofMillis(500));
        }
    }

    /** The node token from the server; it stays in memory and never reaches output or logs. */
    static char[] readNodeToken(RemoteShell server) {
        ExecResult r = server.sudo(InstallCommands.readNodeToken());
        if (!r.ok() || r.stdout().isBlank()) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, "cannot read the node token on " + server.host()
                    + " (" + NODE_TOKEN + ")", "is this the K3s server? install it with: k3gpu install --ip " + server.host());
        }
        return r.stdout().strip().toCharArray();
    }

    /** The service's last log lines, or why they could not be read (a failure is being reported already). */
    static String serviceLogTail(RemoteShell shell, String service, int lines) {
        try {
            ExecResult r = shell.sudo(InstallCommands.serviceLog(service, lines), null,
                    RemoteStep.diagnostic("reading the log of " + service));
            return r.stdout().strip();
        } catch (K3gpuException e) {
            return "(its log could not be read: " + e.getMessage() + ")";
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null, e);
        }
    }
}
