package io.k3gpu.lab.k3sdist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The lab's git repository as written object by object, checked and cloned by the real git. */
class GitRepoTest {
    @TempDir
    Path dir;

    static String git(Path cwd, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("git", "-c", "safe.directory=*"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("git %s: %s", String.join(" ", args), out).isZero();
        return out;
    }

    @Test
    void theMnistRepositoryIsAValidBareRepositoryWithTheTrainerAsMnistPy() throws Exception {
        assumeThat(Path.of("/usr/bin/git")).isExecutable();
        GitRepo.writeAll(dir.resolve("git"));
        Path bare = dir.resolve("git").resolve(GitRepo.MNIST_REPO);
        git(bare, "fsck", "--strict", "--no-dangling");
        assertThat(Files.readString(bare.resolve("info/refs"))).isEqualTo(
                git(bare, "rev-parse", "refs/heads/main").strip() + "\trefs/heads/main\n");
        git(dir, "clone", "-q", bare.toString(), "work");
        Path work = dir.resolve("work");
        assertThat(Files.readAllBytes(work.resolve("mnist.py"))).isEqualTo(GitRepo.trainer());
        assertThat(work.resolve("mnist.py")).isExecutable();
        assertThat(Files.readString(work.resolve("README.md"))).contains("python3 mnist.py --data-dir /data");
        assertThat(git(work, "log", "--format=%an <%ae> %aI %s")).isEqualTo(
                "k3gpu lab <lab@k3gpu.invalid> 2024-12-13T00:00:00+00:00 Add the k3gpu trainer as mnist.py\n");
    }

    @Test
    void theCommitIsTheSameInEveryLab() throws Exception {
        GitRepo.writeAll(dir.resolve("a"));
        GitRepo.writeAll(dir.resolve("b"));
        assertThat(Files.readString(dir.resolve("a").resolve(GitRepo.MNIST_REPO).resolve("refs/heads/main")))
                .isEqualTo(Files.readString(dir.resolve("b").resolve(GitRepo.MNIST_REPO).resolve("refs/heads/main")))
                .matches("[0-9a-f]{40}\n");
    }
}
