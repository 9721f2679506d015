package io.k3gpu.lab;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a host command of the lab (ip, ssh-keygen, the launcher) and collects its output. */
final class Exec {
    private Exec() {
    }

    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        boolean ok() {
            return exitCode == 0;
        }

        Result orThrow(String what) {
            if (!ok()) {
                String detail = (stderr.isBlank() ? stdout : stderr).strip();
                throw new K3gpuException(ExitCode.FAILED, "lab: " + what + " failed (exit " + exitCode + ")"
                        + (detail.isEmpty() ? "" : ": " + detail), "command: " + String.join(" ", command));
            }
            return this;
        }
    }

    static Result run(List<String> command) {
        return run(command, null, Duration.ofSeconds(60));
    }

    static Result run(List<String> command, String stdin, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "lab: cannot run " + command.get(0) + ": " + e.getMessage(),
                    "install it: apt-get install -y openssh-server sudo iproute2", e);
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // the command did not read its input; its exit status tells
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new K3gpuException(ExitCode.TIMEOUT, "lab: " + String.join(" ", command) + " did not finish in "
                        + timeout.toSeconds() + " s", null);
            }
            return new Result(command, p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new K3gpuException(ExitCode.INTERRUPTED, "lab: interrupted", null, e);
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
