package io.k3gpu.lab;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FixturesTest {
    private final String samples = Fixtures.resourceText("fixtures/tegrastats/samples.txt");

    @Test
    void nanoLinesAreTheJetPack4NanoCaptures() {
        List<String> user = Fixtures.tegrastatsLines(samples, "Jetson Nano 4GB", false);
        List<String> root = Fixtures.tegrastatsLines(samples, "Jetson Nano 4GB", true);
        assertThat(user).hasSize(4).allSatisfy(l -> assertThat(l).startsWith("RAM ").contains("POM_5V_IN")
                .doesNotContain("IRAM"));
        assertThat(user.get(0)).contains("CPU [52%@1479,41%@1479,43%@1479,34%@1479]");
        assertThat(root).hasSize(2).allSatisfy(l -> assertThat(l).contains("IRAM", "GR3D_FREQ 0%@76"));
    }

    @Test
    void orinNanoLinesAreTheJetPack6Captures() {
        List<String> root = Fixtures.tegrastatsLines(samples, "Jetson Orin Nano 8GB", true);
        List<String> user = Fixtures.tegrastatsLines(samples, "Jetson Orin Nano 8GB", false);
        assertThat(root).singleElement().asString().startsWith("11-15-2024 08:38:09 RAM").contains("GR3D_FREQ 63%@[621]",
                "mW");
        assertThat(user).singleElement().asString().contains("GR3D_FREQ 0% ");
    }

    @Test
    void bundledNvidiaSmiCapturesArePresent() {
        Fixtures f = new Fixtures(null);
        for (String name : Fixtures.NVIDIA_SMI_FILES) {
            assertThat(f.bytes("nvidia-smi/" + name)).as(name).isNotEmpty();
        }
    }
}
