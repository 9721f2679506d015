package io.k3gpu.core.train;

import io.k3gpu.core.workloads.Workloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped trainer's DDP step with real PyTorch (Debian's python3-torch, which CI installs): two gloo processes
 * on localhost, each with half of a global batch, end with the gradients one process computes on the whole batch.
 */
class DdpGradientsTest {

    /** Debian's interpreter first: its python3-torch is not in a pyenv or venv python3 on the PATH. */
    static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    @Test
    void averagedGradientsOfTwoRanksEqualOneProcessOnTheGlobalBatch(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("mnist_train.py"), Workloads.mnistTrain());
        Path test = dir.resolve("ddp_gradients.py");
        try (InputStream in = getClass().getResourceAsStream("/workloads/ddp_gradients.py")) {
            Files.write(test, in.readAllBytes());
        }
        // A rendezvous that hangs (seen once in CI, 1 run in many: a rank left spinning on a closed store
        // connection) is not what this test checks: it gets a second try on another port, with both outputs kept.
        StringBuilder hung = new StringBuilder();
        Process p = null;
        for (int attempt = 1; attempt <= 2 && p == null; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Process run = new ProcessBuilder(python(), test.toString(), dir.toString(), Integer.toString(port))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
            if (run.waitFor(90, TimeUnit.SECONDS)) {
                p = run;
            } else {
                // the ranks are mp.spawn's children: end them too, or one spins on for the rest of the build
                run.descendants().forEach(ProcessHandle::destroyForcibly);
                run.destroyForcibly();
                hung.append("attempt ").append(attempt).append(" did not finish in 90 s:\n")
                        .append(Files.readString(dir.resolve("out.txt"))).append('\n');
            }
        }
        if (p == null) {
            throw new AssertionError("the two DDP processes did not finish\n" + hung);
        }
        String out = Files.readString(dir.resolve("out.txt"));
        assertThat(p.exitValue()).as(out).isZero();
        JsonNode r = JsonMapper.builder().build().readTree(Files.readString(dir.resolve("result.json")));
        assertThat(r.get("parameters").asInt()).isEqualTo(12);
        // float32 sums in another order: equal to ~1e-8; a rank's own half-batch gradients differ by ~1e-1
        assertThat(r.get("maxDiff").asDouble()).isLessThan(1e-5);
        assertThat(r.get("maxLocalDiff").asDouble()).isGreaterThan(1e-3);
    }
}
