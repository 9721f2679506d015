package io.k3gpu.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class VersionProviderTest {
    @Test
    void theVersionLineNamesTheCommitWhenTheBuildKnewIt() {
        assertThat(VersionProvider.line("0.1.0", "3b271f1abcde")).isEqualTo("k3gpu 0.1.0 (commit 3b271f1abcde)");
        assertThat(VersionProvider.line("0.1.0", "3b271f1abcde-dirty"))
                .isEqualTo("k3gpu 0.1.0 (commit 3b271f1abcde-dirty)");
    }

    @Test
    void withoutGitOrWithoutMavenTheLineSaysWhatIsKnown() {
        assertThat(VersionProvider.line("0.1.0", "")).isEqualTo("k3gpu 0.1.0");
        assertThat(VersionProvider.line("0.1.0", "${k3gpu.git.commit}")).isEqualTo("k3gpu 0.1.0");
        assertThat(VersionProvider.line("${project.version}", null)).isEqualTo("k3gpu development build");
    }

    @Test
    void theBuiltResourceCarriesThePomVersion() {
        // Maven filtered version.properties when it built the test's class path
        String line = new VersionProvider().getVersion()[0];
        assertThat(line).matches("k3gpu \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?( \\(commit [0-9a-f]{7,40}(-dirty)?\\))?");
    }
}
