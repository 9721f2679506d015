package io.k3gpu.core.telemetry.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.NvidiaSmiCsvParser;
import io.k3gpu.core.telemetry.Source;
import io.k3gpu.core.telemetry.TegrastatsParser;
import io.k3gpu.core.telemetry.live.NodeState;
import io.k3gpu.core.telemetry.live.NodeStatus;
import io.k3gpu.core.telemetry.live.TelemetryCommands;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class TelemetryMetricsTest {
    static final String ORIN = "05-09-2026 18:42:06 RAM 18207/62841MB (lfb 466x4MB) SWAP 86/31420MB (cached 0MB) "
            + "CPU [14%@2188,off] EMC_FREQ 3%@2133 GR3D_FREQ 12%@[1300,1301] NVENC 79%@166 NVDEC off "
            + "cpu@52.562C soc2@48.437C tj@-256C VDD_GPU_SOC 2412mW/2400mW";
    static final String H200 = "2026/11/28 18:13:36.595, 0, NVIDIA H200, GPU-4d7409f8-b030-4d26-8d92-c7f6be719549, "
            + "100, 23, 1011, 143771, 142146, 61, 692.60, 700.00, 1440, 3201";
    static final LocalDateTime T = LocalDateTime.of(2026, 11, 28, 18, 13, 37);

    static String scrape(TelemetryMetrics m) throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(m);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.DEFAULT);
        return out.toString(StandardCharsets.UTF_8);
    }

    static GpuSample h200() {
        return NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS).parseLine(H200).orElseThrow();
    }

    @Test
    void discreteGpuValuesUseDcgmNamesAndUnits() throws Exception {
        TelemetryMetrics m = new TelemetryMetrics(List.of("gpu1"), ZoneOffset.UTC);
        m.status(new NodeStatus("gpu1", NodeState.UP, Source.NVIDIA_SMI, null, null, 0));
        m.sample("gpu1", T, h200());
        String text = scrape(m);
        String l = "{UUID=\"GPU-4d7409f8-b030-4d26-8d92-c7f6be719549\",gpu=\"0\",modelName=\"NVIDIA H200\","
                + "node=\"gpu1\"}";
        assertThat(text).contains("DCGM_FI_DEV_GPU_UTIL" + l + " 100.0\n",
                "DCGM_FI_DEV_MEM_COPY_UTIL" + l + " 23.0\n",
                "DCGM_FI_DEV_FB_USED" + l + " 1011.0\n",
                "DCGM_FI_DEV_FB_FREE" + l + " 142146.0\n",
                "DCGM_FI_DEV_FB_TOTAL" + l + " 143771.0\n",
                "DCGM_FI_DEV_GPU_TEMP" + l + " 61.0\n",
                "DCGM_FI_DEV_POWER_USAGE" + l + " 692.6\n",
                "DCGM_FI_DEV_POWER_MGMT_LIMIT" + l + " 700.0\n",
                "DCGM_FI_DEV_SM_CLOCK" + l + " 1440.0\n",
                "DCGM_FI_DEV_MEM_CLOCK" + l + " 3201.0\n",
                "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n",
                "k3gpu_node_up{node=\"gpu1\"} 1.0\n",
                "k3gpu_node_samples_total{node=\"gpu1\"} 1.0\n",
                "k3gpu_node_last_sample_timestamp_seconds{node=\"gpu1\"} 1.795889617E9\n");
    }

    @Test
    void realH100CaptureGivesOneLabelledSeriesPerGpu() throws Exception {
        // the last row of the H100 capture (2026-12-05, device tool): bf16 matmul load on GPU 0
        List<String> rows;
        try (var in = TelemetryMetricsTest.class.getResourceAsStream("/telemetry/nvidia-smi/k3gpu-query-h100.csv")) {
            rows = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        GpuSample busy = NvidiaSmiCsvParser.forFields(TelemetryCommands.NVIDIA_SMI_FIELDS)
                .parseLine(rows.get(rows.size() - 1)).orElseThrow();
        TelemetryMetrics m = new TelemetryMetrics(List.of("h100"), ZoneOffset.UTC);
        m.sample("h100", T, busy);
        String text = scrape(m);
        String l = "{UUID=\"GPU-8d12b96e-7e46-5d58-9c31-5db8056a5f8b\",gpu=\"0\",modelName=\"NVIDIA H100 80GB HBM3\","
                + "node=\"h100\"}";
        assertThat(text).contains("DCGM_FI_DEV_GPU_UTIL" + l + " 100.0\n", "DCGM_FI_DEV_POWER_USAGE" + l + " 701.5\n",
                "DCGM_FI_DEV_FB_TOTAL" + l + " 81559.0\n", "DCGM_FI_DEV_SM_CLOCK" + l + " 1410.0\n");
    }

    @Test
    void jetsonValuesAreInBaseUnitsWithCpuSensorRailAndEngineLabels() throws Exception {
        TelemetryMetrics m = new TelemetryMetrics(List.of("jetson1"), ZoneOffset.UTC);
        GpuSample s = TegrastatsParser.parse(ORIN);
        m.sample("jetson1", T, s);
        String text = scrape(m);
        assertThat(text).contains(
                "jetson_cpu_online{cpu=\"0\",node=\"jetson1\"} 1.0\n",
                "jetson_cpu_online{cpu=\"1\",node=\"jetson1\"} 0.0\n",
                "jetson_cpu_utilization_ratio{cpu=\"0\",node=\"jetson1\"} 0.14\n",
                "jetson_cpu_frequency_hertz{cpu=\"0\",node=\"jetson1\"} 2.188E9\n",
                "jetson_gpu_utilization_ratio{node=\"jetson1\"} 0.12\n",
                "jetson_gpu_frequency_hertz{gpc=\"1\",node=\"jetson1\"} 1.301E9\n",
                "jetson_emc_utilization_ratio{node=\"jetson1\"} 0.03\n",
                "jetson_emc_frequency_hertz{node=\"jetson1\"} 2.133E9\n",
                "jetson_memory_used_bytes{node=\"jetson1\"} 1.9091423232E10\n",
                "jetson_memory_total_bytes{node=\"jetson1\"} 6.5893564416E10\n",
                "jetson_swap_used_bytes{node=\"jetson1\"} 9.0177536E7\n",
                "jetson_temperature_celsius{node=\"jetson1\",sensor=\"cpu\"} 52.562\n",
                "jetson_power_watts{node=\"jetson1\",rail=\"VDD_GPU_SOC\"} 2.412\n",
                "jetson_power_average_watts{node=\"jetson1\",rail=\"VDD_GPU_SOC\"} 2.4\n",
                "jetson_engine_online{engine=\"NVDEC\",node=\"jetson1\"} 0.0\n",
                "jetson_engine_utilization_ratio{engine=\"NVENC\",node=\"jetson1\"} 0.79\n",
                "jetson_engine_frequency_hertz{engine=\"NVENC\",node=\"jetson1\"} 1.66E8\n");
        // -256C means no reading: no value is invented for tj
        assertThat(text).doesNotContain("sensor=\"tj\"").doesNotContain("DCGM_");
    }

    @Test
    void aNodeThatGoesDownKeepsOnlyItsUpGaugeAndCountersWhileTheOtherStays() throws Exception {
        TelemetryMetrics m = new TelemetryMetrics(List.of("jetson1", "gpu1", "never"), ZoneOffset.UTC);
        m.sample("jetson1", T, TegrastatsParser.parse(ORIN));
        m.sample("gpu1", T, h200());
        m.badLine("jetson1", "x", "not tegrastats");
        m.status(new NodeStatus("jetson1", NodeState.DOWN, Source.TEGRASTATS, "connection lost",
                Duration.ofSeconds(2), 3));
        String text = scrape(m);
        assertThat(text).contains("k3gpu_node_up{node=\"jetson1\"} 0.0\n", "k3gpu_node_up{node=\"gpu1\"} 1.0\n",
                "k3gpu_node_up{node=\"never\"} 0.0\n", "k3gpu_node_reconnects_total{node=\"jetson1\"} 3.0\n",
                "k3gpu_node_bad_lines_total{node=\"jetson1\"} 1.0\n",
                "k3gpu_node_samples_total{node=\"jetson1\"} 1.0\n", "DCGM_FI_DEV_GPU_UTIL{");
        assertThat(text).doesNotContain("jetson_");
    }
}
