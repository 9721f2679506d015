package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TerminalTest {
    private static Terminal terminal(Map<String, String> env) {
        return new Terminal(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                InputStream.nullInputStream(), env);
    }

    @Test
    void noConsoleIsNoTerminal() {
        assertThat(Terminal.isTerminal(null)).isFalse();
        // under the test runner output is not a terminal, whatever TERM says
        assertThat(terminal(Map.of("TERM", "xterm-256color")).interactive()).isFalse();
        assertThat(terminal(Map.of("TERM", "dumb")).interactive()).isFalse();
    }

    @Test
    void sizeComesFromLinesAndColumnsWhenSet() {
        assertThat(terminal(Map.of("LINES", "40", "COLUMNS", "132")).size()).isEqualTo(new Terminal.Size(40, 132));
    }

    @Test
    void unicodeFollowsTheFirstLocaleVariableThatIsSet() {
        assertThat(terminal(Map.of("LC_ALL", "C", "LANG", "en_US.UTF-8")).unicode()).isFalse();
        assertThat(terminal(Map.of("LANG", "en_US.utf8")).unicode()).isTrue();
        assertThat(terminal(Map.of()).unicode()).isFalse();
    }
}
