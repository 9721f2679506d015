package io.k3gpu.lab.k3sdist;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

/**
 * The simulated K3s server's class path, for nodes: the jars of the running JVM (Maven's target/classes and
 * ~/.m2 jars in tests, the shaded k3gpu-lab.jar from the CLI) put into the lab's shared directory, where the node's
 * {@code k3s server} runs them ({@code java -cp '<shared>/k3s/lib/*'}). Class directories are packed into jars (a
 * class-path wildcard only picks up jars); test frameworks and test classes are left out. Hard links where the
 * file systems allow it, copies otherwise (the lab's state lives on a tmpfs).
 */
final class ServerJars {
    static final String MAIN_CLASS = "io/k3gpu/lab/k3s/K3sServerMain.class";
    /** Test-only artifacts the server never loads. */
    private static final Pattern TEST_ONLY = Pattern.compile(
            "(junit|opentest4j|apiguardian|assertj|byte-buddy|mockito|objenesis|hamcrest|surefire|failsafe)[^/]*\\.jar");

    private ServerJars() {
    }

    /** The running JVM's class path, manifest Class-Path entries (Surefire's booter jar) expanded, tests left out. */
    static List<Path> classPath() {
        List<Path> out = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        Deque<Path> todo = new ArrayDeque<>();
        for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (!e.isBlank()) {
                todo.add(Path.of(e).toAbsolutePath().normalize());
            }
        }
        while (!todo.isEmpty()) {
            Path p = todo.poll();
            if (!seen.add(p) || !Files.exists(p)) {
                continue;
            }
            String name = p.getFileName() == null ? "" : p.getFileName().toString();
            if (Files.isDirectory(p)) {
                if (!name.equals("test-classes")) {
                    out.add(p);
                }
                continue;
            }
            List<Path> manifestPath = manifestClassPath(p);
            if (!manifestPath.isEmpty() && isManifestOnly(p)) {
                todo.addAll(manifestPath);
                continue;
            }
            if (TEST_ONLY.matcher(name).matches()) {
                continue;
            }
            out.add(p);
            todo.addAll(manifestPath);
        }
        return out;
    }

    /**
     * Puts the class path into {@code libDir}: jars linked or copied under their own names (a numeric prefix where
     * two share a name), class directories packed as {@code classes-<n>-<module>.jar}.
     *
     * @throws IllegalStateException when the class path lacks the simulated server
     */
    static List<Path> install(Path libDir) throws IOException {
        List<Path> cp = classPath();
        if (cp.stream().noneMatch(ServerJars::holdsServer)) {
            throw new IllegalStateException("the class path of this JVM lacks " + MAIN_CLASS + ": " + cp);
        }
        Files.createDirectories(libDir);
        Set<String> names = new LinkedHashSet<>();
        List<Path> written = new ArrayList<>();
        int n = 0;
        for (Path p : cp) {
            n++;
            Path target;
            if (Files.isDirectory(p)) {
                Path module = p.getParent() != null && p.getParent().getParent() != null
                        ? p.getParent().getParent().getFileName() : p.getFileName();
                target = libDir.resolve("classes-" + n + "-" + module + ".jar");
                packDirectory(p, target);
            } else {
                String name = p.getFileName().toString();
                target = libDir.resolve(names.add(name) ? name : n + "-" + name);
                link(p, target);
            }
            written.add(target);
        }
        return written;
    }

    private static boolean holdsServer(Path p) {
        if (Files.isDirectory(p)) {
            return Files.isRegularFile(p.resolve(MAIN_CLASS));
        }
        try (ZipFile z = new ZipFile(p.toFile())) {
            return z.getEntry(MAIN_CLASS) != null;
        } catch (IOException e) {
            return false;
        }
    }

    private static void link(Path source, Path target) throws IOException {
        Files.deleteIfExists(target);
        try {
            Files.createLink(target, source);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void packDirectory(Path dir, Path jar) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, m)) {
            out.setLevel(1);
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    String rel = dir.relativize(d).toString().replace(File.separatorChar, '/');
                    if (!rel.isEmpty()) {
                        out.putNextEntry(new JarEntry(rel + "/"));
                        out.closeEntry();
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    String rel = dir.relativize(f).toString().replace(File.separatorChar, '/');
                    if (rel.equals("META-INF/MANIFEST.MF")) {
                        return FileVisitResult.CONTINUE;
                    }
                    out.putNextEntry(new JarEntry(rel));
                    Files.copy(f, out);
                    out.closeEntry();
                    return FileVisitResult.CONTINUE;
                }
            });
        }
    }

    private static List<Path> manifestClassPath(Path jar) {
        List<Path> out = new ArrayList<>();
        try (JarFile jf = new JarFile(jar.toFile())) {
            Manifest m = jf.getManifest();
            String cp = m == null ? null : m.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (cp == null) {
                return out;
            }
            for (String entry : cp.trim().split("\\s+")) {
                if (entry.isEmpty()) {
                    continue;
                }
                try {
                    URI u = new URI(entry);
                    Path p = u.isAbsolute() ? Path.of(u) : jar.getParent().resolve(Path.of(u.getPath()));
                    out.add(p.toAbsolutePath().normalize());
                } catch (URISyntaxException | IllegalArgumentException e) {
                    out.add(jar.getParent().resolve(entry).toAbsolutePath().normalize());
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** A jar with nothing but a manifest (Surefire's and Failsafe's booter jars). */
    private static boolean isManifestOnly(Path jar) {
        try (JarFile jf = new JarFile(jar.toFile())) {
            return jf.stream().allMatch(e -> e.getName().startsWith("META-INF/"));
        } catch (IOException e) {
            return false;
        }
    }
}
