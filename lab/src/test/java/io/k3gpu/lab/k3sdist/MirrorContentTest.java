package io.k3gpu.lab.k3sdist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The generated distribution: scripts that parse, launchers that know their release, checksums that verify. */
class MirrorContentTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run run(List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void scriptsAreValidShellWithEveryPlaceholderFilled() throws Exception {
        Path install = Files.writeString(dir.resolve("install.sh"), MirrorContent.installScript("10.213.9.1:8090"));
        Path launcher = Files.writeString(dir.resolve("k3s"), MirrorContent.launcher("v1.30.8+k3s1", "amd64"));
        Path runner = Files.write(dir.resolve("k3s-service.sh"), MirrorContent.resource("k3s-service.sh"));
        for (Path p : List.of(install, launcher, runner)) {
            assertThat(run(List.of("sh", "-n", p.toString()), Map.of()).exit()).as(p.toString()).isZero();
            assertThat(Files.readString(p)).doesNotContainPattern("@[A-Z_]+@");
        }
        // get.k3s.io's defaults: the lab's DNS and CA make them land on the mirror
        assertThat(Files.readString(install)).contains("GITHUB_URL=${GITHUB_URL:-https://github.com/k3s-io/k3s/releases}",
                "INSTALL_K3S_CHANNEL_URL=${INSTALL_K3S_CHANNEL_URL:-https://update.k3s.io/v1-release/channels}",
                "GITHUB_URL=http://10.213.9.1:8090/k3s-io/k3s/releases");
    }

    @Test
    void launcherKnowsItsReleaseAndRefusesAForeignArchitecture() throws Exception {
        Path amd64 = Files.writeString(dir.resolve("k3s"), MirrorContent.launcher("v1.32.0+k3s1", "amd64"));
        Path arm64 = Files.writeString(dir.resolve("k3s-arm64"), MirrorContent.launcher("v1.32.0+k3s1", "arm64"));
        String machine = run(List.of("uname", "-m"), Map.of()).out().strip();
        Path native_ = machine.equals("x86_64") ? amd64 : arm64;
        Path foreign = machine.equals("x86_64") ? arm64 : amd64;
        assertThat(run(List.of("sh", native_.toString(), "--version"), Map.of()).out()).isEqualTo(
                "k3s version v1.32.0+k3s1 (" + K3sReleases.commit("v1.32.0+k3s1") + ")\ngo version go1.23.3\n");
        assertThat(run(List.of("sh", native_.toString(), "-v"), Map.of()).out()).startsWith("k3s version v1.32.0+k3s1");
        Run bad = run(List.of("sh", native_.toString(), "frobnicate"), Map.of());
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("level=fatal msg=\"No help topic for 'frobnicate'\"");
        Run flag = run(List.of("sh", native_.toString(), "--frob"), Map.of());
        assertThat(flag.exit()).isEqualTo(1);
        assertThat(flag.err()).contains("flag provided but not defined: --frob");
        Run exec = run(List.of("sh", foreign.toString(), "--version"), Map.of());
        assertThat(exec.exit()).isEqualTo(126);
        assertThat(exec.err()).contains("cannot execute binary file: Exec format error");
    }

    @Test
    void checksumFilesVerifyTheReleaseFiles() throws Exception {
        MirrorContent.writeMirror(dir, "10.213.9.1:8090");
        for (String version : K3sReleases.versions()) {
            Path release = dir.resolve("k3s").resolve(version);
            for (String arch : K3sReleases.ARCHES) {
                Run check = run(List.of("sh", "-c", "cd '" + release + "' && sha256sum -c sha256sum-" + arch + ".txt"),
                        Map.of());
                assertThat(check.exit()).as(check.out() + check.err()).isZero();
                assertThat(check.out()).contains(K3sReleases.binaryName(arch) + ": OK",
                        K3sReleases.airgapImagesName(arch) + ": OK");
            }
        }
        // GitHub's layout under the mirror, and the channels
        assertThat(dir.resolve("k3s-io/k3s/releases/download/v1.31.4+k3s1/k3s-arm64")).isRegularFile();
        JsonNode channels = JsonMapper.builder().build().readTree(Files.readString(dir.resolve("channels.json")));
        assertThat(channels.path("stable").asString()).isEqualTo(K3sReleases.STABLE);
        assertThat(channels.path("latest").asString()).isEqualTo(K3sReleases.LATEST);
        assertThat(channels.path("v1.30").asString()).isEqualTo("v1.30.8+k3s1");
        // reproducible: the same release has the same checksums in every lab
        assertThat(MirrorContent.sha256sums(K3sReleases.STABLE, "arm64"))
                .isEqualTo(MirrorContent.sha256sums(K3sReleases.STABLE, "arm64"));
    }

    @Test
    void airgapImagesAreARealTarWithADockerSaveManifest() throws Exception {
        Path tar = Files.write(dir.resolve("images.tar"), MirrorContent.airgapImages(K3sReleases.STABLE, "arm64"));
        assertThat(run(List.of("tar", "-tf", tar.toString()), Map.of()).out()).isEqualTo("manifest.json\nREADME\n");
        String manifest = run(List.of("tar", "-xOf", tar.toString(), "manifest.json"), Map.of()).out();
        List<String> tags = new ArrayList<>();
        for (JsonNode image : JsonMapper.builder().build().readTree(manifest)) {
            tags.add(image.path("RepoTags").get(0).asString());
            assertThat(image.path("SizeBytes").asLong()).isPositive();
        }
        assertThat(tags).isEqualTo(K3sReleases.IMAGES);
    }

    @Test
    void airgapBundleHoldsWhatK3sDocsHaveUsersCopy() throws Exception {
        MirrorContent.writeAirgap(dir, "10.213.9.1:8090", K3sReleases.STABLE);
        assertThat(dir.resolve("k3s")).isExecutable();
        assertThat(dir.resolve("k3s-arm64")).isExecutable();
        assertThat(dir.resolve("install.sh")).isExecutable();
        assertThat(dir.resolve("k3s-airgap-images-amd64.tar")).isRegularFile();
        assertThat(dir.resolve("k3s-airgap-images-arm64.tar")).isRegularFile();
        assertThat(Files.readString(dir.resolve("k3s-images.txt"))).contains("docker.io/rancher/mirrored-pause:3.6");
    }

    @Test
    void nodeFilesIncludeTheCompiledAgent() throws Exception {
        MirrorContent.writeNodeFiles(dir);
        assertThat(dir.resolve("k3s-agent.py")).isExecutable();
        assertThat(dir.resolve("k3s-service.sh")).isExecutable();
        assertThat(dir.resolve("k3s-agent.pyc")).isRegularFile();
        // each module of the agent's package compiled where import looks (no compile at each agent's start)
        try (var cached = Files.list(dir.resolve("k3sagent/__pycache__"))) {
            assertThat(cached.map(p -> p.getFileName().toString().replaceAll("\\..*", "")))
                    .containsExactlyInAnyOrderElementsOf(MirrorContent.AGENT_MODULES);
        }
        Run help = run(List.of("/usr/bin/python3", "-S", dir.resolve("k3s-agent.pyc").toString(), "agent", "--help"),
                Map.of());
        assertThat(help.exit()).isZero();
        assertThat(help.err()).contains("k3s agent - Run node agent");
    }
}
