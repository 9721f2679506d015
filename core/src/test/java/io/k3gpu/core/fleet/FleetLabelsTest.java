package io.k3gpu.core.fleet;

import io.k3gpu.core.kube.Taint;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class FleetLabelsTest {
    private static final HostSpec HOST = ClusterFile.parse("cluster.yaml", Path.of("/srv"), """
            hosts:
              - {address: 10.0.0.1, role: server, labels: {zone: b, shelf: a}, taints: ["dedicated=gpu:NoSchedule"]}
            """).firstServer();

    @Test
    void labelsAnEarlierApplySetAreRemovedOnceTheFileDropsThem() {
        Map<String, String> l = FleetLabels.fileLabels(HOST, Map.of(FleetLabels.LABELS_ANNOTATION, "room,shelf"));
        Map<String, String> expected = new HashMap<>();
        expected.put("room", null);
        expected.put("zone", "b");
        expected.put("shelf", "a");
        assertThat(l).isEqualTo(expected);
    }

    @Test
    void theAnnotationsRememberTheFilesLabelsAndTaintsSorted() {
        assertThat(FleetLabels.annotations(HOST)).containsExactly(
                Map.entry(FleetLabels.LABELS_ANNOTATION, "shelf,zone"),
                Map.entry(FleetLabels.TAINTS_ANNOTATION, "dedicated:NoSchedule"));
    }

    @Test
    void taintsOfOthersStayAndManagedOnesAreReplaced() {
        List<Taint> have = List.of(new Taint("node.kubernetes.io/unschedulable", null, "NoSchedule"),
                new Taint("dedicated", "cpu", "NoSchedule"), new Taint("old", null, "NoExecute"));
        Set<String> managed = Set.of("old:NoExecute");
        assertThat(FleetLabels.taintChanges(HOST.taints(), managed, have))
                .containsExactly("dedicated=gpu:NoSchedule", "-old:NoExecute");
        assertThat(FleetLabels.nextTaints(HOST.taints(), managed, have)).containsExactly(
                new Taint("node.kubernetes.io/unschedulable", null, "NoSchedule"),
                new Taint("dedicated", "gpu", "NoSchedule"));
        assertThat(FleetLabels.taintChanges(HOST.taints(), managed, FleetLabels.nextTaints(HOST.taints(), managed, have)))
                .isEmpty();
    }

    @Test
    void changedKeepsOnlyWhatDiffers() {
        Map<String, String> wanted = new HashMap<>();
        wanted.put("a", "1");
        wanted.put("b", "2");
        wanted.put("gone", null);
        wanted.put("never", null);
        Map<String, String> expected = new HashMap<>();
        expected.put("b", "2");
        expected.put("gone", null);
        assertThat(FleetLabels.changed(wanted, Map.of("a", "1", "b", "3", "gone", "x"))).isEqualTo(expected);
    }

    @Test
    void taintTextRoundTrips() {
        assertThat(Taint.parse("dedicated=gpu:NoSchedule")).contains(new Taint("dedicated", "gpu", "NoSchedule"));
        assertThat(Taint.parse("gpu:NoExecute").orElseThrow().toString()).isEqualTo("gpu:NoExecute");
        assertThat(Taint.parse("gpu=x:Never")).isEmpty();
        assertThat(Taint.parse("no-effect")).isEmpty();
    }
}
