package io.k3gpu.core.remote;

import java.nio.charset.StandardCharsets;

/** What a remote command left behind. */
public record ExecResult(int exitCode, byte[] stdoutBytes, byte[] stderrBytes) {

    public String stdout() {
        return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    public String stderr() {
        return new String(stderrBytes, StandardCharsets.UTF_8);
    }

    public boolean ok() {
        return exitCode == 0;
    }

    /** The last {@code lines} non-blank lines of stderr (stdout when stderr is empty), joined with " | ". */
    public String tail(int lines) {
        String text = stderr().isBlank() ? stdout() : stderr();
        String[] all = text.strip().split("\\R");
        int from = Math.max(0, all.length - lines);
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < all.length; i++) {
            if (all[i].isBlank()) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(" | ");
            }
            sb.append(all[i].strip());
        }
        return sb.toString();
    }
}
