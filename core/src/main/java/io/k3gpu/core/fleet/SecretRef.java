package io.k3gpu.core.fleet;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Where a secret of cluster.yaml comes from (today: {@code ssh.sudoPassword}), never the secret itself: an
 * environment variable of the k3gpu process ({@code {env: NAME}}) or a local file ({@code {file: PATH}}, relative to
 * cluster.yaml). The secret is the value's first line, as {@code --sudo-password-stdin} reads one line; it is read
 * when a host is connected, kept in memory only, and never printed: messages name the variable or the file.
 *
 * @param env  the environment variable, or null
 * @param file the file, or null
 */
public record SecretRef(String env, Path file) {
    public SecretRef {
        if ((env == null) == (file == null)) {
            throw new IllegalArgumentException("a secret comes from an environment variable or a file");
        }
    }

    /** The secret; a usage error saying why when it cannot be had ({@code what} names the key, e.g. ssh.sudoPassword). */
    public char[] read(String what, Function<String, String> environment) {
        char[][] out = new char[1][];
        String problem = firstLine(environment, s -> out[0] = s.clone());
        if (problem != null) {
            throw new K3gpuException(ExitCode.USAGE, what + ": " + problem, hint());
        }
        return out[0];
    }

    /** Why {@link #read} would fail, without the secret; null when it would not. */
    public String problem(Function<String, String> environment) {
        return firstLine(environment, s -> { });
    }

    private String hint() {
        return env != null ? "export " + env + " in the environment k3gpu runs in"
                : "write the password as the first line of " + file + " (chmod 600 it)";
    }

    /** Hands the secret's first line to {@code use} (then wipes it); returns why there is none, or null. */
    private String firstLine(Function<String, String> environment, Consumer<char[]> use) {
        char[] all;
        if (env != null) {
            String v = environment.apply(env);
            if (v == null) {
                return "the environment variable " + env + " is not set";
            }
            all = v.toCharArray();
        } else {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                return "no file " + file;
            } catch (IOException e) {
                return "cannot read " + file + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            }
            CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes));
            Arrays.fill(bytes, (byte) 0);
            all = new char[chars.remaining()];
            chars.get(all);
            Arrays.fill(chars.array(), '\0');
        }
        int end = 0;
        while (end < all.length && all[end] != '\n' && all[end] != '\r') {
            end++;
        }
        char[] line = Arrays.copyOf(all, end);
        Arrays.fill(all, '\0');
        try {
            if (line.length == 0) {
                return env != null ? "the environment variable " + env + " is empty" : file + " is empty";
            }
            use.accept(line);
            return null;
        } finally {
            Arrays.fill(line, '\0');
        }
    }

    @Override
    public String toString() {
        return env != null ? "env " + env : "file " + file;
    }
}
