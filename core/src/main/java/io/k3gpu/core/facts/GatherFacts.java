package io.k3gpu.core.facts;

import io.k3gpu.core.remote.RemoteShell;

import java.nio.charset.StandardCharsets;

/** Gathers a node's facts in one round trip: the facts script goes to {@code sh -s} on stdin, as root. */
public final class GatherFacts {
    /** The command line; the script itself travels on stdin. */
    static final String COMMAND = "sh -s";

    private GatherFacts() {
    }

    public static NodeFacts from(RemoteShell shell) {
        String output = shell.sudoOrThrow("gathering facts", COMMAND,
                FactsScript.text().getBytes(StandardCharsets.UTF_8)).stdout();
        return FactsParser.parse(output);
    }
}
