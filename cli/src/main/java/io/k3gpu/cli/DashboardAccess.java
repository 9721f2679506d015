package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Who may read the dashboard, and the headers every answer carries. Pure rules, unit-tested: on a loopback address
 * only this machine can connect (and the Host header must name a loopback address, so a web page of another site
 * cannot reach it through DNS rebinding); on any other address every request must carry the bearer token of
 * {@code --token-file}, as an {@code Authorization: Bearer} header or as the cookie the login form sets.
 */
final class DashboardAccess {
    static final String COOKIE = "k3gpu_dashboard";
    /** Scripts, styles, data and fonts from the dashboard itself only; nothing inline, no frames, no plugins. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private static final int MIN_TOKEN = 16;

    private final ExporterCommand.Listen listen;
    private final byte[] token;

    private DashboardAccess(ExporterCommand.Listen listen, byte[] token) {
        this.listen = listen;
        this.token = token;
    }

    /**
     * The rules for {@code --listen} and {@code --token-file}: a loopback address needs no token (one given is
     * still required); any other address refuses to start without one.
     */
    static DashboardAccess of(String listenText, Path tokenFile) {
        ExporterCommand.Listen listen = ExporterCommand.Listen.parse(listenText);
        byte[] token = tokenFile == null ? null : readToken(tokenFile);
        if (token == null && !isLoopback(listen.host())) {
            throw new K3gpuException(ExitCode.USAGE, "--listen " + listenText + " would expose the dashboard to "
                    + "the network without a token",
                    "pass --token-file FILE (a secret of at least " + MIN_TOKEN + " characters), or listen on "
                            + "127.0.0.1");
        }
        return new DashboardAccess(listen, token);
    }

    ExporterCommand.Listen listen() {
        return listen;
    }

    boolean needsToken() {
        return token != null;
    }

    /** A loopback address by its text: no name lookup, so {@code localhost} counts and "" (every interface) not. */
    static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    private static byte[] readToken(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            throw new K3gpuException(ExitCode.USAGE, "no token file " + file,
                    "write a secret to it, e.g. head -c 32 /dev/urandom | base64 > " + file);
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read the token file " + file + ": " + e.getMessage(),
                    "check --token-file");
        }
        if (text.length() < MIN_TOKEN || text.contains("\n") || text.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            throw new K3gpuException(ExitCode.USAGE, "the token in " + file + " is not one line of at least "
                    + MIN_TOKEN + " printable characters without spaces",
                    "write one, e.g. head -c 32 /dev/urandom | base64 > " + file);
        }
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** Why the request is refused, or null when it may be answered. */
    Refusal check(String hostHeader, String authorization, List<String> cookies) {
        if (isLoopback(listen.host()) && !loopbackHost(hostHeader)) {
            return new Refusal(421, "this dashboard answers only to a loopback Host");
        }
        if (token == null) {
            return null;
        }
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                && matches(authorization.substring(7).strip())) {
            return null;
        }
        for (String header : cookies) {
            for (String c : header.split(";")) {
                String kv = c.strip();
                if (kv.startsWith(COOKIE + "=") && matches(kv.substring(COOKIE.length() + 1))) {
                    return null;
                }
            }
        }
        return new Refusal(401, "a bearer token is required");
    }

    /** Whether the login form's token is the right one. */
    boolean matches(String given) {
        return token != null && given != null
                && MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8));
    }

    /** The cookie that carries the token after a login: not readable by scripts, never sent by other sites. */
    String loginCookie() {
        return COOKIE + "=" + new String(token, StandardCharsets.US_ASCII) + "; Path=/; HttpOnly; SameSite=Strict";
    }

    private static boolean loopbackHost(String hostHeader) {
        if (hostHeader == null) {
            return false;
        }
        String h = hostHeader.strip();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 && isLoopback(h.substring(1, end));
        }
        int colon = h.lastIndexOf(':');
        return isLoopback(colon < 0 ? h : h.substring(0, colon));
    }

    /** The headers of every answer: the policy above, no sniffing, no referrer, no caching of cluster data. */
    static Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Security-Policy", CSP);
        h.put("X-Content-Type-Options", "nosniff");
        h.put("Referrer-Policy", "no-referrer");
        h.put("X-Frame-Options", "DENY");
        h.put("Cache-Control", "no-store");
        return h;
    }

    record Refusal(int status, String message) {
    }
}
