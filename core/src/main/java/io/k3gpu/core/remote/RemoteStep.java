package io.k3gpu.core.remote;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;

/**
 * One remote command seen as a step of a flow: what it does (named in messages) and its kind, whose deadline bounds
 * how long the node may take. A run may replace every kind's default with one deadline (--step-timeout).
 *
 * @param tag null, or a word that marks the step's command line on the node ({@code k3gpu-step-<hex>}) so that
 *            {@link #stopCommand} can end it from another channel while k3gpu is interrupted
 */
public record RemoteStep(String what, Kind kind, String tag) {
    private static final SecureRandom RANDOM = new SecureRandom();

    public RemoteStep(String what, Kind kind) {
        this(what, kind, null);
    }

    /** Kinds of remote step and how long each may take by default. */
    public enum Kind {
        /** Anything not named below: probes, reading and writing files, small edits. */
        COMMAND(Duration.ofMinutes(2)),
        /**
         * Reading what explains a failure (a service's last log lines): it must not add minutes to a run that already
         * failed, on a link that may be the reason.
         */
        DIAGNOSTIC(Duration.ofSeconds(15)),
        /** Restarting a service (docker, k3s, k3s-agent) and waiting for systemd to report it started. */
        RESTART(Duration.ofSeconds(90)),
        /** One question to the Docker daemon (docker info); a daemon that does not answer must not hang the run. */
        DOCKER_INFO(Duration.ofSeconds(30)),
        /** A file sent to the node: an air-gap archive or binary may take minutes over a slow link. */
        UPLOAD(Duration.ofMinutes(10)),
        /** The K3s install (or uninstall) script: it downloads K3s and starts it. */
        INSTALL(Duration.ofMinutes(10));

        private final Duration defaultLimit;

        Kind(Duration defaultLimit) {
            this.defaultLimit = defaultLimit;
        }

        public Duration defaultLimit() {
            return defaultLimit;
        }
    }

    public static RemoteStep command(String what) {
        return new RemoteStep(what, Kind.COMMAND);
    }

    public static RemoteStep diagnostic(String what) {
        return new RemoteStep(what, Kind.DIAGNOSTIC);
    }

    public static RemoteStep restart(String service) {
        return new RemoteStep("restarting " + service, Kind.RESTART);
    }

    public static RemoteStep dockerInfo() {
        return new RemoteStep("waiting for docker to answer docker info", Kind.DOCKER_INFO);
    }

    public static RemoteStep upload(String what) {
        return new RemoteStep(what, Kind.UPLOAD);
    }

    /** A long step that a Ctrl-C must be able to stop on the node: its command line carries a fresh tag. */
    public static RemoteStep install(String what) {
        byte[] id = new byte[6];
        RANDOM.nextBytes(id);
        return new RemoteStep(what, Kind.INSTALL, "k3gpu-step-" + HexFormat.of().formatHex(id));
    }

    /**
     * The command that ends this tagged step on the node: TERM to the processes whose command line carries the tag
     * ({@code timeout}, which then ends the step's whole process group, and its {@code sh}). The pattern's first
     * hex digit is a bracket expression, so that it does not match the command line of the pkill that runs it.
     * Pure; golden-tested.
     */
    public String stopCommand() {
        if (tag == null) {
            throw new IllegalStateException(what + " has no tag to stop it by");
        }
        int at = "k3gpu-step-".length();
        return "pkill -TERM -f '" + tag.substring(0, at) + "[" + tag.charAt(at) + "]" + tag.substring(at + 1) + "'";
    }

    /** This step's deadline: {@code override} when the run set one, else its kind's default. */
    public Duration limit(Duration override) {
        return override != null ? override : kind.defaultLimit();
    }
}
