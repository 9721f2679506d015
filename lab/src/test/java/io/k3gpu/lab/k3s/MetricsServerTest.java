package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.api.Test;

/** metrics-server's part that needs no network: the kubelet's text, rates, and how quantities and windows print. */
class MetricsServerTest {
    static final String SCRAPE = """
            # HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
            # TYPE container_cpu_usage_seconds_total counter
            container_cpu_usage_seconds_total{container="coredns",namespace="kube-system",pod="coredns-6799fbcd5-x2h4k"} 12.5 1764936000000
            # TYPE container_memory_working_set_bytes gauge
            container_memory_working_set_bytes{container="coredns",namespace="kube-system",pod="coredns-6799fbcd5-x2h4k"} 1.4299136e+07 1764936000000
            container_start_time_seconds{container="coredns",namespace="kube-system",pod="coredns-6799fbcd5-x2h4k"} 1.7649e+09 1764936000000
            node_cpu_usage_seconds_total 1000.25 1764936000123
            node_memory_working_set_bytes 1.073741824e+09 1764936000123
            scrape_error 0
            """;

    @Test
    void theKubeletsTextGivesTheNodesAndTheContainersPoints() {
        MetricsServer.Scrape s = MetricsServer.parse(SCRAPE);
        assertThat(s.node()).isEqualTo(new MetricsServer.Point(1000.25, 1073741824, Instant.ofEpochMilli(1764936000123L)));
        assertThat(s.containers()).containsOnlyKeys("kube-system/coredns-6799fbcd5-x2h4k/coredns");
        assertThat(s.containers().get("kube-system/coredns-6799fbcd5-x2h4k/coredns").memoryBytes()).isEqualTo(14299136);
    }

    @Test
    void cpuIsTheRateBetweenTwoScrapes() {
        Instant t0 = Instant.parse("2026-12-05T12:00:00Z");
        MetricsServer.Point a = new MetricsServer.Point(100, 5e8, t0);
        MetricsServer.Point b = new MetricsServer.Point(103.75, 6e8, t0.plusSeconds(15));
        assertThat(MetricsServer.usage(a, b)).containsExactly(250_000_000L, 600_000_000L, 15_000_000_000L);
        assertThat(MetricsServer.usage(null, b)).isNull();
        assertThat(MetricsServer.usage(b, a)).isNull(); // not later
        assertThat(MetricsServer.usage(b, new MetricsServer.Point(1, 1, t0.plusSeconds(30)))).isNull(); // a restart
    }

    @Test
    void quantitiesAndWindowsPrintAsGoDoes() {
        assertThat(MetricsServer.decimalSI(250_000_000)).isEqualTo("250m");
        assertThat(MetricsServer.decimalSI(123_456_789)).isEqualTo("123456789n");
        assertThat(MetricsServer.decimalSI(2_000_000_000)).isEqualTo("2");
        assertThat(MetricsServer.decimalSI(1_500)).isEqualTo("1500n");
        assertThat(MetricsServer.binarySI(1073741824)).isEqualTo("1Gi");
        assertThat(MetricsServer.binarySI(14299136)).isEqualTo("13964Ki");
        assertThat(MetricsServer.binarySI(14299137)).isEqualTo("14299137");
        assertThat(MetricsServer.goDuration(15_003_000_000L)).isEqualTo("15.003s");
        assertThat(MetricsServer.goDuration(15_000_000_000L)).isEqualTo("15s");
        assertThat(MetricsServer.goDuration(60_500_000_000L)).isEqualTo("1m0.5s");
        assertThat(MetricsServer.goDuration(1_020_000L)).isEqualTo("1.02ms");
    }
}
