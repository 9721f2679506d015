package io.k3gpu.lab.k3sdist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/** The simulated server's class path, taken from this (Surefire) JVM: booter jar expanded, test jars left out. */
class ServerJarsTest {
    @Test
    void classPathHasTheServerAndItsLibrariesButNoTestFrameworks() {
        List<String> names = ServerJars.classPath().stream().map(p -> p.getFileName().toString()).toList();
        assertThat(names).anyMatch(n -> n.startsWith("kubernetes-server-mock"));
        assertThat(names).anyMatch(n -> n.startsWith("vertx-core"));
        assertThat(names).noneMatch(n -> n.startsWith("junit") || n.startsWith("assertj") || n.contains("surefire"));
        assertThat(names).doesNotContain("test-classes");
    }

    @Test
    void installedJarsHoldTheServerMainClass(@TempDir Path lib) throws Exception {
        List<Path> jars = ServerJars.install(lib);
        assertThat(jars).allMatch(p -> p.getFileName().toString().endsWith(".jar") && p.startsWith(lib));
        boolean found = false;
        for (Path jar : jars) {
            try (ZipFile z = new ZipFile(jar.toFile())) {
                found |= z.getEntry(ServerJars.MAIN_CLASS) != null;
            }
        }
        assertThat(found).isTrue();
    }
}
