package io.k3gpu.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Expected texts are the output of GNU diffutils 3.8 {@code diff -u --label A --label B} on the same files; every
 * diff is also applied with the real GNU {@code patch}. */
class UnifiedDiffTest {
    private static final String K3S_OLD = """
            # K3s agent settings
            server: https://10.0.0.10:6443
            default-runtime: runc
            node-name: orin-1
            node-label:
              - "gpu=jetson"
              - "jetpack=6.2"
              - "zone=lab"
            kubelet-arg:
              - "max-pods=64"
              - "eviction-hard=memory.available<200Mi"
              - "system-reserved=cpu=500m,memory=512Mi"
              - "kube-reserved=cpu=250m,memory=256Mi"
            protect-kernel-defaults: false
            selinux: false
            write-kubeconfig-mode: "0644"
            """;
    private static final String K3S_NEW = K3S_OLD.replace("default-runtime: runc", "default-runtime: nvidia")
            .replace("selinux: false", "selinux: true");

    @Test
    void equalTextsHaveNoDiff() {
        assertThat(UnifiedDiff.diff("a", "x\ny\n", "b", "x\ny\n", 3)).isEmpty();
        assertThat(UnifiedDiff.diff("a", null, "b", "", 3)).isEmpty();
    }

    @Test
    void theDaemonJsonMergeOfTheJetPackStockFile() {
        String before = """
                {
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "runtimeArgs": []
                        }
                    }
                }
                """;
        String after = """
                {
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "runtimeArgs": []
                        }
                    },
                    "default-runtime": "nvidia"
                }
                """;

        assertThat(UnifiedDiff.diff("/etc/docker/daemon.json", before, "/etc/docker/daemon.json (new)", after, 3))
                .isEqualTo("""
                        --- /etc/docker/daemon.json
                        +++ /etc/docker/daemon.json (new)
                        @@ -4,5 +4,6 @@
                                     "path": "nvidia-container-runtime",
                                     "runtimeArgs": []
                                 }
                        -    }
                        +    },
                        +    "default-runtime": "nvidia"
                         }
                        """);
    }

    @Test
    void changesFarApartMakeSeparateHunks() {
        assertThat(UnifiedDiff.diff("a/config.yaml", K3S_OLD, "b/config.yaml", K3S_NEW, 3)).isEqualTo("""
                --- a/config.yaml
                +++ b/config.yaml
                @@ -1,6 +1,6 @@
                 # K3s agent settings
                 server: https://10.0.0.10:6443
                -default-runtime: runc
                +default-runtime: nvidia
                 node-name: orin-1
                 node-label:
                   - "gpu=jetson"
                @@ -12,5 +12,5 @@
                   - "system-reserved=cpu=500m,memory=512Mi"
                   - "kube-reserved=cpu=250m,memory=256Mi"
                 protect-kernel-defaults: false
                -selinux: false
                +selinux: true
                 write-kubeconfig-mode: "0644"
                """);
    }

    @Test
    void contextOneAndZero() {
        assertThat(UnifiedDiff.diff("a/config.yaml", K3S_OLD, "b/config.yaml", K3S_NEW, 1)).isEqualTo("""
                --- a/config.yaml
                +++ b/config.yaml
                @@ -2,3 +2,3 @@
                 server: https://10.0.0.10:6443
                -default-runtime: runc
                +default-runtime: nvidia
                 node-name: orin-1
                @@ -14,3 +14,3 @@
                 protect-kernel-defaults: false
                -selinux: false
                +selinux: true
                 write-kubeconfig-mode: "0644"
                """);
        assertThat(UnifiedDiff.diff("a/config.yaml", K3S_OLD, "b/config.yaml", K3S_NEW, 0)).isEqualTo("""
                --- a/config.yaml
                +++ b/config.yaml
                @@ -3 +3 @@
                -default-runtime: runc
                +default-runtime: nvidia
                @@ -15 +15 @@
                -selinux: false
                +selinux: true
                """);
    }

    @Test
    void hunksWhoseContextsMeetAreMerged() {
        assertThat(UnifiedDiff.diff("a", K3S_OLD, "b", K3S_NEW, 5)).startsWith("--- a\n+++ b\n@@ -1,8 +1,8 @@\n");
        assertThat(UnifiedDiff.diff("a", K3S_OLD, "b", K3S_NEW, 6)).startsWith("--- a\n+++ b\n@@ -1,16 +1,16 @@\n")
                .containsOnlyOnce("\n@@ -");
    }

    @Test
    void aMissingFinalNewlineIsMarked() {
        assertThat(UnifiedDiff.diff("old", "node-name: a\nselinux: false", "new",
                "node-name: a\nselinux: false\ndefault-runtime: nvidia\n", 3)).isEqualTo("""
                --- old
                +++ new
                @@ -1,2 +1,3 @@
                 node-name: a
                -selinux: false
                \\ No newline at end of file
                +selinux: false
                +default-runtime: nvidia
                """);
    }

    @Test
    void anUnchangedLastLineWithoutNewlineIsMarkedOnce() {
        assertThat(UnifiedDiff.diff("old", "a\nb\nc", "new", "a\nB\nc", 3)).isEqualTo("""
                --- old
                +++ new
                @@ -1,3 +1,3 @@
                 a
                -b
                +B
                 c
                \\ No newline at end of file
                """);
    }

    @Test
    void onlyTheFinalNewlineRemoved() {
        assertThat(UnifiedDiff.diff("a", "x\ny\n", "b", "x\ny", 3)).isEqualTo("""
                --- a
                +++ b
                @@ -1,2 +1,2 @@
                 x
                -y
                +y
                \\ No newline at end of file
                """);
    }

    @Test
    void aNewFileAndARemovedFile() {
        assertThat(UnifiedDiff.diff("/dev/null", null, "config.yaml", "default-runtime: nvidia\n", 3)).isEqualTo("""
                --- /dev/null
                +++ config.yaml
                @@ -0,0 +1 @@
                +default-runtime: nvidia
                """);
        assertThat(UnifiedDiff.diff("config.yaml", "default-runtime: nvidia\n", "/dev/null", "", 3)).isEqualTo("""
                --- config.yaml
                +++ /dev/null
                @@ -1 +0,0 @@
                -default-runtime: nvidia
                """);
    }

    @Test
    void runsOfEqualLinesGiveADiffThatPatchApplies(@TempDir Path dir) throws Exception {
        // several shortest scripts exist here; java-diff-utils may choose another than GNU diff's, still valid
        String[][] cases = {
                {"b\na\nc\nb\nd\nd\nb\nd\nd\nc\n", "b\na\ne\ne\nc\nb\nd\nd\nd\nb\nd\nd\nc\n"},
                {"c\na\nc\nd\nd\nd\nb\nd\nd\nc\nb\nd\n", "c\na\nd\nc\nd\nd\nb\nd\nd\nc\nb\nd\n"}};
        for (String[] c : cases) {
            for (int context = 0; context <= 3; context++) {
                assertThat(patch(dir, c[0], UnifiedDiff.diff("a", c[0], "b", c[1], context))).isEqualTo(c[1]);
            }
        }
    }

    @Test
    void theRealPatchAppliesEveryDiffAndGivesTheNewText(@TempDir Path dir) throws Exception {
        Random random = new Random(42);
        for (int round = 0; round < 300; round++) {
            String oldText = randomText(random);
            String newText = mutate(random, oldText);
            int context = random.nextInt(4);

            String diff = UnifiedDiff.diff("a", oldText, "b", newText, context);

            assertThat(patch(dir, oldText, diff)).as("round %d:%n%s", round, diff).isEqualTo(newText);
        }
    }

    @Test
    void negativeContextIsRefused() {
        assertThatThrownBy(() -> UnifiedDiff.diff("a", "x", "b", "y", -1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static String randomText(Random random) {
        StringBuilder out = new StringBuilder();
        int lines = random.nextInt(20);
        for (int i = 0; i < lines; i++) {
            out.append((char) ('a' + random.nextInt(4))).append('\n');
        }
        if (lines > 0 && random.nextInt(5) == 0) {
            out.setLength(out.length() - 1);
        }
        return out.toString();
    }

    private static String mutate(Random random, String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        for (int edits = random.nextInt(5); edits > 0; edits--) {
            int at = random.nextInt(lines.size());
            switch (random.nextInt(3)) {
                case 0 -> lines.add(at, String.valueOf((char) ('a' + random.nextInt(5))));
                case 1 -> lines.remove(at);
                default -> lines.set(at, String.valueOf((char) ('a' + random.nextInt(5))));
            }
            if (lines.isEmpty()) {
                lines.add("");
            }
        }
        return String.join("\n", lines);
    }

    /** GNU patch (as a user would apply the preview): strict about the format, no fuzz, no offset. */
    private static String patch(Path dir, String text, String diff) throws Exception {
        if (diff.isEmpty()) {
            return text;
        }
        Path file = dir.resolve("file");
        Path out = dir.resolve("out");
        Files.writeString(file, text);
        Files.deleteIfExists(out);
        Process p = new ProcessBuilder("patch", "--force", "--fuzz=0", "--posix", "-o", out.toString(),
                file.toString()).redirectErrorStream(true).start();
        p.getOutputStream().write(diff.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(said).isZero();
        assertThat(said).doesNotContain("offset", "fuzz");
        return Files.readString(out);
    }

}
