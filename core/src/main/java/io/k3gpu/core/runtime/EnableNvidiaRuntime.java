package io.k3gpu.core.runtime;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import io.k3gpu.core.remote.ChangesInFlight;
import io.k3gpu.core.remote.ExecResult;
import io.k3gpu.core.remote.RemoteFiles;
import io.k3gpu.core.remote.RemoteShell;
import io.k3gpu.core.remote.RemoteStep;
import io.k3gpu.core.remote.RemoteTimeoutException;
import io.k3gpu.core.text.UnifiedDiff;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Makes the NVIDIA container runtime the default on a node, as {@code nvidia-ctk runtime configure --set-as-default}
 * would, but safely: checks first and changes nothing when already right; backs the file up, replaces it
 * atomically, restarts the runtime, proves the running daemon uses nvidia, and rolls back when it does not.
 */
public final class EnableNvidiaRuntime {
    /** The runtime's name in daemon.json and in K3s's default-runtime. */
    public static final String NVIDIA = "nvidia";
    private final Events events;
    private final Clock clock;
    private final Duration verifyTimeout;

    public EnableNvidiaRuntime(Events events, Clock clock, Duration verifyTimeout) {
        this.events = events;
        this.clock = clock;
        this.verifyTimeout = verifyTimeout;
    }

    /**
     * @param requested docker or k3s; null chooses docker when Docker is installed, else K3s's containerd
     */
    public RuntimeChange run(RemoteShell shell, ContainerRuntime requested, boolean dryRun) {
        String host = shell.host();
        RuntimeProbe probe = RuntimeProbe.parse(shell.sudoOrThrow("checking the node", RuntimeProbe.COMMAND).stdout());
        ContainerRuntime runtime = requested != null ? requested
                : probe.docker() != null ? ContainerRuntime.DOCKER : ContainerRuntime.K3S;
        if (probe.nvidiaContainerRuntime() == null) {
            throw new K3gpuException(ExitCode.FAILED,
                    "nvidia-container-runtime is not installed on " + host + "; nothing was changed",
                    "install the NVIDIA Container Toolkit (apt-get install nvidia-container-toolkit; on Jetson it comes with JetPack's nvidia-container package), then run again");
        }
        if (runtime == ContainerRuntime.DOCKER && probe.docker() == null) {
            throw new K3gpuException(ExitCode.FAILED, "Docker is not installed on " + host + "; nothing was changed",
                    "use --runtime k3s to set K3s's containerd default instead, or install Docker");
        }
        RemoteFiles files = new RemoteFiles(shell, clock);
        String file = runtime.configFile();
        Optional<String> current = files.read(file);
        ConfigEdit edit = runtime == ContainerRuntime.DOCKER
                ? DaemonJsonMerge.enableNvidiaDefault(file, current.orElse(null))
                : K3sConfigEdit.setDefaultRuntime(file, current.orElse(null), NVIDIA);
        // The diff is shown (terminal, JSON): K3s's config.yaml may hold the join token, masked there only.
        UnaryOperator<String> shown = runtime == ContainerRuntime.K3S ? K3sConfigEdit::masked : UnaryOperator.identity();
        String diff = edit.changed()
                ? UnifiedDiff.diff(current.isPresent() ? file : "/dev/null", shown.apply(current.orElse("")), file,
                        shown.apply(edit.after()), 3)
                : "";

        if (runtime == ContainerRuntime.DOCKER) {
            return docker(shell, files, probe, file, current, edit, diff, dryRun);
        }
        return k3s(shell, files, probe, file, current, edit, diff, dryRun);
    }

    private RuntimeChange docker(RemoteShell shell, RemoteFiles files, RuntimeProbe probe, String file,
                                 Optional<String> current, ConfigEdit edit, String diff, boolean dryRun) {
        String host = shell.host();
        String running = dockerDefaultRuntime(shell);
        if (!edit.changed() && NVIDIA.equals(running)) {
            return new RuntimeChange(host, ContainerRuntime.DOCKER, RuntimeChange.Outcome.UNCHANGED, file, "", null, null,
                    "Docker's default runtime is already nvidia");
        }
        if (dryRun) {
            return new RuntimeChange(host, ContainerRuntime.DOCKER, RuntimeChange.Outcome.WOULD_CHANGE, file, diff, null,
                    null, edit.changed() ? "would write " + file + " and restart docker"
                    : file + " is right but the running daemon uses " + running + ": would restart docker");
        }
        String backup = null;
        ChangesInFlight.Registration inFlight = null;
        try {
            if (edit.changed()) {
                backup = current.isPresent() ? files.backup(file) : null;
                inFlight = inFlight(shell, files, probe, file, current, backup, "docker");
                events.info(host, "writing " + file + (backup == null ? "" : " (backup: " + backup + ")"));
                files.writeAtomically(file, edit.after(), "0644");
            }
            events.info(host, "restarting docker");
            ExecResult restart = shell.sudo(probe.restartCommand("docker"), null, RemoteStep.restart("docker"));
            String now = restart.ok() ? awaitDockerRuntime(shell) : null;
            if (restart.ok() && NVIDIA.equals(now)) {
                return new RuntimeChange(host, ContainerRuntime.DOCKER, RuntimeChange.Outcome.CHANGED, file, diff,
                        backup, "docker", "Docker restarted; its default runtime is nvidia");
            }
            String why = !restart.ok() ? "docker failed to restart: " + journalTail(shell, "docker", restart)
                    : "docker restarted but reports default runtime "
                    + (now == null ? "(none: the daemon is not answering)" : now);
            throw rollBack(shell, files, probe, file, current, backup, "docker", why, ExitCode.FAILED);
        } catch (RemoteTimeoutException e) {
            throw rollBack(shell, files, probe, file, current, backup, "docker", e.getMessage(), ExitCode.TIMEOUT);
        } finally {
            if (inFlight != null) {
                inFlight.close();
            }
        }
    }

    private RuntimeChange k3s(RemoteShell shell, RemoteFiles files, RuntimeProbe probe, String file,
                              Optional<String> current, ConfigEdit edit, String diff, boolean dryRun) {
        String host = shell.host();
        if (!edit.changed()) {
            return new RuntimeChange(host, ContainerRuntime.K3S, RuntimeChange.Outcome.UNCHANGED, file, "", null, null,
                    "K3s's default runtime is already nvidia in " + file);
        }
        String service = probe.k3sService();
        if (dryRun) {
            return new RuntimeChange(host, ContainerRuntime.K3S, RuntimeChange.Outcome.WOULD_CHANGE, file, diff, null,
                    null, "would write " + file + (service == null ? "" : " and restart " + service));
        }
        String backup = current.isPresent() ? files.backup(file) : null;
        try (ChangesInFlight.Registration inFlight = inFlight(shell, files, probe, file, current, backup, service)) {
            events.info(host, "writing " + file + (backup == null ? "" : " (backup: " + backup + ")"));
            files.writeAtomically(file, edit.after(), "0600");
            if (service == null) {
                return new RuntimeChange(host, ContainerRuntime.K3S, RuntimeChange.Outcome.CHANGED, file, diff, backup,
                        null, "K3s is not running here; it reads " + file + " when it starts");
            }
            events.info(host, "restarting " + service);
            ExecResult restart = shell.sudo(probe.restartCommand(service), null, RemoteStep.restart(service));
            if (restart.ok()) {
                return new RuntimeChange(host, ContainerRuntime.K3S, RuntimeChange.Outcome.CHANGED, file, diff, backup,
                        service, service + " restarted with default-runtime nvidia");
            }
            throw rollBack(shell, files, probe, file, current, backup, service,
                    service + " failed to restart: " + journalTail(shell, service, restart), ExitCode.FAILED);
        } catch (RemoteTimeoutException e) {
            throw rollBack(shell, files, probe, file, current, backup, service, e.getMessage(), ExitCode.TIMEOUT);
        }
    }

    /**
     * Registers the change as in flight, so that an interrupted run undoes it (or says what is left) from its
     * shutdown hook. {@code service} null: nothing runs the file yet, restoring it is enough.
     */
    private static ChangesInFlight.Registration inFlight(RemoteShell shell, RemoteFiles files, RuntimeProbe probe,
                                                         String file, Optional<String> current, String backup,
                                                         String service) {
        String left = "the new " + file + " may be in place; " + (backup != null
                ? "restore it with: sudo cp -p " + backup + " " + file
                : "remove it with: sudo rm " + file) + (service == null ? "" : " && sudo systemctl restart " + service);
        return ChangesInFlight.process().begin(new ChangesInFlight.Change(shell.host(),
                "writing " + file + (service == null ? "" : " and restarting " + service), left,
                () -> undo(shell, files, probe, file, current, backup, service)));
    }

    /** Puts the old file back (or removes the new one) and restarts the service; says what it did. */
    private static String undo(RemoteShell shell, RemoteFiles files, RuntimeProbe probe, String file,
                               Optional<String> current, String backup, String service) {
        String restart = service == null ? "" : " and restart " + service;
        try {
            if (backup != null) {
                files.restore(backup, file);
            } else if (current.isEmpty()) {
                files.remove(file);
            }
        } catch (K3gpuException e) {
            throw new K3gpuException(ExitCode.FAILED, "restoring " + file + " ALSO failed: " + e.getMessage(),
                    backup != null ? "restore it by hand from " + backup + restart
                            : "remove the new " + file + " by hand" + restart);
        }
        String restored = backup != null ? file + " was restored from " + backup
                : current.isEmpty() ? "the new " + file + " was removed" : file + " was left as it was";
        if (service == null) {
            return restored;
        }
        ExecResult again;
        try {
            again = shell.sudo(probe.restartCommand(service), null, RemoteStep.restart(service));
        } catch (K3gpuException e) {
            throw new K3gpuException(ExitCode.FAILED, restored + " but " + e.getMessage(),
                    "restart " + service + " on " + shell.host() + " by hand");
        }
        if (!again.ok()) {
            throw new K3gpuException(ExitCode.FAILED, restored + " but " + service + " did not start again either",
                    "look at journalctl -u " + service + " on " + shell.host());
        }
        return restored + " and " + service + " restarted";
    }

    /** Undoes the change after {@code why}, and explains both in one error with {@code code}. */
    private K3gpuException rollBack(RemoteShell shell, RemoteFiles files, RuntimeProbe probe, String file,
                                    Optional<String> current, String backup, String service, String why,
                                    ExitCode code) {
        String host = shell.host();
        events.warn(host, why + "; rolling back");
        try {
            return new K3gpuException(code, why + "; " + undo(shell, files, probe, file, current, backup, service),
                    service == null ? "look at the node, then run again"
                            : "look at journalctl -u " + service + " on " + host + " for the cause");
        } catch (K3gpuException e) {
            return new K3gpuException(code, why + "; " + e.getMessage(), e.hint());
        }
    }

    private String awaitDockerRuntime(RemoteShell shell) {
        long deadline = System.nanoTime() + verifyTimeout.toNanos();
        String runtime = dockerDefaultRuntime(shell);
        while (!NVIDIA.equals(runtime) && System.nanoTime() < deadline) {
            sleep(Duration.ofMillis(500));
            runtime = dockerDefaultRuntime(shell);
        }
        return runtime;
    }

    /** The running daemon's default runtime, or null when the daemon does not answer. */
    static String dockerDefaultRuntime(RemoteShell shell) {
        ExecResult r = shell.sudo(DOCKER_DEFAULT_RUNTIME, null, RemoteStep.dockerInfo());
        return r.ok() && !r.stdout().isBlank() ? r.stdout().strip() : null;
    }

    static final String DOCKER_DEFAULT_RUNTIME = "docker info --format '{{.DefaultRuntime}}'";

    private static String journalTail(RemoteShell shell, String service, ExecResult restart) {
        String tail;
        try {
            ExecResult journal = shell.sudo("journalctl -u " + service + " -n 5 --no-pager 2>/dev/null", null,
                    RemoteStep.diagnostic("reading the log of " + service));
            tail = journal.ok() ? journal.tail(2) : "";
        } catch (K3gpuException e) {
            tail = "";
        }
        return tail.isEmpty() ? "exit " + restart.exitCode() + ": " + restart.tail(2) : tail;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "interrupted", null, e);
        }
    }
}
