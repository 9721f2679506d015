package io.k3gpu.core.remote;

import java.time.Duration;

/**
 * One remote command seen as a step of a flow: what it does (named in messages) and its kind, whose deadline bounds
 * how long the node may take. A run may replace every kind's default with one deadline (--step-timeout).
 */
public record RemoteStep(String what, Kind kind) {

    /** Kinds of remote step and how long each may take by default. */
    public enum Kind {
        /** Anything not named below: probes, reading and writing files, small edits. */
        COMMAND(Duration.ofMinutes(2)),
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

    public static RemoteStep restart(String service) {
        return new RemoteStep("restarting " + service, Kind.RESTART);
    }

    public static RemoteStep dockerInfo() {
        return new RemoteStep("waiting for docker to answer docker info", Kind.DOCKER_INFO);
    }

    public static RemoteStep upload(String what) {
        return new RemoteStep(what, Kind.UPLOAD);
    }

    public static RemoteStep install(String what) {
        return new RemoteStep(what, Kind.INSTALL);
    }

    /** This step's deadline: {@code override} when the run set one, else its kind's default. */
    public Duration limit(Duration override) {
        return override != null ? override : kind.defaultLimit();
    }
}
