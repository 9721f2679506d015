package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Order and parallelism of apply and reset, with a fake that records what ran when. */
class FleetApplyTest {

    static ClusterSpec spec(int servers, int agents) {
        StringBuilder sb = new StringBuilder("hosts:\n");
        for (int i = 1; i <= agents; i++) {
            // agents first in the file: the order of work must not depend on the file's order
            sb.append("  - {name: a").append(i).append(", address: 10.0.1.").append(i).append(", role: agent}\n");
        }
        for (int i = 1; i <= servers; i++) {
            sb.append("  - {name: s").append(i).append(", address: 10.0.0.").append(i).append(", role: server}\n");
        }
        return ClusterFile.parse("cluster.yaml", Path.of("/srv"), sb.toString());
    }

    /** Records "start X" / "end X", how many hosts ran at once, and can hold hosts until enough run together. */
    static final class Recorder implements FleetApply.HostWork, FleetReset.HostWork {
        final List<String> log = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger maxRunning = new AtomicInteger();
        final Set<String> failing = ConcurrentHashMap.newKeySet();
        final Set<String> unchanged = ConcurrentHashMap.newKeySet();
        volatile CountDownLatch together;

        private List<String> work(HostSpec h, String what) {
            log.add("start " + h.name());
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                CountDownLatch t = together;
                if (t != null && h.name().startsWith("a")) {
                    t.countDown();
                    try {
                        // a liveness bound, not a timing assertion: the hosts meet or the test fails below
                        t.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (failing.contains(h.name())) {
                    throw new K3gpuException(ExitCode.SSH, "cannot reach " + h.address() + ":22: no answer within 3s",
                            "check that the node is on");
                }
                return unchanged.contains(h.name()) ? List.of() : List.of(what + " " + h.name());
            } finally {
                running.decrementAndGet();
                log.add("end " + h.name());
            }
        }

        @Override
        public List<String> firstServer(HostSpec host, Events events) {
            return work(host, "installed");
        }

        @Override
        public List<String> joinServer(HostSpec host, Events events) {
            return work(host, "joined server");
        }

        @Override
        public List<String> joinAgent(HostSpec host, Events events) {
            return work(host, "joined agent");
        }

        @Override
        public List<String> reset(HostSpec host, boolean firstServer, Events events) {
            return work(host, firstServer ? "reset first" : "reset");
        }

        int index(String entry) {
            return log.indexOf(entry);
        }
    }

    /** Counts the events a progress view gets. */
    static final class CountingEvents implements FleetEvents {
        final List<String> started = Collections.synchronizedList(new ArrayList<>());
        final List<HostResult> finished = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void started(HostSpec host) {
            started.add(host.name());
        }

        @Override
        public void step(HostSpec host, String step) {
        }

        @Override
        public void warn(HostSpec host, String message) {
        }

        @Override
        public void finished(HostResult result) {
            finished.add(result);
        }
    }

    @Test
    void theFirstServerRunsAloneThenTheOtherServersOneByOneThenTheAgents() {
        ClusterSpec s = spec(3, 4);
        Recorder r = new Recorder();
        FleetResult result = FleetApply.run(s, 0, r, FleetEvents.NONE);
        assertThat(result.ok()).isTrue();
        List<String> log = List.copyOf(r.log);
        assertThat(log.subList(0, 6)).containsExactly("start s1", "end s1", "start s2", "end s2", "start s3", "end s3");
        assertThat(log.subList(6, 14)).allMatch(e -> e.endsWith(" a1") || e.endsWith(" a2") || e.endsWith(" a3")
                || e.endsWith(" a4"));
        assertThat(result.hosts()).extracting(h -> h.host().name()).containsExactly("a1", "a2", "a3", "a4", "s1", "s2", "s3");
        assertThat(result.hosts()).allMatch(h -> h.status() == HostResult.Status.CHANGED);
    }

    @Test
    void byDefaultEveryAgentRunsAtOnce() {
        ClusterSpec s = spec(1, 8);
        Recorder r = new Recorder();
        r.together = new CountDownLatch(8);
        FleetResult result = FleetApply.run(s, 0, r, FleetEvents.NONE);
        assertThat(r.together.getCount()).as("all 8 agents were running together").isZero();
        assertThat(r.maxRunning.get()).isEqualTo(8);
        assertThat(result.count(HostResult.Status.CHANGED)).isEqualTo(9);
    }

    @Test
    void parallelCapsHowManyAgentsRunAtOnce() {
        ClusterSpec s = spec(1, 7);
        Recorder r = new Recorder();
        r.together = new CountDownLatch(3);
        FleetApply.run(s, 3, r, FleetEvents.NONE);
        assertThat(r.together.getCount()).as("3 agents were running together").isZero();
        assertThat(r.maxRunning.get()).isEqualTo(3);
        assertThat(r.log).filteredOn(e -> e.startsWith("end a")).hasSize(7);
    }

    @Test
    void parallelOneIsSequential() {
        ClusterSpec s = spec(1, 5);
        Recorder r = new Recorder();
        FleetApply.run(s, 1, r, FleetEvents.NONE);
        assertThat(r.maxRunning.get()).isEqualTo(1);
        for (int i = 0; i < r.log.size(); i += 2) {
            String host = r.log.get(i).substring("start ".length());
            assertThat(r.log.get(i + 1)).isEqualTo("end " + host);
        }
    }

    @Test
    void oneFailingAgentDoesNotStopTheOthersAndCarriesItsCause() {
        ClusterSpec s = spec(1, 4);
        Recorder r = new Recorder();
        r.failing.add("a2");
        CountingEvents events = new CountingEvents();
        FleetResult result = FleetApply.run(s, 0, r, events);
        assertThat(result.ok()).isFalse();
        assertThat(result.failures()).singleElement().satisfies(f -> {
            assertThat(f.host().name()).isEqualTo("a2");
            assertThat(f.status()).isEqualTo(HostResult.Status.FAILED);
            assertThat(f.exitCode()).isEqualTo(ExitCode.SSH);
            assertThat(f.error()).isEqualTo("cannot reach 10.0.1.2:22: no answer within 3s; check that the node is on");
        });
        assertThat(result.count(HostResult.Status.CHANGED)).isEqualTo(4);
        assertThat(events.started).hasSize(5);
        assertThat(events.finished).hasSize(5);
    }

    @Test
    void aFailedFirstServerSkipsEveryOtherHostSayingWhy() {
        ClusterSpec s = spec(2, 2);
        Recorder r = new Recorder();
        r.failing.add("s1");
        CountingEvents events = new CountingEvents();
        FleetResult result = FleetApply.run(s, 0, r, events);
        assertThat(r.log).containsExactly("start s1", "end s1");
        assertThat(result.hosts()).extracting(h -> h.host().name() + " " + h.status().label() + " " + h.error())
                .containsExactly(
                        "a1 skipped skipped: s1 (first server) failed",
                        "a2 skipped skipped: s1 (first server) failed",
                        "s1 failed cannot reach 10.0.0.1:22: no answer within 3s; check that the node is on",
                        "s2 skipped skipped: s1 (first server) failed");
        assertThat(events.started).containsExactly("s1");
        assertThat(events.finished).hasSize(4);
    }

    @Test
    void aFailedExtraServerDoesNotStopTheAgents() {
        ClusterSpec s = spec(3, 2);
        Recorder r = new Recorder();
        r.failing.add("s2");
        FleetResult result = FleetApply.run(s, 0, r, FleetEvents.NONE);
        assertThat(result.failures()).extracting(h -> h.host().name()).containsExactly("s2");
        assertThat(r.log).contains("end s3", "end a1", "end a2");
    }

    @Test
    void aConvergedClusterComesOutUnchangedHostByHost() {
        ClusterSpec s = spec(1, 3);
        Recorder r = new Recorder();
        r.unchanged.addAll(List.of("s1", "a1", "a2", "a3"));
        FleetResult result = FleetApply.run(s, 0, r, FleetEvents.NONE);
        assertThat(result.hosts()).allMatch(h -> h.status() == HostResult.Status.UNCHANGED && h.changes().isEmpty());
        assertThat(result.ok()).isTrue();
    }

    @Test
    void resetTakesTheAgentsFirstThenTheOtherServersOneByOneThenTheFirstServer() {
        ClusterSpec s = spec(3, 3);
        Recorder r = new Recorder();
        FleetResult result = FleetReset.run(s, s.hosts(), 0, r, FleetEvents.NONE);
        List<String> log = List.copyOf(r.log);
        assertThat(log.subList(0, 6)).allMatch(e -> e.matches("(start|end) a[123]"));
        assertThat(log.subList(6, 12)).containsExactly("start s2", "end s2", "start s3", "end s3", "start s1", "end s1");
        assertThat(result.hosts()).filteredOn(h -> h.host().name().equals("s1"))
                .singleElement().satisfies(h -> assertThat(h.changes()).containsExactly("reset first s1"));
    }

    @Test
    void resetGoesOnPastAFailureAndCanTakeOneHost() {
        ClusterSpec s = spec(2, 2);
        Recorder r = new Recorder();
        r.failing.add("a1");
        FleetResult all = FleetReset.run(s, s.hosts(), 0, r, FleetEvents.NONE);
        assertThat(all.failures()).extracting(h -> h.host().name()).containsExactly("a1");
        assertThat(r.log).contains("end s1", "end s2", "end a2");

        Recorder one = new Recorder();
        FleetResult single = FleetReset.run(s, List.of(s.host("a2")), 0, one, FleetEvents.NONE);
        assertThat(one.log).containsExactly("start a2", "end a2");
        assertThat(single.hosts()).extracting(h -> h.host().name()).containsExactly("a2");
    }
}
