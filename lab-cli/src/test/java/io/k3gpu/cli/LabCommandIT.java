package io.k3gpu.cli;

import io.k3gpu.lab.Lab;
import io.k3gpu.lab.LabConfig;
import io.k3gpu.lab.LabState;
import io.k3gpu.lab.k3sdist.K3sDistribution;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/** `lab up|status|down` through the lab's jar's entry point, as `./k3gpu lab ...` runs them. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabCommandIT {
    static final String ID = "itpack";

    @AfterAll
    static void down() {
        Lab.down(LabConfig.STATE_ROOT.resolve(ID));
    }

    @Test
    @Order(1)
    void upStartsTheLabAndSaysHowToReachIt() {
        Cli.lab("lab", "down", "--id", ID); // leftovers of an interrupted earlier run
        Cli.Result up = Cli.lab("lab", "up", "--id", ID, "--subnet", "224", "--profile", "cpu-only");
        assertThat(up.exit()).as(up.all()).isZero();
        assertThat(up.out()).contains("node1 ", "10.213.224.", "try: k3gpu facts --ip 10.213.224.");
    }

    @Test
    @Order(2)
    void statusSaysWhatTheLabServesInTextAndJson() {
        Cli.Result text = Cli.lab("lab", "status", "--id", ID);
        assertThat(text.exit()).as(text.all()).isZero();
        LabState state = Lab.status(LabConfig.STATE_ROOT.resolve(ID)).orElseThrow();
        String bridge = state.bridgeIp();
        assertThat(text.out()).contains("the lab serves its nodes:\n",
                "  https://get.k3s.io, https://update.k3s.io, https://github.com, "
                        + "https://release-assets.githubusercontent.com -> " + bridge + ":443",
                "k3gpu install --ip NODE needs no --install-url",
                "  install mirror: http://" + bridge + ":8090 (plain HTTP: http://" + bridge + ":8090/install.sh",
                "  git repository: http://" + bridge + ":8090/git/example-mnist-training.git\n",
                "  registry: none");
        Cli.Result json = Cli.lab("lab", "status", "--id", ID, "-o", "json");
        assertThat(json.exit()).as(json.all()).isZero();
        JsonNode serves = Json.MAPPER.readTree(json.out()).path("serves");
        assertThat(serves.path("installUrl").asString()).isEqualTo("https://get.k3s.io");
        assertThat(serves.path("mirrorRunning").asBoolean()).isTrue();
        assertThat(serves.path("gitRepository").asString()).isEqualTo(K3sDistribution.of(state).gitRepoUrl());
        assertThat(serves.path("httpsAddress").asString()).isEqualTo(bridge + ":443");
        assertThat(serves.path("registry").isNull()).isTrue();
        assertThat(Json.MAPPER.readTree(json.out()).path("nodes").get(0).path("name").asString()).isEqualTo("node1");
    }

    @Test
    @Order(3)
    void downRemovesItAndStatusThenSaysSo() {
        Cli.Result down = Cli.lab("lab", "down", "--id", ID);
        assertThat(down.exit()).as(down.all()).isZero();
        assertThat(down.out()).isEqualTo("lab " + ID + " is down\n");
        Cli.Result status = Cli.lab("lab", "status", "--id", ID);
        assertThat(status.exit()).isEqualTo(1);
        assertThat(status.err()).contains("no lab 'itpack' is up");
    }
}
