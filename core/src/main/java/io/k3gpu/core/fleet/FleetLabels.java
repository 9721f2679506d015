package io.k3gpu.core.fleet;

import io.k3gpu.core.facts.NodeFacts;
import io.k3gpu.core.k3s.GpuLabels;
import io.k3gpu.core.kube.Taint;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The labels and taints the file manages on a Node. What the last apply set is kept in two annotations, so that a
 * label or taint taken out of the file is taken off the node too, while those of others (K3s's, an admin's) stay.
 * Pure.
 */
public final class FleetLabels {
    public static final String LABELS_ANNOTATION = "k3gpu.dev/fleet-labels";
    public static final String TAINTS_ANNOTATION = "k3gpu.dev/fleet-taints";

    private FleetLabels() {
    }

    /** The file's labels, plus null (remove) for each label an earlier apply set that the file no longer has. */
    public static Map<String, String> fileLabels(HostSpec h, Map<String, String> annotations) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String old : list(annotations.get(LABELS_ANNOTATION))) {
            if (!h.labels().containsKey(old)) {
                out.put(old, null);
            }
        }
        out.putAll(h.labels());
        return out;
    }

    /** The GPU labels (from the facts as they will be) with the file's labels on top. */
    public static Map<String, String> wanted(HostSpec h, NodeFacts facts, String runtimeLabel,
                                             Map<String, String> annotations) {
        Map<String, String> out = new LinkedHashMap<>(GpuLabels.of(facts, runtimeLabel));
        out.putAll(fileLabels(h, annotations));
        return out;
    }

    /** The taint ids (key:Effect) an earlier apply set. */
    public static Set<String> managedTaints(Map<String, String> annotations) {
        return new HashSet<>(list(annotations.get(TAINTS_ANNOTATION)));
    }

    /** The annotations that record what the file manages now. */
    public static Map<String, String> annotations(HostSpec h) {
        Map<String, String> a = new LinkedHashMap<>();
        a.put(LABELS_ANNOTATION, h.labels().isEmpty() ? null : String.join(",", new TreeSet<>(h.labels().keySet())));
        List<String> ids = new ArrayList<>();
        h.taints().forEach(t -> ids.add(t.id()));
        a.put(TAINTS_ANNOTATION, ids.isEmpty() ? null : String.join(",", new TreeSet<>(ids)));
        return a;
    }

    /** The labels of {@code wanted} that {@code have} does not match, as {@code key=value} or {@code -key}. */
    public static List<String> labelChanges(Map<String, String> wanted, Map<String, String> have) {
        List<String> out = new ArrayList<>();
        wanted.forEach((k, v) -> {
            if (v == null && have.containsKey(k)) {
                out.add("-" + k);
            } else if (v != null && !Objects.equals(have.get(k), v)) {
                out.add(k + "=" + v);
            }
        });
        return out;
    }

    /** The taint changes that make {@code have} hold exactly {@code wanted} among the managed ones. */
    public static List<String> taintChanges(List<Taint> wanted, Set<String> managed, List<Taint> have) {
        List<String> out = new ArrayList<>();
        Set<String> wantedIds = new HashSet<>();
        for (Taint t : wanted) {
            wantedIds.add(t.id());
            if (!have.contains(t)) {
                out.add(t.toString());
            }
        }
        for (Taint t : have) {
            if (managed.contains(t.id()) && !wanted.contains(t) && !wantedIds.contains(t.id())) {
                out.add("-" + t);
            }
        }
        return out;
    }

    /** The Node's taints after the change: the ones the file does not manage, then the file's. */
    public static List<Taint> nextTaints(List<Taint> wanted, Set<String> managed, List<Taint> have) {
        Set<String> ours = new HashSet<>(managed);
        wanted.forEach(t -> ours.add(t.id()));
        List<Taint> next = new ArrayList<>();
        for (Taint t : have) {
            if (!ours.contains(t.id())) {
                next.add(t);
            }
        }
        next.addAll(wanted);
        return next;
    }

    /** The entries of {@code wanted} that {@code have} does not match (null: remove). */
    public static Map<String, String> changed(Map<String, String> wanted, Map<String, String> have) {
        Map<String, String> out = new LinkedHashMap<>();
        wanted.forEach((k, v) -> {
            if (v == null ? have.containsKey(k) : !v.equals(have.get(k))) {
                out.put(k, v);
            }
        });
        return out;
    }

    private static List<String> list(String csv) {
        List<String> out = new ArrayList<>();
        if (csv != null) {
            for (String s : csv.split(",")) {
                if (!s.isBlank()) {
                    out.add(s.strip());
                }
            }
        }
        return out;
    }
}
