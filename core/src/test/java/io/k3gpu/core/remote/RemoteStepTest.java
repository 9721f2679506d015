package io.k3gpu.core.remote;

import io.k3gpu.core.error.ExitCode;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RemoteStepTest {

    @Test
    void eachKindHasItsDefaultAndOneOverrideReplacesThemAll() {
        assertThat(RemoteStep.restart("docker").limit(null)).isEqualTo(Duration.ofSeconds(90));
        assertThat(RemoteStep.dockerInfo().limit(null)).isEqualTo(Duration.ofSeconds(30));
        assertThat(RemoteStep.diagnostic("reading the log of k3s-agent").limit(null)).isEqualTo(Duration.ofSeconds(15));
        assertThat(RemoteStep.upload("writing /usr/local/bin/k3s").limit(null)).isEqualTo(Duration.ofMinutes(10));
        assertThat(RemoteStep.install("running the K3s install script").limit(null)).isEqualTo(Duration.ofMinutes(10));
        assertThat(RemoteStep.command("reading /etc/docker/daemon.json").limit(null)).isEqualTo(Duration.ofMinutes(2));
        assertThat(RemoteStep.install("x").limit(Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void anInstallStepCarriesAFreshTagAndTheCommandThatStopsItDoesNotMatchItself() {
        RemoteStep a = RemoteStep.install("running the K3s install script");
        assertThat(a.tag()).matches("k3gpu-step-[0-9a-f]{12}").isNotEqualTo(RemoteStep.install("x").tag());
        assertThat(new RemoteStep("x", RemoteStep.Kind.INSTALL, "k3gpu-step-a1b2c3d4e5f6").stopCommand())
                .isEqualTo("pkill -TERM -f 'k3gpu-step-[a]1b2c3d4e5f6'");
        assertThat(RemoteStep.command("probe").tag()).isNull();
    }

    @Test
    void aTimeoutIsOneLineNamingTheStepTheNodeAndTheDeadline() {
        RemoteTimeoutException e = new RemoteTimeoutException("192.168.0.40", RemoteStep.restart("docker"),
                Duration.ofSeconds(90));
        assertThat(e.exitCode()).isEqualTo(ExitCode.TIMEOUT);
        assertThat(e.getMessage()).isEqualTo("restarting docker on 192.168.0.40 did not finish within 1m30s");
    }

    @Test
    void durationsReadAsTheUserWritesThem() {
        assertThat(RemoteTimeoutException.format(Duration.ofSeconds(3))).isEqualTo("3s");
        assertThat(RemoteTimeoutException.format(Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(RemoteTimeoutException.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(RemoteTimeoutException.format(Duration.ofSeconds(3723))).isEqualTo("1h2m3s");
        assertThat(RemoteTimeoutException.format(Duration.ofMillis(300))).isEqualTo("300ms");
    }
}
