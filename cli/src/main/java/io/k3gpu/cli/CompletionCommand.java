package io.k3gpu.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** Shell completion from the command tree itself (picocli's AutoComplete), so it never falls behind the options. */
@Command(name = "completion",
        description = {"Print the shell completion script for bash or zsh.",
                "bash: source <(k3gpu completion bash) in ~/.bashrc, or save it as /etc/bash_completion.d/k3gpu.",
                "zsh: source <(k3gpu completion zsh) in ~/.zshrc; it runs the bash script through zsh's bashcompinit, "
                        + "as picocli documents."})
final class CompletionCommand implements Callable<Integer> {
    /** The shells picocli's script serves. */
    enum Shell { bash, zsh }

    private final Terminal terminal;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SHELL", description = "bash or zsh.")
    Shell shell;

    CompletionCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        terminal.screen().print(script(spec.root().commandLine()));
        terminal.screen().flush();
        return 0;
    }

    static String script(picocli.CommandLine root) {
        // One script for both: under zsh it loads compinit and bashcompinit itself, then registers the same bash
        // functions (picocli's "Completion in zsh"); the shell argument is there so that users say which they use.
        return AutoComplete.bash("k3gpu", root);
    }
}
