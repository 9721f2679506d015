package io.k3gpu.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** train's where-options and multi-node options, refused before any cluster is contacted. */
class TrainCommandTest {

    @Test
    void exactlyOneOfNodeNodesAllGpuNodes() {
        Cli.Result both = Cli.run("train", "--node", "a", "--nodes", "2", "--kubeconfig", "/nonexistent");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("cannot be used together; pass only one of them");

        Cli.Result none = Cli.run("train", "--builtin", "mnist", "--kubeconfig", "/nonexistent");
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("Missing required argument");

        Cli.Result all = Cli.run("train", "--all-gpu-nodes", "--node", "a,b", "--kubeconfig", "/nonexistent");
        assertThat(all.exit()).isEqualTo(2);
        assertThat(all.err()).contains("cannot be used together; pass only one of them");
    }

    @Test
    void multiNodeOptionsAreCheckedFirst() {
        Cli.Result backend = Cli.run("train", "--nodes", "2", "--backend", "mpi", "--kubeconfig", "/nonexistent");
        assertThat(backend.exit()).isEqualTo(2);
        assertThat(backend.err()).contains("unknown backend 'mpi'");

        Cli.Result timeout = Cli.run("train", "--node", "a,b", "--rendezvous-timeout", "soon", "--kubeconfig", "/nonexistent");
        assertThat(timeout.exit()).isEqualTo(2);
        assertThat(timeout.err()).contains("Invalid value for option '--rendezvous-timeout': 'soon' is not a duration");

        Cli.Result samples = Cli.run("train", "--node", "a,b", "--repo", "https://x/y.git", "--train-samples", "10",
                "--kubeconfig", "/nonexistent");
        assertThat(samples.exit()).isEqualTo(2);
        assertThat(samples.err()).contains("--train-samples needs a positive count and the shipped trainer");
    }

    @Test
    void helpNamesTheMultiNodeOptions() {
        Cli.Result help = Cli.run("train", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--node=NAME", "--nodes=N", "--all-gpu-nodes", "--backend=NAME",
                "--rendezvous-timeout=DURATION", "--train-samples=N");
    }
}
