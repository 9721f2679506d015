package io.k3gpu.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The ./k3gpu launcher's JVM options, which the apply benchmark measures with. */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "k3gpu");

    @Test
    void theBenchmarkMeasuresWithTheLaunchersJvmOptions() throws IOException {
        assertThat(Files.readString(LAUNCHER))
                .contains("*) defaults=\"" + LabBenchApplyCommand.LAUNCHER_JAVA_OPTS + "\" ;;");
    }

    @Test
    void theLongRunningTelemetryCommandsAndTheDashboardKeepTheJvmDefaultsAndTheEnvironmentReplacesThem() throws IOException {
        assertThat(Files.readString(LAUNCHER))
                .contains("\"stats parse\") defaults=\"" + LabBenchApplyCommand.LAUNCHER_JAVA_OPTS + "\" ;;")
                .contains("\"stats \"*|\"exporter \"*|\"dashboard \"*) defaults= ;;")
                .contains("opts=(${K3GPU_JAVA_OPTS-$defaults})");
    }
}
