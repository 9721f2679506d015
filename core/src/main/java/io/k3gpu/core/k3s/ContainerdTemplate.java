package io.k3gpu.core.k3s;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.RemoteFiles;
import io.k3gpu.core.remote.RemoteShell;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Optional;

/**
 * The containerd template route for K3s releases without {@code --default-runtime} ({@link NvidiaDefaultRoute}):
 * K3s renders {@value #PATH} (a Go template over its agent config) instead of generating config.toml, as its docs
 * ("Configuring containerd") say. k3gpu's template makes {@code nvidia} the default runtime; its first line marks it
 * as k3gpu's, so that a node moved to a release with the flag gets its own generated config back.
 */
public final class ContainerdTemplate {
    public static final String PATH = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl";
    /** The first line of k3gpu's template. */
    public static final String MARKER = "# k3gpu: ";

    /** What {@link #converge} did. */
    public enum Change { UNCHANGED, WRITTEN, REMOVED }

    private ContainerdTemplate() {
    }

    /** The template for a node whose NVIDIA runtime is the program at {@code nvidiaRuntime}. Pure. */
    public static String content(String nvidiaRuntime) {
        if (nvidiaRuntime == null || !nvidiaRuntime.matches("/[A-Za-z0-9._/-]+")) {
            throw new IllegalArgumentException("not a program path: " + nvidiaRuntime);
        }
        try (InputStream in = ContainerdTemplate.class.getResourceAsStream("/io/k3gpu/k3s/containerd-config.toml.tmpl")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.replace("@NVIDIA_CONTAINER_RUNTIME@", nvidiaRuntime);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Makes the node's template what the route needs: k3gpu's template ({@code nvidiaRuntime} not null), or none of
     * k3gpu's (null: the flag route; a template someone else wrote is left alone).
     */
    public static Change converge(RemoteShell shell, String nvidiaRuntime) {
        RemoteFiles files = new RemoteFiles(shell, Clock.systemUTC());
        Optional<String> current = files.read(PATH);
        if (nvidiaRuntime == null) {
            if (current.isPresent() && current.get().startsWith(MARKER)) {
                files.remove(PATH);
                return Change.REMOVED;
            }
            return Change.UNCHANGED;
        }
        String wanted = content(nvidiaRuntime);
        if (current.isPresent() && current.get().equals(wanted)) {
            return Change.UNCHANGED;
        }
        if (current.isPresent() && !current.get().startsWith(MARKER)) {
            throw new K3gpuException(ExitCode.FAILED, shell.host() + " has a " + PATH + " that k3gpu did not write; "
                    + "nothing was changed", "add default_runtime_name = \"nvidia\" (and the nvidia runtime) to it by "
                    + "hand, or remove it and run again");
        }
        files.writeAtomically(PATH, wanted, "0600");
        return Change.WRITTEN;
    }
}
