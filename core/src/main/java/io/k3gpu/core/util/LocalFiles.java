package io.k3gpu.core.util;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/** Files on this machine (kubeconfigs, tokens): read, and replaced atomically with owner-only modes. */
public final class LocalFiles {
    private LocalFiles() {
    }

    public static Optional<String> read(Path path) {
        try {
            return Files.isRegularFile(path) ? Optional.of(Files.readString(path, StandardCharsets.UTF_8)) : Optional.empty();
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot read " + path + ": " + e.getMessage(), "check its permissions");
        }
    }

    /** Writes {@code content} to a 0600 temporary file beside {@code path}, then renames it over {@code path}. */
    public static void writePrivate(Path path, String content) {
        Path abs = path.toAbsolutePath();
        try {
            Files.createDirectories(abs.getParent());
            Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".", ".k3gpu",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                Files.writeString(tmp, content, StandardCharsets.UTF_8);
                try {
                    Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot write " + path + ": " + e.getMessage(),
                    "choose another path or fix the directory's permissions");
        }
    }
}
