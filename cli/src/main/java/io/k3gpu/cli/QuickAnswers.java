package io.k3gpu.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code k3gpu --version} and {@code k3gpu --help} without picocli's model of the command tree: picocli 4.7 is
 * compiled for Java 5, so its classes are verified anew at every start and escape the JVM's class caches, and the
 * model of all commands is built by reflection; together they were most of these two commands' time
 * (docs/benchmarks.md, "Start-up"). The root's usage is picocli's own rendering, written at build time
 * ({@link #main}, cli/pom.xml) with and without ANSI styles; QuickAnswersTest proves it equal to what picocli prints.
 * Whenever the answer could differ from picocli's (another argument, the lab's extra commands, a {@code picocli.*}
 * system property, no built rendering), this answers nothing and picocli runs as always.
 */
final class QuickAnswers {
    static final String PLAIN = "root-usage.txt";
    static final String STYLED = "root-usage.ansi.txt";

    private QuickAnswers() {
    }

    /**
     * What picocli would print for {@code args} when they are the root's {@code --version} or {@code --help} alone,
     * else null. {@code userJar}: the commands are the user's jar's (the lab's jar lists two more in its help).
     */
    static String answer(String[] args, boolean userJar) {
        if (args.length != 1) {
            return null;
        }
        if (args[0].equals("--version") || args[0].equals("-V")) {
            return version(VersionProvider.lines());
        }
        if ((args[0].equals("--help") || args[0].equals("-h")) && userJar && !picocliConfigured()) {
            // Ansi.AUTO.enabled() is picocli's own decision (TTY, NO_COLOR, CLICOLOR...): 19 small classes
            return resource(Ansi.AUTO.enabled() ? STYLED : PLAIN);
        }
        return null;
    }

    /**
     * picocli's version help: each line through String.format and its markup parser, which leave a line without
     * {@code %} and {@code @|} as it is.
     */
    private static String version(String[] lines) {
        StringBuilder b = new StringBuilder();
        for (String line : lines) {
            if (line.contains("%") || line.contains("@|")) {
                return null;
            }
            b.append(line).append(System.lineSeparator());
        }
        return b.toString();
    }

    /** picocli reads its width, colours and ANSI mode from {@code picocli.*} properties: then it renders itself. */
    private static boolean picocliConfigured() {
        for (Object key : System.getProperties().keySet()) {
            if (key.toString().startsWith("picocli.")) {
                return true;
            }
        }
        return false;
    }

    private static String resource(String name) {
        try (InputStream in = QuickAnswers.class.getResourceAsStream(name)) {
            if (in == null) {
                return null; // not built by Maven (an IDE's class path): picocli answers
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\n", System.lineSeparator());
        } catch (IOException e) {
            return null;
        }
    }

    /** The root's usage as picocli renders it with this colour scheme, lines ending in \n. */
    static String rootUsage(Ansi ansi) {
        PrintWriter quiet = new PrintWriter(new StringWriter());
        CommandLine cl = K3gpu.commandLine(quiet, quiet, new ByteArrayInputStream(new byte[0]), Map.of(), List.of());
        return cl.getUsageMessage(CommandLine.Help.defaultColorScheme(ansi)).replace(System.lineSeparator(), "\n");
    }

    /** Build step (cli/pom.xml, process-classes): writes both renderings into the class directory given. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]).resolve("io/k3gpu/cli");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(PLAIN), rootUsage(Ansi.OFF), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(STYLED), rootUsage(Ansi.ON), StandardCharsets.UTF_8);
    }
}
