package io.k3gpu.cli;

import picocli.AutoComplete;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Build step (cli/pom.xml, package phase): writes the bash completion script of the whole command tree for the
 * distribution, with picocli's AutoComplete; zsh loads the same script through bashcompinit.
 */
final class BuildCompletions {
    private BuildCompletions() {
    }

    public static void main(String[] args) throws IOException {
        PrintWriter quiet = new PrintWriter(new StringWriter());
        CommandLine cl = K3gpu.commandLine(quiet, quiet, new ByteArrayInputStream(new byte[0]), Map.of(), List.of());
        Path target = Path.of(args[0]);
        Files.createDirectories(target.getParent());
        Files.writeString(target, AutoComplete.bash("k3gpu", cl), StandardCharsets.UTF_8);
    }
}
