package io.k3gpu.core.facts;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JetsonIdentityTest {

    @Test
    void readsTheNanoFromRawNulTerminatedFiles() {
        JetsonIdentity id = JetsonIdentity.parse("NVIDIA Jetson Nano Developer Kit\0",
                "nvidia,p3450-0000\0nvidia,jetson-nano\0nvidia,tegra210\0", null);

        assertThat(id).isEqualTo(new JetsonIdentity("NVIDIA Jetson Nano Developer Kit", "tegra210"));
        assertThat(id.isTegra()).isTrue();
    }

    @Test
    void readsFilesWhoseNulsTheScriptTurnedIntoNewlines() {
        JetsonIdentity id = JetsonIdentity.parse("NVIDIA Jetson Orin Nano Developer Kit\n",
                "nvidia,p3768-0000+p3767-0003\nnvidia,p3767-0003\nnvidia,tegra234\nnvidia,tegra23x\n", "Tegra\n");

        assertThat(id).isEqualTo(new JetsonIdentity("NVIDIA Jetson Orin Nano Developer Kit", "tegra234"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            NVIDIA Orin Nano Developer Kit                                  | nvidia,p3768-0000+p3767-0005 nvidia,p3767-0005 nvidia,tegra234 nvidia,tegra23x | tegra234
            NVIDIA Jetson Orin NX Engineering Reference Developer Kit Super | nvidia,p3768-0000+p3767-0000 nvidia,p3767-0000 nvidia,tegra234                 | tegra234
            NVIDIA Jetson AGX Orin Developer Kit                            | nvidia,p3737-0000+p3701-0000 nvidia,p3701-0000 nvidia,tegra234                 | tegra234
            Jetson AGX Orin                                                 | nvidia,p3737-0000+p3701-0005 nvidia,p3701-0005 nvidia,tegra234                 | tegra234
            NVIDIA Jetson AGX Thor Developer Kit                            | nvidia,p4071-0000+p3834-0008 nvidia,p3834-0008 nvidia,tegra264                 | tegra264
            jetson-xavier                                                   | nvidia,p2972-0000 nvidia,galen nvidia,tegra194                                 | tegra194
            quill                                                           | nvidia,p2771-0000 nvidia,tegra186                                              | tegra186
            """)
    void theSocFamilyComesFromCompatibleWhateverTheModelSays(String model, String compatible, String family) {
        JetsonIdentity id = JetsonIdentity.parse(model + "\0", compatible.replace(' ', '\0'), null);

        assertThat(id.model()).isEqualTo(model);
        assertThat(id.socFamily()).isEqualTo(family);
    }

    @Test
    void fallsBackToTheSoc0FamilyWhenCompatibleIsMissing() {
        assertThat(JetsonIdentity.parse(null, null, "Tegra234\n").socFamily()).isEqualTo("tegra234");
    }

    @Test
    void aBareTegraSoc0FamilyNamesNoFamily() {
        assertThat(JetsonIdentity.parse(null, "", "Tegra\n").socFamily()).isNull();
    }

    @Test
    void anotherArmBoardIsNotTegra() {
        JetsonIdentity id = JetsonIdentity.parse("Raspberry Pi 4 Model B Rev 1.4\0",
                "raspberrypi,4-model-b\0brcm,bcm2711\0", null);

        assertThat(id).isEqualTo(new JetsonIdentity("Raspberry Pi 4 Model B Rev 1.4", null));
        assertThat(id.isTegra()).isFalse();
    }

    @Test
    void aMachineWithoutDeviceTreeHasNeither() {
        assertThat(JetsonIdentity.parse("", "", "")).isEqualTo(new JetsonIdentity(null, null));
        assertThat(JetsonIdentity.parse(null, null, null)).isEqualTo(new JetsonIdentity(null, null));
    }
}
