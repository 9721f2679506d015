package io.k3gpu.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** {@code --version}: the POM's version and the git commit it was built from (version.properties, filtered by Maven). */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return lines();
    }

    /** The version lines, also for {@link QuickAnswers} (which prints them without picocli's model). */
    static String[] lines() {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an unreadable resource reads as an unknown version
        }
        return new String[]{line(p.getProperty("version"), p.getProperty("commit")),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ", "
                        + System.getProperty("java.vendor") + ")"};
    }

    /** "k3gpu VERSION (commit C)"; a value Maven did not fill (built without git, or not by Maven) is left out. */
    static String line(String version, String commit) {
        String v = filled(version) ? version : "development build";
        return "k3gpu " + v + (filled(commit) ? " (commit " + commit + ")" : "");
    }

    private static boolean filled(String value) {
        return value != null && !value.isBlank() && !value.startsWith("${");
    }
}
