package io.k3gpu.lab.k3sdist;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The mirror daemon on 127.0.0.1 (no lab, no root): update.k3s.io's redirects, GitHub's files, a clean stop. */
class MirrorDaemonTest {
    @TempDir
    Path state;

    @AfterEach
    void stop() {
        MirrorDaemon.stop(state);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The lab's CA and the mirror's certificate, in {@code <state>/mirror-tls}. */
    Path tls() throws Exception {
        MirrorTls.create("unit", java.time.Clock.systemUTC()).writeTo(state);
        return state.resolve(MirrorTls.DIR);
    }

    /**
     * The real curl, asking {@code url} with its host resolved to the mirror's HTTPS port on 127.0.0.1 and only the
     * lab's CA trusted: prints the status, the Location and the body.
     */
    static String curl(int httpsPort, Path ca, String url) throws Exception {
        String host = URI.create(url).getHost();
        Process p = new ProcessBuilder("curl", "-sS", "--cacert", ca.toString(),
                "--connect-to", host + ":443:127.0.0.1:" + httpsPort,
                "-w", "\n%{http_code} %{redirect_url}", url).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @Test
    void servesTheRealScriptsHostsOverHttpsAsTheInternetDoes() throws Exception {
        int port = freePort();
        int https = freePort();
        Path root = state.resolve("k3s-mirror");
        MirrorContent.writeMirror(root, "127.0.0.1:" + port);
        MirrorDaemon.start(state, "127.0.0.1", port, root, https, tls());
        Path ca = state.resolve(MirrorTls.DIR).resolve(MirrorTls.CA_CERT);

        assertThat(curl(https, ca, "https://get.k3s.io")).startsWith("#!/bin/sh\n").endsWith("\n200 ")
                .contains("GITHUB_URL=${GITHUB_URL:-https://github.com/k3s-io/k3s/releases}");
        // rancher/channelserver: 302 to redirectBase (github.com's release page) + the channel's version
        assertThat(curl(https, ca, "https://update.k3s.io/v1-release/channels/stable")).isEqualTo(
                "<a href=\"https://github.com/k3s-io/k3s/releases/tag/v1.31.4+k3s1\">Found</a>.\n\n"
                        + "\n302 https://github.com/k3s-io/k3s/releases/tag/v1.31.4+k3s1");
        assertThat(curl(https, ca, "https://update.k3s.io/v1-release/channels")).contains(
                "\"self\": \"https://update.k3s.io/v1-release/channels/latest\"").endsWith("\n200 ");
        assertThat(curl(https, ca, "https://github.com/k3s-io/k3s/releases/tag/v1.31.4+k3s1")).endsWith("\n200 ");
        // GitHub sends release downloads on to its asset host
        String asset = "https://release-assets.githubusercontent.com/github-production-release-asset/k3s-io/k3s/"
                + "v1.32.0+k3s1/k3s-arm64?response-content-disposition=attachment%3B%20filename%3Dk3s-arm64"
                + "&response-content-type=application%2Foctet-stream";
        assertThat(curl(https, ca, "https://github.com/k3s-io/k3s/releases/download/v1.32.0+k3s1/k3s-arm64"))
                .endsWith("\n302 " + asset);
        assertThat(curl(https, ca, asset)).isEqualTo(MirrorContent.launcher("v1.32.0+k3s1", "arm64") + "\n200 ");
        assertThat(curl(https, ca, "https://github.com/k3s-io/k3s/releases/download/v9.9.9+k3s1/k3s")).endsWith("\n404 ");
        assertThat(curl(https, ca, "https://github.com/k3s-io/k3s/releases/download/v1.32.0+k3s1/../../k3s"))
                .endsWith("\n404 ");
        assertThat(curl(https, ca, "https://get.k3s.io/k3s/v1.32.0+k3s1/k3s")).endsWith("\n404 ");

        // a CA that is not the lab's is refused: the verification is real
        Path other = state.resolve("other");
        Files.createDirectories(other);
        Path otherCa = Files.writeString(other.resolve("ca.crt"), MirrorTls.create("other",
                java.time.Clock.systemUTC()).caPem());
        assertThat(curl(https, otherCa, "https://get.k3s.io")).contains("SSL certificate problem")
                .endsWith("\n000 ");
    }

    @Test
    void servesChannelsReleasesAndStopsCleanly() throws Exception {
        int port = freePort();
        String base = "http://127.0.0.1:" + port;
        Path root = state.resolve("k3s-mirror");
        MirrorContent.writeMirror(root, "127.0.0.1:" + port);
        MirrorDaemon.start(state, "127.0.0.1", port, root, freePort(), tls());
        List<ProcessHandle> procs = MirrorDaemon.processes(state);
        assertThat(procs).hasSize(1);
        assertThat(procs.get(0).parent().map(ProcessHandle::pid)).as("detached from this JVM")
                .isNotEqualTo(java.util.Optional.of(ProcessHandle.current().pid()));

        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1-release/channels/stable"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue("Location")).contains(base + "/k3s-io/k3s/releases/tag/v1.31.4+k3s1");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/k3s-io/k3s/releases/tag/v1.31.4+k3s1")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/v1-release/channels/v2.0")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        JsonNode list = JsonMapper.builder().build().readTree(http.send(HttpRequest.newBuilder(
                URI.create(base + "/v1-release/channels")).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(list.path("data")).hasSize(K3sReleases.channels().size());

        HttpResponse<byte[]> bin = http.send(HttpRequest.newBuilder(URI.create(base
                + "/k3s-io/k3s/releases/download/v1.32.0%2Bk3s1/k3s-arm64")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(bin.statusCode()).isEqualTo(200);
        assertThat(new String(bin.body(), StandardCharsets.UTF_8))
                .isEqualTo(MirrorContent.launcher("v1.32.0+k3s1", "arm64"));
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/k3s/v9.9.9+k3s1/k3s")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/k3s/")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("no directory listings").isEqualTo(404);
        assertThat(Files.readString(state.resolve(MirrorDaemon.LOG_FILE))).contains("\"GET /v1-release/channels/stable "
                + "HTTP/1.1\" 302");

        MirrorDaemon.stop(state);
        assertThat(MirrorDaemon.alive(procs.get(0).pid())).isFalse();
        assertThat(MirrorDaemon.running(state)).isFalse();
    }

    @Test
    void stopFindsTheMirrorWithoutItsPidFile() throws Exception {
        int port = freePort();
        Path root = state.resolve("k3s-mirror");
        MirrorContent.writeMirror(root, "127.0.0.1:" + port);
        MirrorDaemon.start(state, "127.0.0.1", port, root, freePort(), tls());
        ProcessHandle mirror = MirrorDaemon.processes(state).get(0);
        Files.delete(state.resolve(MirrorDaemon.PID_FILE));
        MirrorDaemon.stop(state);
        assertThat(MirrorDaemon.alive(mirror.pid())).isFalse();
    }
}
