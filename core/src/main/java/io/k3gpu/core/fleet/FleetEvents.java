package io.k3gpu.core.fleet;

import io.k3gpu.core.event.Events;

/**
 * Progress of a fleet run, host by host, for a progress view: a host's turn starts, it goes through steps (the
 * messages the single-node flows emit as {@link Events}), it finishes with a {@link HostResult}. Called from the
 * hosts' threads; implementations must be thread-safe.
 */
public interface FleetEvents {
    FleetEvents NONE = new FleetEvents() {
        @Override
        public void started(HostSpec host) {
        }

        @Override
        public void step(HostSpec host, String step) {
        }

        @Override
        public void warn(HostSpec host, String message) {
        }

        @Override
        public void finished(HostResult result) {
        }
    };

    void started(HostSpec host);

    /** What the host is doing now, e.g. "installing the K3s agent v1.31.4+k3s1 (agent)". */
    void step(HostSpec host, String step);

    void warn(HostSpec host, String message);

    void finished(HostResult result);

    /** The single-node flows' events for {@code host}, as this host's steps and warnings. */
    default Events of(HostSpec host) {
        return new Events() {
            @Override
            public void info(String ignored, String message) {
                step(host, message);
            }

            @Override
            public void warn(String ignored, String message) {
                FleetEvents.this.warn(host, message);
            }
        };
    }
}
