package io.k3gpu.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --version and --help answered without picocli's command model print exactly what picocli prints, and a run
 * builds the model of the one command it runs, configured as in the whole tree.
 */
class QuickAnswersTest {
    private static String built(String name) throws IOException {
        try (InputStream in = QuickAnswers.class.getResourceAsStream(name)) {
            assertThat(in).as(name + " (written by the build, cli/pom.xml)").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theBuiltRootUsageIsPicocliRenderingOfTheWholeTree() throws IOException {
        assertThat(built(QuickAnswers.PLAIN)).isEqualTo(QuickAnswers.rootUsage(Ansi.OFF));
        assertThat(built(QuickAnswers.STYLED)).isEqualTo(QuickAnswers.rootUsage(Ansi.ON));
        assertThat(built(QuickAnswers.PLAIN)).startsWith("Usage: k3gpu [-hV] [--debug] [COMMAND]\n")
                .contains("\n  nodes          List the cluster's nodes")
                .contains("\n  help           Display help information about the specified command.\n")
                .contains("Exit codes:\n");
        assertThat(built(QuickAnswers.STYLED)).contains("\u001B[1m").isNotEqualTo(built(QuickAnswers.PLAIN));
    }

    @Test
    void helpAndVersionPrintWhatPicocliPrintsWithTheWholeTree() {
        for (String help : List.of("--help", "-h")) {
            Cli.Result quick = Cli.run(help);
            assertThat(QuickAnswers.answer(new String[]{help}, true)).isEqualTo(quick.out());
            assertThat(quick.exit()).isZero();
            assertThat(quick.err()).isEmpty();
            // --debug first: no quick answer, picocli renders the help itself from the whole tree
            assertThat(QuickAnswers.answer(new String[]{"--debug", help}, true)).isNull();
            assertThat(Cli.run("--debug", help)).isEqualTo(quick);
        }
        for (String version : List.of("--version", "-V")) {
            Cli.Result quick = Cli.run(version);
            assertThat(quick.out()).isEqualTo(String.join("\n", VersionProvider.lines()) + "\n");
            assertThat(QuickAnswers.answer(new String[]{"--debug", version}, true)).isNull();
            assertThat(Cli.run("--debug", version)).isEqualTo(quick);
        }
    }

    @Test
    void picocliStyledHelpIsTheBuiltStyledRendering() throws IOException {
        // what picocli prints when its ANSI mode is on (a terminal, or picocli.ansi=true); with a picocli.* property
        // set there is no quick answer
        System.setProperty("picocli.ansi", "true");
        try {
            assertThat(QuickAnswers.answer(new String[]{"--help"}, true)).isNull();
            assertThat(Cli.run("--help").out()).isEqualTo(built(QuickAnswers.STYLED));
        } finally {
            System.clearProperty("picocli.ansi");
        }
    }

    @Test
    void otherArgumentsAndTheLabsCommandsGetNoQuickAnswer() {
        assertThat(QuickAnswers.answer(new String[]{"--help"}, false)).isNull(); // the lab's jar lists lab and demo
        assertThat(QuickAnswers.answer(new String[]{"--version"}, false)).isNotNull();
        assertThat(QuickAnswers.answer(new String[]{"nodes", "--help"}, true)).isNull();
        assertThat(QuickAnswers.answer(new String[]{"-hV"}, true)).isNull();
        assertThat(QuickAnswers.answer(new String[0], true)).isNull();
    }

    @Test
    void theCommandIsTheFirstArgumentThatIsNoOption() {
        assertThat(K3gpu.commandName(new String[]{"--debug", "nodes", "-o", "wide"})).isEqualTo("nodes");
        assertThat(K3gpu.commandName(new String[]{"stats", "parse", "f"})).isEqualTo("stats");
        assertThat(K3gpu.commandName(new String[]{"--debug"})).isNull();
        assertThat(K3gpu.commandName(new String[]{"--", "nodes"})).isNull();
        assertThat(K3gpu.commandName(new String[]{"@args.txt"})).isNull();
    }

    private static Terminal quiet() {
        return new Terminal(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                InputStream.nullInputStream(), Map.of());
    }

    @Test
    void eachCommandAloneIsBuiltAsInTheWholeTree() {
        CommandLine whole = K3gpu.commandLine(quiet());
        assertThat(whole.getSubcommands().keySet())
                .containsExactlyElementsOf(K3gpu.Commands.LIST.stream().map(K3gpu.Commands.Sub::name).toList());
        for (K3gpu.Commands.Sub c : K3gpu.Commands.LIST) {
            CommandLine.Command a = c.type().getAnnotation(CommandLine.Command.class);
            assertThat(a.name()).as(c.type().getName()).isEqualTo(c.name());
            assertThat(a.aliases()).as("aliases would need a name each in K3gpu.Commands").isEmpty();
            CommandLine lazy = K3gpu.commandLine(quiet(), List.of(), new String[]{"--debug", c.name(), "--help"});
            if (K3gpu.Commands.NEED_ALL.contains(c.name())) {
                assertThat(lazy.getSubcommands().keySet()).isEqualTo(whole.getSubcommands().keySet());
                continue;
            }
            assertThat(lazy.getSubcommands().keySet()).containsExactly(c.name());
            assertThat(usages(lazy.getSubcommands().get(c.name())))
                    .isEqualTo(usages(whole.getSubcommands().get(c.name())));
        }
    }

    /** A command's usage and those of its subcommands, depth first. */
    private static List<String> usages(CommandLine cl) {
        List<String> all = new ArrayList<>(List.of(cl.getUsageMessage(Ansi.OFF)));
        cl.getSubcommands().values().forEach(sub -> all.addAll(usages(sub)));
        return all;
    }

    @Test
    void anUnknownCommandIsReportedAgainstTheWholeTree() {
        CommandLine lazy = K3gpu.commandLine(quiet(), List.of(), new String[]{"nodez"});
        assertThat(lazy.getSubcommands()).hasSize(K3gpu.Commands.LIST.size());
        Cli.Result r = Cli.run("nodez");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: Unmatched argument at index 0: 'nodez'");
    }

    @Test
    void aRunOfOneCommandWorksWithItsOptionsAndConverters() {
        // the Duration converter (registered on the root) and the usage error handler are there when the tree
        // holds install alone; the value fails before any SSH connection
        Cli.Result r = Cli.run("install", "--ip", "192.0.2.1", "--timeout", "soon");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("error: Invalid value for option '--timeout': 'soon' is not a duration "
                + "(write it like 500ms, 10s, 2m or 1h30m); see 'k3gpu install --help'\n");
    }
}
