package io.k3gpu.core.fleet;

import io.k3gpu.core.k3s.K3sVersion;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The order of a rolling K3s upgrade, from what each host runs and the release the file asks for. Pure.
 *
 * <p>As k0sctl does it: the servers one at a time, the first server first (the API the others follow), then the agents
 * in batches of {@code workerDisruptionPercent} of them (rounded down, at least one; {@code --parallel} caps it).
 * Kubernetes' version skew policy (https://kubernetes.io/releases/version-skew-policy/): a kubelet is never newer
 * than the API server, which the order keeps; and a cluster moves one minor release at a time (K3s's upgrade docs:
 * "do not skip intermediate minor versions"), so a jump of more than one minor is refused with the releases to go
 * through. A downgrade is refused unless asked for: K3s does not support one (the datastore written by the newer
 * release is not guaranteed to be read back).
 */
public final class RollingUpgrade {

    /** One host's move: the release it runs and the one it gets. */
    public record Move(HostSpec host, String from, String to) {
        /** {@code upgrade v1.30.8+k3s1 → v1.31.4+k3s1} (or downgrade). */
        public String describe() {
            if (from.equals(to)) {
                return "finish the upgrade to " + to + " (cordoned by the rollout that stopped there)";
            }
            Optional<K3sVersion> f = K3sVersion.parse(from);
            Optional<K3sVersion> t = K3sVersion.parse(to);
            boolean down = f.isPresent() && t.isPresent() && t.get().compareTo(f.get()) < 0;
            return (down ? "downgrade " : "upgrade ") + from + " → " + to;
        }
    }

    /**
     * What one host runs now.
     *
     * @param version the K3s release it runs in the file's role; null when K3s is not installed there in that role
     *                (apply installs it, no upgrade)
     * @param resume  its Node is still cordoned by a rollout that stopped there (it is finished even at the release)
     */
    public record Seen(HostSpec host, String version, boolean resume) {
        public Seen(HostSpec host, String version) {
            this(host, version, false);
        }
    }

    /**
     * @param target       the release the file asks for
     * @param servers      in the order they are upgraded, one at a time
     * @param agentBatches in order; the agents of one batch at the same time
     * @param batchSize    the agents of a batch, at most
     * @param refusals     why the rollout is refused (downgrade, skipped minors), one line per host; empty when not
     */
    public record Plan(String target, List<Move> servers, List<List<Move>> agentBatches, int batchSize,
                       List<String> refusals) {
        public Plan {
            servers = List.copyOf(servers);
            agentBatches = agentBatches.stream().map(List::copyOf).toList();
            refusals = List.copyOf(refusals);
        }

        public boolean empty() {
            return servers.isEmpty() && agentBatches.isEmpty();
        }

        public boolean refused() {
            return !refusals.isEmpty();
        }

        /** Every move, in the rollout's order. */
        public List<Move> moves() {
            List<Move> all = new ArrayList<>(servers);
            agentBatches.forEach(all::addAll);
            return all;
        }
    }

    private RollingUpgrade() {
    }

    /**
     * How many agents are upgraded at once: {@code percent} of them rounded down, at least one, at most
     * {@code parallel} when it is not 0 (k0sctl's workerDisruptionPercent and concurrency limit).
     */
    public static int batchSize(int agents, int percent, int parallel) {
        int n = Math.max(1, (int) Math.floor(agents * (double) percent / 100.0));
        return parallel > 0 ? Math.min(n, parallel) : n;
    }

    /**
     * @param seen    every host of the file, in the file's order
     * @param target  the release the file asks for; null when it asks for none (nothing to roll)
     */
    public static Plan plan(ClusterSpec spec, List<Seen> seen, String target, int percent, int parallel,
                            boolean allowDowngrade) {
        List<Move> servers = new ArrayList<>();
        List<Move> agents = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        if (target != null) {
            List<Seen> ordered = new ArrayList<>();
            seen.stream().filter(s -> spec.isFirstServer(s.host())).forEach(ordered::add);
            seen.stream().filter(s -> !spec.isFirstServer(s.host())).forEach(ordered::add);
            for (Seen s : ordered) {
                if (s.version() == null || s.version().equals(target) && !s.resume()) {
                    continue;
                }
                refusal(s.host(), s.version(), target, allowDowngrade).ifPresent(refusals::add);
                Move m = new Move(s.host(), s.version(), target);
                (s.host().role() == HostRole.SERVER ? servers : agents).add(m);
            }
        }
        int size = batchSize(agents.size(), percent, parallel);
        List<List<Move>> batches = new ArrayList<>();
        for (int i = 0; i < agents.size(); i += size) {
            batches.add(agents.subList(i, Math.min(agents.size(), i + size)));
        }
        return new Plan(target, servers, batches, size, refusals);
    }

    /** Why {@code from → to} is refused on a host; empty when it is not. */
    static Optional<String> refusal(HostSpec h, String from, String to, boolean allowDowngrade) {
        Optional<K3sVersion> f = K3sVersion.parse(from);
        Optional<K3sVersion> t = K3sVersion.parse(to);
        if (f.isEmpty() || t.isEmpty()) {
            return Optional.empty();
        }
        K3sVersion a = f.get();
        K3sVersion b = t.get();
        if (b.compareTo(a) < 0) {
            return allowDowngrade ? Optional.empty() : Optional.of(h.name() + ": " + from + " → " + to
                    + " is a downgrade, which K3s does not support (the datastore of the newer release may not be "
                    + "read back); --allow-downgrade does it anyway");
        }
        if (a.major() != b.major()) {
            return Optional.of(h.name() + ": " + from + " → " + to + " changes the major version; upgrade one minor "
                    + "release at a time");
        }
        if (b.minor() - a.minor() > 1) {
            List<String> lines = new ArrayList<>();
            for (int m = a.minor() + 1; m < b.minor(); m++) {
                lines.add("v" + a.major() + "." + m);
            }
            return Optional.of(h.name() + ": " + from + " → " + to + " skips " + String.join(", ", lines)
                    + ": Kubernetes upgrades one minor release at a time (version skew policy); go through "
                    + String.join(", then ", lines.stream().map(l -> "k3sChannel: " + l).toList())
                    + " (apply each), then " + to);
        }
        return Optional.empty();
    }

    /** The rollout in words, one line per step, as plan and apply print it. */
    public static String text(Plan p) {
        if (p.empty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        int agents = p.agentBatches().stream().mapToInt(List::size).sum();
        sb.append("rolling upgrade to ").append(p.target()).append(": ").append(p.servers().size())
                .append(p.servers().size() == 1 ? " server" : " servers").append(" one at a time, then ")
                .append(agents).append(agents == 1 ? " agent" : " agents").append(" in batches of ")
                .append(p.batchSize()).append(" (cordon, drain, upgrade, Ready, GPU gate, uncordon)\n");
        int step = 1;
        for (Move m : p.servers()) {
            sb.append("  ").append(step++).append(". ").append(m.host().name()).append(": ").append(m.describe())
                    .append('\n');
        }
        int batch = 1;
        for (List<Move> b : p.agentBatches()) {
            List<String> names = new ArrayList<>();
            b.forEach(m -> names.add(m.host().name() + " (" + m.describe() + ")"));
            sb.append("  ").append(step++).append(". agents batch ").append(batch++).append(": ")
                    .append(String.join(", ", names)).append('\n');
        }
        for (String r : p.refusals()) {
            sb.append("  ! refused: ").append(r).append('\n');
        }
        return sb.toString();
    }
}
