package io.k3gpu.core.fleet;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SecretPolicyTest {
    @TempDir
    Path tmp;

    private Path home;
    private Path fleet;
    private Path vault;

    @BeforeEach
    void dirs() throws IOException {
        home = Files.createDirectories(tmp.resolve("home"));
        fleet = Files.createDirectories(home.resolve("fleet"));
        vault = Files.createDirectories(tmp.resolve("vault"));
    }

    private SecretPolicy policy(Map<String, String> env) {
        return new SecretPolicy(fleet, home, env::get);
    }

    @Test
    void environmentVariablesMeantForK3gpuOrK3sOrNamedAsSudoPasswordsOrTokensAreRead() {
        SecretPolicy p = policy(Map.of());
        for (String ok : new String[] {"FLEET_SUDO_PASSWORD", "NANO1_SUDO_PASSWORD", "K3S_TOKEN", "K3GPU_SSH_PASSWORD",
                "LAB_K3S_TOKEN", "K3S_AGENT_TOKEN"}) {
            assertThat(p.envProblem(ok)).as(ok).isNull();
        }
        assertThat(p.envProblem("AWS_SECRET_ACCESS_KEY")).isEqualTo("the environment variable AWS_SECRET_ACCESS_KEY is not "
                + "one k3gpu reads secrets from (names start with K3GPU_ or K3S_, or end in _SUDO_PASSWORD or _K3S_TOKEN)");
        for (String refused : new String[] {"GITHUB_TOKEN", "DB_PASSWORD", "HOME", "k3s_token", "K3S_"}) {
            assertThat(p.envProblem(refused)).as(refused).isNotNull();
        }
    }

    @Test
    void filesBesideTheClusterFileOrInItsVisibleSubdirectoriesAreRead() throws IOException {
        SecretPolicy p = policy(Map.of());
        assertThat(p.fileProblem(fleet.resolve("sudo.pw"))).isNull();
        assertThat(p.fileProblem(Files.createDirectories(fleet.resolve("secrets")).resolve("nano.pw"))).isNull();
        assertThat(p.fileProblem(fleet.resolve("secrets/../token"))).isNull();
    }

    @Test
    void filesOutsideOrHiddenOrReachedThroughASymlinkOrDotDotAreRefusedWithTheReason() throws IOException {
        SecretPolicy p = policy(Map.of());
        Path key = Files.writeString(Files.createDirectories(home.resolve(".ssh")).resolve("id_ed25519"), "key");
        assertThat(p.fileProblem(key)).isEqualTo(key + " is outside the places secrets are read from: the cluster "
                + "file's directory (" + fleet.toRealPath() + "), ~/.config/k3gpu/ or a directory of $K3GPU_SECRET_DIRS");
        assertThat(p.fileProblem(fleet.resolve("../.ssh/id_ed25519"))).startsWith(fleet.resolve("../.ssh/id_ed25519")
                + " (" + key.toRealPath() + ") is outside");
        Path link = Files.createSymbolicLink(fleet.resolve("pw"), key);
        assertThat(p.fileProblem(link)).startsWith(link + " (" + key.toRealPath() + ") is outside");
        Path dirLink = Files.createSymbolicLink(fleet.resolve("keys"), home.resolve(".ssh"));
        assertThat(p.fileProblem(dirLink.resolve("id_ed25519"))).contains(" is outside");
        assertThat(p.fileProblem(fleet.resolve(".hidden/pw"))).contains(" is outside");
        assertThat(p.fileProblem(Path.of("/etc/shadow"))).startsWith("/etc/shadow is outside");
    }

    @Test
    void k3gpusConfigDirectoryAndTheDirectoriesOfK3gpuSecretDirsAreRead() throws IOException {
        Path config = Files.createDirectories(home.resolve(".config/k3gpu"));
        Path other = Files.createDirectories(tmp.resolve("other"));
        SecretPolicy p = policy(Map.of("K3GPU_SECRET_DIRS", vault + ":relative/ignored::" + other));
        assertThat(p.fileProblem(config.resolve("fleet/sudo.pw"))).isNull();
        assertThat(p.fileProblem(vault.resolve("k3s/token"))).isNull();
        assertThat(p.fileProblem(other.resolve("pw"))).isNull();
        assertThat(p.fileProblem(tmp.resolve("elsewhere/pw"))).contains(" is outside");
        assertThat(policy(Map.of()).fileProblem(vault.resolve("k3s/token"))).contains(" is outside");
    }
}
