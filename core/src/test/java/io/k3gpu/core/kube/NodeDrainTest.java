package io.k3gpu.core.kube;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.event.Events;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The drain against a fake API: what it evicts, leaves, waits for, and how it ends when a budget forbids it. */
class NodeDrainTest {
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> blocked = new HashSet<>();
    private final Set<String> gone = new HashSet<>();

    private ClusterApi api() {
        List<DrainPod> pods = List.of(new DrainPod("kube-system", "nvidia-device-plugin-x", "u1", true, false),
                new DrainPod("kube-system", "static-x", "u2", false, true),
                new DrainPod("default", "web-1", "u3", false, false),
                new DrainPod("default", "db-0", "u4", false, false));
        return (ClusterApi) Proxy.newProxyInstance(ClusterApi.class.getClassLoader(), new Class<?>[]{ClusterApi.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "podsOn" -> pods;
                    case "evict" -> {
                        calls.add("evict " + args[0] + "/" + args[1]);
                        boolean ok = !blocked.contains(args[1]);
                        if (ok) {
                            gone.add((String) args[1]);
                        }
                        yield ok;
                    }
                    case "podExists" -> !gone.contains(args[1]);
                    case "deletePod" -> {
                        calls.add("delete " + args[0] + "/" + args[1]);
                        gone.add((String) args[1]);
                        yield null;
                    }
                    case "budgetsOf" -> List.of("db (allows 0 disruptions: 1 healthy, 1 desired)");
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void evictsAllButDaemonSetAndStaticPodsAndWaitsUntilTheyAreGone() {
        NodeDrain.Result r = new NodeDrain(Events.NONE).run(api(), "10.0.0.5", "gpu1", Duration.ofSeconds(5), false);
        assertThat(r.evicted()).containsExactly("default/web-1", "default/db-0");
        assertThat(r.left()).containsExactly("kube-system/nvidia-device-plugin-x", "kube-system/static-x");
        assertThat(r.deleted()).isEmpty();
        assertThat(calls).containsExactly("evict default/web-1", "evict default/db-0");
    }

    @Test
    void aBudgetThatForbidsTheEvictionFailsTheDrainAtItsTimeoutNamingTheBudget() {
        blocked.add("db-0");
        K3gpuException e = catchThrowableOfType(() -> new NodeDrain(Events.NONE).run(api(), "10.0.0.5", "gpu1",
                Duration.ofSeconds(1), false), K3gpuException.class);
        assertThat(e.exitCode()).isEqualTo(ExitCode.TIMEOUT);
        assertThat(e.getMessage()).isEqualTo("draining node gpu1 did not finish within 1s: pod default/db-0 cannot be "
                + "evicted: PodDisruptionBudget db (allows 0 disruptions: 1 healthy, 1 desired)");
        assertThat(e.hint()).contains("--force-drain");
        assertThat(calls).doesNotContain("delete default/db-0");
    }

    @Test
    void forceDeletesWhatCannotBeEvictedAtTheTimeout() {
        blocked.add("db-0");
        NodeDrain.Result r = new NodeDrain(Events.NONE).run(api(), "10.0.0.5", "gpu1", Duration.ofSeconds(1), true);
        assertThat(r.evicted()).containsExactly("default/web-1");
        assertThat(r.deleted()).containsExactly("default/db-0");
        assertThat(calls).endsWith("delete default/db-0");
    }
}
