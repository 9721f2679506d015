package io.k3gpu.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The bash completion script the build puts into the distribution, sourced and asked by bash itself. */
class BuildCompletionsTest {
    @Test
    void bashCompletesCommandsAndOptionsFromTheGeneratedScript(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("completions/k3gpu.bash");
        BuildCompletions.main(new String[]{script.toString()});
        assertThat(complete(script, "k3gpu no")).isEqualTo("node-token nodes");
        assertThat(complete(script, "k3gpu nodes --kubec")).isEqualTo("--kubeconfig");
    }

    private static String complete(Path script, String line) throws Exception {
        String[] words = line.split(" ");
        String bash = "source '" + script + "'; COMP_WORDS=(" + line + "); COMP_CWORD=" + (words.length - 1)
                + "; COMP_LINE='" + line + "'; COMP_POINT=${#COMP_LINE}; _complete_k3gpu 2>/dev/null; echo \"${COMPREPLY[*]}\"";
        Process p = new ProcessBuilder("bash", "-c", bash).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
