package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The summary that --help lists for each command (its first description line) is one complete short sentence. */
class HelpSummaryTest {
    /** lab and demo leave this jar (issue 16: the lab becomes its own artifact); their help is the lab's. */
    private static final Set<String> LAB = Set.of("lab", "demo");

    @Test
    void everyCommandSummaryIsOneCompleteShortSentence() {
        List<String> bad = new ArrayList<>();
        check(K3gpu.commandLine(new Terminal(new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(new java.io.StringWriter()), java.io.InputStream.nullInputStream(), Map.of())), bad);
        assertThat(bad).isEmpty();
    }

    private static void check(CommandLine cl, List<String> bad) {
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            if (!e.getKey().equals(sub.getCommandName()) || LAB.contains(sub.getCommandName())
                    || sub.getCommandSpec().userObject() instanceof CommandLine.HelpCommand) {
                continue; // an alias, or the lab's
            }
            // picocli lists the header when there is one, else the first description line
            String[] h = sub.getCommandSpec().usageMessage().header();
            String[] d = h.length > 0 ? h : sub.getCommandSpec().usageMessage().description();
            String summary = d.length == 0 ? "" : d[0];
            String name = sub.getCommandSpec().qualifiedName();
            // one sentence: ends with a full stop, no other sentence end inside, short enough for one or two lines
            if (!summary.endsWith(".") || summary.substring(0, summary.length() - 1).matches(".*[.!?] [A-Z].*")
                    || summary.length() > 110 || !Character.isUpperCase(summary.charAt(0))) {
                bad.add(name + ": '" + summary + "'");
            }
            check(sub, bad);
        }
    }

    @Test
    void theListShowsEachSummaryWhole() {
        Cli.Result r = Cli.run("--help");
        assertThat(r.out()).contains("  verify         Prove that pods on a node get the GPU: PASS or FAIL, why, and\n"
                + "                   what to run.\n");
        assertThat(r.out()).contains("  stats          Watch the GPU nodes' hardware live: tegrastats on Jetsons,\n");
    }
}
