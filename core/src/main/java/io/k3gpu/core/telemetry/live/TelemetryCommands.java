package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.remote.Shell;
import io.k3gpu.core.telemetry.Source;

import java.util.List;
import java.util.Optional;

/**
 * The remote command lines of live telemetry: pure functions, golden-tested, no I/O.
 *
 * <p>Every streaming command is wrapped by {@link #endWithInput(String)} so that it dies with the SSH channel that
 * started it: closing the channel (Ctrl-C, {@code --duration}, a crash of k3gpu, a lost connection noticed by sshd)
 * leaves no {@code tegrastats} or {@code nvidia-smi} running on the node.
 */
public final class TelemetryCommands {

    /**
     * The {@code --query-gpu} fields k3gpu asks nvidia-smi for, in order: what {@code GpuSample} and the DCGM-style
     * metrics need ({@code memory.free} lands in {@code extra}).
     */
    public static final List<String> NVIDIA_SMI_FIELDS = List.of("timestamp", "index", "name", "uuid",
            "utilization.gpu", "utilization.memory", "memory.used", "memory.total", "memory.free", "temperature.gpu",
            "power.draw", "power.limit", "clocks.sm", "clocks.mem");

    /**
     * Prints {@code tegrastats}, {@code nvidia-smi} or {@code none}: which tool a node has, as its login user (no
     * sudo needed). tegrastats wins on a Jetson that has both (JetPack 6 ships an nvidia-smi too).
     */
    public static final String PROBE = "if command -v tegrastats >/dev/null 2>&1; then echo tegrastats; "
            + "elif command -v nvidia-smi >/dev/null 2>&1; then echo nvidia-smi; else echo none; fi";

    private TelemetryCommands() {
    }

    /** {@code tegrastats --interval MS}. */
    public static String tegrastats(int intervalMs) {
        return "tegrastats --interval " + checkInterval(intervalMs);
    }

    /** {@code nvidia-smi --query-gpu=F,... --format=csv,noheader,nounits -lms MS}: one CSV row per GPU per tick. */
    public static String nvidiaSmi(List<String> fields, int intervalMs) {
        if (fields.isEmpty()) {
            throw new IllegalArgumentException("no nvidia-smi fields");
        }
        for (String f : fields) {
            if (!f.matches("[a-z][a-z0-9_.]*")) {
                throw new IllegalArgumentException("not an nvidia-smi field: '" + f + "'");
            }
        }
        return "nvidia-smi --query-gpu=" + String.join(",", fields) + " --format=csv,noheader,nounits -lms "
                + checkInterval(intervalMs);
    }

    /**
     * Wraps {@code command} so that it ends when its standard input closes, which is what closing the SSH channel
     * does to a remote command. sshd sends no signal when an exec channel without a terminal closes, and a silent
     * command like {@code tegrastats --interval 5000} would notice its closed output only at its next write; so the
     * command runs in the background with its input on /dev/null, a watcher reads the channel's input (saved as fd
     * 3: a background job's own input is /dev/null) and kills the command on end of file, and the shell waits for
     * the command and exits with its status. The watcher writes nowhere, so a command that ends by itself closes
     * the channel at once. Run by {@code sh -c} whatever the user's login shell is.
     */
    public static String endWithInput(String command) {
        String script = "exec 3<&0; " + command + " </dev/null 3<&- & p=$!; "
                + "{ cat <&3; kill $p; } >/dev/null 2>&1 & exec 3<&-; wait $p";
        return "sh -c " + Shell.quote(script);
    }

    /** The wrapped streaming command of {@code source}: what {@link RemoteTelemetryLink} runs. */
    public static String streaming(Source source, int intervalMs) {
        String command = source == Source.TEGRASTATS ? tegrastats(intervalMs) : nvidiaSmi(NVIDIA_SMI_FIELDS, intervalMs);
        return endWithInput(command);
    }

    /** What {@link #PROBE} printed: the tool, or empty for {@code none} (or anything else). */
    public static Optional<Source> probeResult(String stdout) {
        String s = stdout == null ? "" : stdout.strip();
        if (s.equals("tegrastats")) {
            return Optional.of(Source.TEGRASTATS);
        }
        if (s.equals("nvidia-smi")) {
            return Optional.of(Source.NVIDIA_SMI);
        }
        return Optional.empty();
    }

    private static int checkInterval(int intervalMs) {
        if (intervalMs < 1) {
            throw new IllegalArgumentException("interval must be at least 1 ms, not " + intervalMs);
        }
        return intervalMs;
    }
}
