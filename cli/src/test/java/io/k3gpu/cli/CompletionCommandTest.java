package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The completion scripts, loaded into the real shells and asked to complete as a user's Tab would. */
class CompletionCommandTest {

    @Test
    void bashCompletesCommandsAndTheOptionsOfEach(@TempDir Path dir) throws Exception {
        Path script = script(dir, "bash");
        assertThat(complete(script, "k3gpu", "ver")).containsExactly("verify");
        assertThat(complete(script, "k3gpu", "stats", "pa")).containsExactly("parse");
        assertThat(complete(script, "k3gpu", "verify", "--time")).containsExactly("--timeout");
        assertThat(complete(script, "k3gpu", "completion", "")).containsExactlyInAnyOrder("bash", "zsh");
    }

    @Test
    void zshLoadsTheScriptThroughBashcompinit(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/zsh")), "zsh is installed by scripts/lab-packages.sh");
        Path script = script(dir, "zsh");
        // zsh's compgen only matches inside a completion widget: what can be shown outside one is that the script
        // loads cleanly and registers k3gpu's bash function with zsh's completion system through bashcompinit
        Process p = new ProcessBuilder("zsh", "-c", "source '" + script + "' && print -r -- $_comps[k3gpu]")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).isEqualTo("_bash_complete -F _complete_k3gpu -o default\n");
    }

    @Test
    void anUnknownShellIsAUsageError() {
        Cli.Result r = Cli.run("completion", "fish");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for positional parameter at index 0 (SHELL): expected one of "
                + "[bash, zsh] (case-insensitive) but was 'fish'");
    }

    private static Path script(Path dir, String shell) throws Exception {
        Cli.Result r = Cli.run("completion", shell);
        assertThat(r.exit()).isZero();
        Path script = dir.resolve("k3gpu." + shell);
        Files.writeString(script, r.out());
        return script;
    }

    /** What the shell offers for the words typed so far (the last one is being completed). */
    private static List<String> complete(Path script, String... words) throws Exception {
        StringBuilder array = new StringBuilder();
        for (String w : words) {
            array.append(" '").append(w).append('\'');
        }
        String line = String.join(" ", words);
        String program = "source '" + script + "'; COMP_WORDS=(" + array + "); COMP_CWORD=" + (words.length - 1)
                + "; COMP_LINE='" + line + "'; COMP_POINT=" + line.length()
                + "; _complete_k3gpu; printf '%s\\n' \"${COMPREPLY[@]}\"";
        // compopt only works inside a real completion: outside one it complains on stderr, which is left out
        Process p = new ProcessBuilder("bash", "-c", program)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out.lines().filter(s -> !s.isBlank()).map(String::strip).toList();
    }
}
