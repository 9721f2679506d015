package io.k3gpu.core.event;

/**
 * Where the core reports progress. The core never prints: the CLI renders these (console, JSON lines), tests collect
 * them.
 */
public interface Events {
    Events NONE = new Events() {
        @Override
        public void info(String host, String message) {
        }

        @Override
        public void warn(String host, String message) {
        }
    };

    /** A step started or made progress on {@code host} (null for the run as a whole). */
    void info(String host, String message);

    /** Something the user should know about but that does not stop the run. */
    void warn(String host, String message);
}
