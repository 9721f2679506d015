package io.k3gpu.cli;

import io.k3gpu.core.doctor.Check;
import io.k3gpu.core.doctor.DoctorReport;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DoctorCommandTest {
    @Test
    void eachCheckIsALineAndEachFixTheLineBelowIt() {
        DoctorReport r = new DoctorReport("10.0.0.5", "orin1", List.of(
                new Check("swap", "swap", Check.Status.PASS, "off", null),
                new Check("disk", "free disk under /var/lib/rancher", Check.Status.FAIL, "2 MiB free", "free space"),
                new Check("hostname", "hostname free in the cluster", Check.Status.SKIP, "no --kubeconfig given",
                        "give --kubeconfig FILE")), null);
        assertThat(DoctorCommand.text(r)).isEqualTo("""
                10.0.0.5 (orin1): 1 PASS, 1 FAIL, 1 SKIP
                  PASS  swap                               off
                  FAIL  free disk under /var/lib/rancher   2 MiB free
                                                           fix: free space
                  SKIP  hostname free in the cluster       no --kubeconfig given
                                                           fix: give --kubeconfig FILE
                """);
    }

    @Test
    void aHostThatCouldNotBeExaminedSaysWhyAndNodeTextIsStripped() {
        assertThat(DoctorCommand.text(new DoctorReport("nano", null, List.of(), "cannot connect\u001b[2J"))).isEqualTo(
                "nano: not examined: cannot connect\n");
        assertThat(DoctorCommand.text(new DoctorReport("nano", "evil\u001b]0;x\u0007", List.of(
                new Check("swap", "swap", Check.Status.PASS, "off", null)), null))).startsWith("nano (evil): ");
    }
}
