package io.k3gpu.cli;

import io.k3gpu.core.ssh.SshConnector;
import picocli.CommandLine.Option;

import java.time.Duration;

/** --step-timeout: one deadline for every remote step of the commands that change nodes. */
final class StepTimeoutOptions {
    @Option(names = "--step-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = {"Deadline of each remote step; past it the step is killed on the node, the change rolled back,",
                    "exit 7. Default per step: restarting a service 90s, docker info 30s, the K3s install script 10m,",
                    "anything else (probes, reading and writing files) 2m."})
    Duration stepTimeout;

    /** {@code connector} with this run's deadline set. */
    SshConnector applyTo(SshConnector connector) {
        connector.stepTimeout(stepTimeout);
        return connector;
    }
}
