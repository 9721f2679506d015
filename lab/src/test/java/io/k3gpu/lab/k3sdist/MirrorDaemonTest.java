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

    @Test
    void servesChannelsReleasesAndStopsCleanly() throws Exception {
        int port = freePort();
        String base = "http://127.0.0.1:" + port;
        Path root = state.resolve("k3s-mirror");
        MirrorContent.writeMirror(root, "127.0.0.1:" + port);
        MirrorDaemon.start(state, "127.0.0.1", port, root);
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
        MirrorDaemon.start(state, "127.0.0.1", port, root);
        ProcessHandle mirror = MirrorDaemon.processes(state).get(0);
        Files.delete(state.resolve(MirrorDaemon.PID_FILE));
        MirrorDaemon.stop(state);
        assertThat(MirrorDaemon.alive(mirror.pid())).isFalse();
    }
}
