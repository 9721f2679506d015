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
    void thorLinesAreTheJetPack7ThorCaptures() {
        Profile thor = Profile.of("thor");
        List<String> root = Fixtures.tegrastatsLines(samples, thor.jetson().tegrastatsBoard(), true);
        // all captures of a Thor were taken as root; 14 cores, tegra264's rails
        assertThat(root).hasSize(4).allSatisfy(l -> assertThat(l).contains("VDD_CPU_SOC_MSS", "NVENC1_FREQ")
                .containsPattern("CPU \\[([^,\\]]+,){13}[^,\\]]+\\]"));
        assertThat(Fixtures.tegrastatsLines(samples, thor.jetson().tegrastatsBoard(), false)).isEmpty();
        assertThat(thor.jetson().nvTegraRelease()).startsWith("# R38 (release), REVISION: 2.0, GCID: 41844464, ");
        assertThat(thor.jetson().compatible()).contains("nvidia,tegra264");
        assertThat(thor.jetson().csvMode()).isFalse();
        assertThat(Profile.of("orin-nano").jetson().csvMode()).isTrue();
        assertThat(thor.hasDocker()).isFalse();
        assertThat(thor.cpus()).isEqualTo(14);
    }

    @Test
    void bundledNvidiaSmiCapturesArePresent() {
        Fixtures f = new Fixtures(null);
        for (String name : Fixtures.NVIDIA_SMI_FILES) {
            assertThat(f.bytes("nvidia-smi/" + name)).as(name).isNotEmpty();
        }
    }
}
