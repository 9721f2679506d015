package io.k3gpu.core.facts;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every nv_tegra_release line and package version of shared/fixtures/l4t/README.md. */
class L4tReleaseTest {

    // The line comes last: a CSV row starting with '#' would be a comment.
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            32.7.1 | t210ref | 4.6.1 | # R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, DATE: Sat Feb 19 17:05:08 UTC 2022
            35.3.1 | t186ref | 5.1.1 | # R35 (release), REVISION: 3.1, GCID: 32827747, BOARD: t186ref, EABI: aarch64, DATE: Sun Mar 19 15:19:21 UTC 2023
            35.4.1 | t186ref | 5.1.2 | # R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023
            36.4.3 | generic | 6.2   | # R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025
            38.2.0 | generic | 7.0   | # R38 (release), REVISION: 2.0, GCID: 41844464, BOARD: generic, EABI: aarch64, DATE: Fri Aug 22 00:55:42 UTC 2025
            39.2.0 | generic | 7.2   | # R39 (release), REVISION: 2.0, GCID: 45755727, BOARD: generic, EABI: aarch64, DATE: Mon Jun  1 09:28:48 PM UTC 2026
            """)
    void readsEveryPublishedNvTegraReleaseLine(String version, String board, String jetpack, String line) {
        L4tRelease release = L4tRelease.parseNvTegraRelease(line + "\n").orElseThrow();

        assertThat(release.version()).isEqualTo(version);
        assertThat(release.board()).isEqualTo(board);
        assertThat(release.raw()).isEqualTo(line);
        assertThat(release.jetpack()).contains(jetpack);
    }

    @Test
    void keepsTheDoubleSpaceOfTheDateInTheRawLine() {
        L4tRelease release = L4tRelease.parseNvTegraRelease(
                "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, "
                        + "DATE: Tue Aug  1 19:57:35 UTC 2023").orElseThrow();

        assertThat(release).isEqualTo(new L4tRelease(35, 4, 1, "t186ref",
                "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, "
                        + "DATE: Tue Aug  1 19:57:35 UTC 2023"));
    }

    @Test
    void readsTheJetPack62FileWithItsExtraLines() {
        String file = """
                # R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025
                # KERNEL_VARIANT: oot
                TARGET_USERSPACE_LIB_DIR=nvidia
                TARGET_USERSPACE_LIB_DIR_PATH=usr/lib/aarch64-linux-gnu/nvidia
                """;

        L4tRelease release = L4tRelease.parseNvTegraRelease(file).orElseThrow();

        assertThat(release.version()).isEqualTo("36.4.3");
        assertThat(release.raw()).isEqualTo("# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, "
                + "EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025");
    }

    @Test
    void toleratesCrlfLineEnds() {
        String file = "# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, "
                + "DATE: Sat Feb 19 17:05:08 UTC 2022\r\n# KERNEL_VARIANT: oot\r\n";

        L4tRelease release = L4tRelease.parseNvTegraRelease(file).orElseThrow();

        assertThat(release.version()).isEqualTo("32.7.1");
        assertThat(release.board()).isEqualTo("t210ref");
        assertThat(release.raw()).endsWith("UTC 2022");
    }

    @Test
    void aMissingBoardFieldLeavesBoardNull() {
        L4tRelease release = L4tRelease.parseNvTegraRelease(
                "# R35 (release), REVISION: 3.1, GCID: 32827747, EABI: aarch64, DATE: Sun Mar 19 15:19:21 UTC 2023")
                .orElseThrow();

        assertThat(release.version()).isEqualTo("35.3.1");
        assertThat(release.board()).isNull();
    }

    @Test
    void aRevisionWithoutPatchIsPatchZero() {
        assertThat(L4tRelease.parseNvTegraRelease("# R32 (release), REVISION: 1, GCID: 14005390, BOARD: t186ref")
                .map(L4tRelease::version)).contains("32.1.0");
    }

    @Test
    void emptyMissingOrForeignContentIsNoRelease() {
        assertThat(L4tRelease.parseNvTegraRelease(null)).isEmpty();
        assertThat(L4tRelease.parseNvTegraRelease("")).isEmpty();
        assertThat(L4tRelease.parseNvTegraRelease("cat: /etc/nv_tegra_release: No such file or directory"))
                .isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            32.7.1-20220219090432 | 32.7.1 | 4.6.1
            36.4.4-20250616085344 | 36.4.4 | 6.2.1
            38.4.0-20251230160601 | 38.4.0 | 7.1
            """)
    void readsEveryPublishedPackageVersion(String dpkgVersion, String version, String jetpack) {
        L4tRelease release = L4tRelease.parseDpkgVersion(dpkgVersion).orElseThrow();

        assertThat(release.version()).isEqualTo(version);
        assertThat(release.board()).isNull();
        assertThat(release.raw()).isEqualTo(dpkgVersion);
        assertThat(release.jetpack()).contains(jetpack);
    }

    @Test
    void packageVersionToleratesSurroundingWhitespace() {
        assertThat(L4tRelease.parseDpkgVersion("  36.4.3-20250107174145\n"))
                .contains(new L4tRelease(36, 4, 3, null, "36.4.3-20250107174145"));
    }

    @Test
    void noPackageVersionIsNoRelease() {
        assertThat(L4tRelease.parseDpkgVersion(null)).isEmpty();
        assertThat(L4tRelease.parseDpkgVersion("")).isEmpty();
        assertThat(L4tRelease.parseDpkgVersion("dpkg-query: no packages found matching nvidia-l4t-core")).isEmpty();
    }

    @ParameterizedTest(name = "L4T {0} is JetPack {1}")
    @CsvSource({
            "32.6.1, 4.6", "32.7.1, 4.6.1", "32.7.2, 4.6.2", "32.7.3, 4.6.3", "32.7.4, 4.6.4", "32.7.5, 4.6.5",
            "32.7.6, 4.6.6", "35.1.0, 5.0.2", "35.2.1, 5.1", "35.3.1, 5.1.1", "35.4.1, 5.1.2", "35.5.0, 5.1.3",
            "35.6.0, 5.1.4", "36.3.0, 6.0", "36.4.0, 6.1", "36.4.3, 6.2", "36.4.4, 6.2.1", "38.2.0, 7.0",
            "39.2.0, 7.2"})
    void mapsPublishedReleasesToJetPack(String l4t, String jetpack) {
        assertThat(L4tRelease.parseDpkgVersion(l4t).flatMap(L4tRelease::jetpack)).contains(jetpack);
    }

    @Test
    void anUnpublishedReleaseHasNoJetPack() {
        assertThat(L4tRelease.parseDpkgVersion("36.9.9-20990101000000").flatMap(L4tRelease::jetpack))
                .isEqualTo(Optional.empty());
        assertThat(new L4tRelease(32, 7, 9, null, "").jetpack()).isEmpty();
    }
}
