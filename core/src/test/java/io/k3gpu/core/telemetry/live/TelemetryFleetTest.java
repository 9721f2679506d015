package io.k3gpu.core.telemetry.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TelemetryFleetTest {
    static final String LINE = "RAM 2462/3964MB (lfb 2x4MB) SWAP 362/1982MB (cached 6MB) CPU [52%@1479,41%@1479] "
            + "EMC_FREQ 0% GR3D_FREQ 9% GPU@24C POM_5V_IN 3410/3410";

    static final FleetOptions FAST = new FleetOptions(true, new Backoff(Duration.ofMillis(20),
            Duration.ofMillis(80)), Duration.ofSeconds(10), 4, Duration.ofSeconds(1));

    /** A node in memory: the test pushes lines and ends the stream. */
    static final class FakeLink implements TelemetryLink {
        final String node;
        final AtomicInteger starts = new AtomicInteger();
        final AtomicInteger stops = new AtomicInteger();
        volatile int failFirst;
        volatile Consumer<String> lines;
        volatile CompletableFuture<Integer> exit;

        FakeLink(String node) {
            this.node = node;
        }

        @Override
        public String node() {
            return node;
        }

        @Override
        public TelemetryStream start(Function<Source, Consumer<String>> handler) {
            if (starts.incrementAndGet() <= failFirst) {
                throw new K3gpuException(ExitCode.SSH, "connection refused by " + node, null);
            }
            lines = handler.apply(Source.TEGRASTATS);
            CompletableFuture<Integer> e = new CompletableFuture<>();
            exit = e;
            return new TelemetryStream() {
                @Override
                public Source source() {
                    return Source.TEGRASTATS;
                }

                @Override
                public CompletableFuture<Integer> exit() {
                    return e;
                }

                @Override
                public String describeExit(int status) {
                    return "tegrastats exited with status " + status;
                }

                @Override
                public void stop(Duration grace) {
                    stops.incrementAndGet();
                    e.complete(143);
                }
            };
        }
    }

    static final class Collect implements TelemetryListener {
        final List<String> samples = new CopyOnWriteArrayList<>();
        final List<NodeStatus> statuses = new CopyOnWriteArrayList<>();
        final List<String> bad = new CopyOnWriteArrayList<>();

        @Override
        public void sample(String node, LocalDateTime received, GpuSample sample) {
            samples.add(node + ":" + sample.gpuLoadPercent());
        }

        @Override
        public void status(NodeStatus status) {
            statuses.add(status);
        }

        @Override
        public void badLine(String node, String line, String error) {
            bad.add(node + ":" + line);
        }
    }

    @Test
    void linesOfEveryNodeBecomeSamplesAndBadLinesAreReportedWithoutStoppingTheStream() throws Exception {
        FakeLink a = new FakeLink("a");
        FakeLink b = new FakeLink("b");
        Collect c = new Collect();
        try (TelemetryFleet fleet = new TelemetryFleet(List.of(a, b), c, FAST)) {
            assertThat(fleet.start(Duration.ofSeconds(5))).isEmpty();
            a.lines.accept(LINE);
            b.lines.accept("garbage that is no tegrastats");
            b.lines.accept(LINE);
            assertThat(c.samples).containsExactly("a:9", "b:9");
            assertThat(c.bad).containsExactly("b:garbage that is no tegrastats");
            assertThat(fleet.statuses()).extracting(NodeStatus::state).containsExactly(NodeState.UP, NodeState.UP);
        }
        assertThat(a.stops.get()).isEqualTo(1);
        assertThat(b.stops.get()).isEqualTo(1);
    }

    @Test
    void aNodeWhoseToolEndsIsDownThenStartedAgainWhileTheOtherGoesOn() throws Exception {
        FakeLink a = new FakeLink("a");
        FakeLink b = new FakeLink("b");
        Collect c = new Collect();
        try (TelemetryFleet fleet = new TelemetryFleet(List.of(a, b), c, FAST)) {
            fleet.start(Duration.ofSeconds(5));
            a.lines.accept(LINE);
            b.lines.accept(LINE);
            a.exit.complete(137);
            await(() -> c.statuses.stream().anyMatch(s -> s.node().equals("a") && s.state() == NodeState.DOWN));
            NodeStatus down = c.statuses.stream().filter(s -> s.state() == NodeState.DOWN).findFirst().orElseThrow();
            assertThat(down.detail()).isEqualTo("tegrastats exited with status 137");
            assertThat(down.retryIn()).isEqualTo(Duration.ofMillis(20));
            b.lines.accept(LINE);
            await(() -> a.starts.get() == 2);
            await(() -> a.lines != null);
            a.lines.accept(LINE);
            await(() -> fleet.statuses().get(0).state() == NodeState.UP);
            assertThat(fleet.statuses().get(0).reconnects()).isEqualTo(1);
            assertThat(c.samples).containsExactly("a:9", "b:9", "b:9", "a:9");
        }
    }

    @Test
    void anUnreachableNodeIsReportedAtStartAndRetriedWithGrowingDelays() throws Exception {
        FakeLink a = new FakeLink("a");
        a.failFirst = 3;
        Collect c = new Collect();
        try (TelemetryFleet fleet = new TelemetryFleet(List.of(a), c, FAST)) {
            Map<String, RuntimeException> failed = fleet.start(Duration.ofSeconds(5));
            assertThat(failed).containsOnlyKeys("a");
            assertThat(failed.get("a")).hasMessage("connection refused by a");
            await(() -> a.starts.get() == 4 && a.lines != null);
            List<Duration> delays = new ArrayList<>();
            c.statuses.stream().filter(s -> s.state() == NodeState.DOWN).forEach(s -> delays.add(s.retryIn()));
            assertThat(delays).containsExactly(Duration.ofMillis(20), Duration.ofMillis(40), Duration.ofMillis(80));
        }
    }

    @Test
    void withoutReconnectAFailedNodeStaysDown() throws Exception {
        FakeLink a = new FakeLink("a");
        a.failFirst = 1;
        Collect c = new Collect();
        try (TelemetryFleet fleet = new TelemetryFleet(List.of(a), c, FAST.withReconnect(false))) {
            fleet.start(Duration.ofSeconds(5));
            Thread.sleep(100);
            assertThat(a.starts.get()).isEqualTo(1);
            assertThat(fleet.statuses().get(0).state()).isEqualTo(NodeState.DOWN);
            assertThat(fleet.statuses().get(0).retryIn()).isNull();
        }
    }

    @Test
    void aSilentNodeIsTakenDownAndRestarted() throws Exception {
        FakeLink a = new FakeLink("a");
        Collect c = new Collect();
        FleetOptions stale = new FleetOptions(true, new Backoff(Duration.ofMillis(20), Duration.ofMillis(20)),
                Duration.ofMillis(300), 2, Duration.ofSeconds(1));
        try (TelemetryFleet fleet = new TelemetryFleet(List.of(a), c, stale)) {
            fleet.start(Duration.ofSeconds(5));
            a.lines.accept(LINE);
            await(() -> a.starts.get() >= 2);
            assertThat(c.statuses).anyMatch(s -> s.state() == NodeState.DOWN
                    && s.detail().startsWith("no output for"));
            assertThat(a.stops.get()).isGreaterThanOrEqualTo(1);
        }
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(5);
        }
    }

}
