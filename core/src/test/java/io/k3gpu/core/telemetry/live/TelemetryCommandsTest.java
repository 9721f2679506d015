package io.k3gpu.core.telemetry.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.telemetry.Source;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TelemetryCommandsTest {

    @Test
    void tegrastatsCommand() {
        assertThat(TelemetryCommands.tegrastats(1000)).isEqualTo("tegrastats --interval 1000");
    }

    @Test
    void nvidiaSmiCommandQueriesEveryFieldTheModelNeedsWithoutHeaderOrUnits() {
        assertThat(TelemetryCommands.nvidiaSmi(TelemetryCommands.NVIDIA_SMI_FIELDS, 500)).isEqualTo(
                "nvidia-smi --query-gpu=timestamp,index,name,uuid,utilization.gpu,utilization.memory,memory.used,"
                        + "memory.total,memory.free,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.mem "
                        + "--format=csv,noheader,nounits -lms 500");
        assertThatThrownBy(() -> TelemetryCommands.nvidiaSmi(List.of("index; rm -rf /"), 500))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void streamingCommandDiesWithItsInput() {
        assertThat(TelemetryCommands.streaming(Source.TEGRASTATS, 5000)).isEqualTo(
                "sh -c 'exec 3<&0; tegrastats --interval 5000 </dev/null 3<&- & p=$!; "
                        + "{ cat <&3; kill $p; } >/dev/null 2>&1 & exec 3<&-; wait $p'");
    }

    @Test
    void probeAndItsAnswers() {
        assertThat(TelemetryCommands.PROBE).isEqualTo("if command -v tegrastats >/dev/null 2>&1; then echo tegrastats; "
                + "elif command -v nvidia-smi >/dev/null 2>&1; then echo nvidia-smi; else echo none; fi");
        assertThat(TelemetryCommands.probeResult("tegrastats\n")).contains(Source.TEGRASTATS);
        assertThat(TelemetryCommands.probeResult("nvidia-smi\n")).contains(Source.NVIDIA_SMI);
        assertThat(TelemetryCommands.probeResult("none\n")).isEqualTo(Optional.empty());
        assertThat(TelemetryCommands.probeResult("")).isEqualTo(Optional.empty());
    }

    @Test
    void closingTheInputKillsTheWrappedCommandAndNoProcessIsLeft(@TempDir Path dir) throws Exception {
        Path pidFile = dir.resolve("pid");
        String command = TelemetryCommands.endWithInput("sh -c 'echo $$ > " + pidFile + "; exec sleep 300'");
        Process p = new ProcessBuilder("/bin/sh", "-c", command).start();
        long pid = waitForPid(pidFile);
        assertThat(ProcessHandle.of(pid)).isPresent();
        p.getOutputStream().close(); // what sshd does when the channel closes
        assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(143); // 128 + SIGTERM
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    void aCommandThatEndsByItselfEndsTheWrapperWithItsStatusAndOutput() throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c",
                TelemetryCommands.endWithInput("sh -c 'echo one; echo two; exit 3'")).start();
        // stdin stays open: the wrapper must not wait for it
        assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(3);
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("one\ntwo\n");
        p.getOutputStream().close();
    }

    private static long waitForPid(Path file) throws IOException, InterruptedException {
        for (int i = 0; i < 500; i++) {
            if (Files.exists(file)) {
                String s = Files.readString(file).strip();
                if (!s.isEmpty()) {
                    return Long.parseLong(s);
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the wrapped command did not start");
    }
}
