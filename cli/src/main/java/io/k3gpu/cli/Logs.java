package io.k3gpu.cli;

/**
 * The libraries' own logs (MINA SSHD, fabric8, through SLF4J's simple binding): on stderr at debug level under
 * {@code --debug}, off otherwise. Set before the first logger exists, which is when slf4j-simple reads its settings;
 * a level the user set ({@code -Dorg.slf4j.simpleLogger.defaultLogLevel=...}) is kept.
 */
final class Logs {
    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private Logs() {
    }

    static void configure(boolean debug) {
        // named, so that SLF4J does not scan for providers (and warn when the lab's slf4j-nop is there too)
        System.setProperty("slf4j.provider", "org.slf4j.simple.SimpleServiceProvider");
        System.setProperty("slf4j.internal.verbosity", debug ? "INFO" : "WARN"); // its own "loading provider" note
        System.setProperty(PREFIX + "defaultLogLevel",
                System.getProperty(PREFIX + "defaultLogLevel", debug ? "debug" : "off"));
        System.setProperty(PREFIX + "logFile", "System.err");
        System.setProperty(PREFIX + "showThreadName", "true");
        System.setProperty(PREFIX + "showDateTime", "true");
        System.setProperty(PREFIX + "dateTimeFormat", "HH:mm:ss.SSS");
        System.setProperty(PREFIX + "showShortLogName", "true");
    }
}
