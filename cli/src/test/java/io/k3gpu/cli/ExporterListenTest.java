package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.error.K3gpuException;
import org.junit.jupiter.api.Test;

class ExporterListenTest {

    @Test
    void listenAddressesAsPrometheusExportersWriteThem() {
        assertThat(ExporterCommand.Listen.parse(":9400")).isEqualTo(new ExporterCommand.Listen("", 9400));
        assertThat(ExporterCommand.Listen.parse("127.0.0.1:9401")).isEqualTo(new ExporterCommand.Listen("127.0.0.1", 9401));
        assertThat(ExporterCommand.Listen.parse("[::1]:9402")).isEqualTo(new ExporterCommand.Listen("::1", 9402));
        assertThat(ExporterCommand.Listen.parse("9403")).isEqualTo(new ExporterCommand.Listen("", 9403));
        assertThatThrownBy(() -> ExporterCommand.Listen.parse("host:http")).isInstanceOf(K3gpuException.class);
        assertThatThrownBy(() -> ExporterCommand.Listen.parse(":70000")).isInstanceOf(K3gpuException.class);
    }

    @Test
    void servesOnlyThisMachineUnlessToldOtherwise() {
        Cli.Result r = Cli.run("exporter", "--help");
        assertThat(r.out().replaceAll("\\s+", " ")).contains("default 127.0.0.1:9400: this machine only")
                .contains("0.0.0.0:9400 or :9400 (every interface");
    }

    @Test
    void noNodeIsAUsageError() {
        Cli.Result r = Cli.run("exporter", "--listen", "127.0.0.1:0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: no node given");
    }
}
