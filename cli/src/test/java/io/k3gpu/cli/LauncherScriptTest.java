package io.k3gpu.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ./k3gpu launcher in the distribution's layout (bin/k3gpu, lib/k3gpu.jar), run by bash with a tiny jar that
 * prints the Java it runs on and its arguments: the Java it picks, the class cache it keeps beside the jar, exit codes.
 */
class LauncherScriptTest {
    private static final Path LAUNCHER = Path.of("..", "k3gpu");
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    @TempDir
    Path dist;
    Path lib;

    @BeforeEach
    void layout() throws Exception {
        Files.createDirectories(dist.resolve("bin"));
        Files.copy(LAUNCHER, dist.resolve("bin/k3gpu"));
        lib = Files.createDirectories(dist.resolve("lib"));
        writeJar("first");
    }

    /** A jar whose main prints "<java.home> <tag> <args>" and exits with the number after "exit", if any. */
    private void writeJar(String tag) throws Exception {
        Path src = Files.createDirectories(dist.resolve("src"));
        Files.writeString(src.resolve("Main.java"), """
                public class Main {
                    public static void main(String[] a) {
                        System.out.println(System.getProperty("java.home") + " TAG " + String.join(" ", a));
                        if (a.length > 1 && a[0].equals("exit")) System.exit(Integer.parseInt(a[1]));
                    }
                }
                """.replace("TAG", tag));
        Path classes = Files.createDirectories(dist.resolve("classes"));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-d",
                classes.toString(), src.resolve("Main.java").toString());
        assertThat(rc).isZero();
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Main");
        Path jar = lib.resolve("k3gpu.jar");
        try (OutputStream f = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(f, m)) {
            out.putNextEntry(new JarEntry("Main.class"));
            out.write(Files.readAllBytes(classes.resolve("Main.class")));
            out.closeEntry();
        }
    }

    private record Run(int exit, String out, String err) {
    }

    private Run run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", dist.resolve("bin/k3gpu").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", dist.toString());
        pb.environment().remove("K3GPU_JAVA");
        pb.environment().remove("K3GPU_CACHE");
        pb.environment().putAll(env);
        Path out = dist.resolve("out.txt");
        Path err = dist.resolve("err.txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private List<Path> cache() throws IOException {
        Path dir = lib.resolve(".k3gpu-cache");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.toString().endsWith(".jsa") || f.toString().endsWith(".aot")).sorted().toList();
        }
    }

    /** JDK 25 assembles its AOT cache in the background after the first run; older JDKs write it at exit. */
    private List<Path> awaitCache() throws Exception {
        for (int i = 0; i < 240 && cache().isEmpty(); i++) {
            Thread.sleep(500);
        }
        return cache();
    }

    @Test
    void itRunsTheNewestJava17OrLaterItFinds() throws Exception {
        Run r = run(Map.of("JAVA_HOME", System.getProperty("java.home"), "K3GPU_CACHE", "0"), "nodes", "-o", "wide");
        assertThat(r.exit()).as(r.err()).isZero();
        String newest = newestJava(System.getProperty("java.home"));
        assertThat(r.out()).isEqualTo(newest + " first nodes -o wide\n");
        assertThat(cache()).isEmpty();
    }

    @Test
    void k3gpuJavaNamesTheJavaAndTheExitCodePassesThrough() throws Exception {
        Run r = run(Map.of("K3GPU_JAVA", JAVA), "exit", "3");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.out()).isEqualTo(System.getProperty("java.home") + " first exit 3\n");
    }

    @Test
    void aCommandsClassCacheIsMadeOnFirstUseUsedThenAndRemadeWhenTheJarChanges() throws Exception {
        Map<String, String> env = Map.of("K3GPU_JAVA", JAVA);
        Run first = run(env, "nodes");
        // the first run records; nothing but the program's own output either way
        assertThat(first.out()).isEqualTo(System.getProperty("java.home") + " first nodes\n");
        assertThat(first.err()).isEmpty();
        List<Path> made = awaitCache();
        assertThat(made).hasSize(1);
        assertThat(made.get(0).getFileName().toString()).startsWith("k3gpu-nodes-");
        Run second = run(env, "nodes");
        assertThat(second.out()).isEqualTo(first.out());
        assertThat(second.err()).isEmpty();
        assertThat(cache()).isEqualTo(made);

        writeJar("second");
        Files.setLastModifiedTime(lib.resolve("k3gpu.jar"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
        Run third = run(env, "nodes");
        assertThat(third.out()).isEqualTo(System.getProperty("java.home") + " second nodes\n");
        List<Path> remade = awaitCache();
        assertThat(remade).hasSize(1).doesNotContainAnyElementsOf(made);
    }

    @Test
    void aRunThatFailedMakesNoCacheTheNextGoodOneDoes() throws Exception {
        // a first run that fails early (wrong kubeconfig, server down) saw few of the command's classes
        Map<String, String> env = Map.of("K3GPU_JAVA", JAVA);
        Run failed = run(env, "exit", "4");
        assertThat(failed.exit()).isEqualTo(4);
        Thread.sleep(2000); // JDK 25 would assemble it in the background by now
        assertThat(cache()).isEmpty();
        assertThat(lib.resolve(".k3gpu-cache")).isEmptyDirectory();
        Run ok = run(env, "exit", "0");
        assertThat(ok.exit()).isZero();
        assertThat(awaitCache()).singleElement().satisfies(f -> assertThat(f.getFileName().toString())
                .startsWith("k3gpu-exit-"));
    }

    @Test
    void statsParseHasItsOwnCacheBesideStats() throws Exception {
        // it runs with other JVM options than stats (C1, serial GC): one cache would be remade at every switch
        Map<String, String> env = Map.of("K3GPU_JAVA", JAVA);
        Run parse = run(env, "stats", "parse", "-", "-o", "text");
        assertThat(parse.out()).isEqualTo(System.getProperty("java.home") + " first stats parse - -o text\n");
        assertThat(awaitCache()).singleElement().satisfies(f -> assertThat(f.getFileName().toString())
                .startsWith("k3gpu-stats-parse-"));
    }

    /** What the launcher looks for: JAVA_HOME, /usr/lib/jvm/*, the java on PATH; the newest release >= 17. */
    private static String newestJava(String javaHome) throws IOException {
        List<Path> homes = new ArrayList<>(List.of(Path.of(javaHome)));
        Path jvm = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvm)) {
            try (Stream<Path> s = Files.list(jvm)) {
                s.sorted().forEach(homes::add);
            }
        }
        String best = null;
        int bestFeature = 0;
        for (Path h : homes) {
            Path release = h.resolve("release");
            if (!Files.isRegularFile(release) || !Files.isExecutable(h.resolve("bin/java"))) {
                continue;
            }
            for (String line : Files.readAllLines(release, StandardCharsets.UTF_8)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    int feature = Integer.parseInt(v.split("[.+_-]")[0]);
                    if (feature >= 17 && feature > bestFeature) {
                        bestFeature = feature;
                        best = h.toString();
                    }
                }
            }
        }
        return Path.of(best == null ? javaHome : best).toRealPath().toString();
    }
}
