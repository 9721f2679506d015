package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

/** The v5 channel and kubelet framings, the Status JSON of refusals, and a port-forward SPDY session's logic. */
class PodStreamsTest {
    static final HexFormat HEX = HexFormat.of();

    @Test
    void channelMessagesAndKubeletFramesAreGolden() {
        // remotecommand v5: one channel byte, then the bytes (stdout "hi"; the close signal of stdin: 255, 0)
        assertThat(HEX.formatHex(PodStreams.channelMessage(1, "hi".getBytes()))).isEqualTo("016869");
        assertThat(HEX.formatHex(PodStreams.channelMessage(255, new byte[] {0}))).isEqualTo("ff00");
        // the lab's kubelet hop: channel, 32-bit length, bytes
        assertThat(HEX.formatHex(KubeletStream.frame(3, "{}".getBytes()))).isEqualTo("03000000027b7d");
        assertThat(HEX.formatHex(KubeletStream.frame(0, new byte[0]))).isEqualTo("0000000000");
    }

    @Test
    void aKubeletRefusalIsTheTranslatorsInternalError() {
        String msg = PodStreams.upgradeError(new KubeletStream.Refused(404, "container not found (\"x\")"));
        assertThat(Json.write(PodStreams.internalError(msg))).isEqualTo("{\"metadata\":{},\"status\":\"Failure\","
                + "\"message\":\"Internal error occurred: unable to upgrade connection: container not found "
                + "(\\\"x\\\")\",\"reason\":\"InternalError\",\"details\":{\"causes\":[{\"message\":\"unable to "
                + "upgrade connection: container not found (\\\"x\\\")\"}]},\"code\":500}");
    }

    @Test
    void queriesKeepRepeatedCommands() {
        assertThat(PodStreams.query("command=sh&command=-c&command=exit+3&container=c&stdout=true")).containsEntry(
                "command", List.of("sh", "-c", "exit 3")).containsEntry("container", List.of("c"));
    }

    @Test
    void aPortForwardSessionRepliesPairsStreamsAndAnswersPings() throws Exception {
        List<byte[]> written = new ArrayList<>();
        List<Integer> dialed = new ArrayList<>();
        boolean[] closed = {false};
        PodStreams.PortForwardSession s = new PodStreams.PortForwardSession(written::add, () -> closed[0] = true,
                port -> {
                    dialed.add(port);
                    return Future.failedFuture(new KubeletStream.Refused(404, "pod \"web\" does not exist"));
                });
        Spdy.Encoder client = new Spdy.Encoder();
        s.onBytes(client.synStream(1, 0, 0, 0, headers("error", "8080", "0")));
        assertThat(dialed).isEmpty(); // waits for the request's data stream
        s.onBytes(SpdyTest.concat(client.synStream(3, 0, 0, 0, headers("data", "8080", "0")), client.ping(1)));
        assertThat(dialed).containsExactly(8080);
        Spdy.Decoder d = new Spdy.Decoder();
        List<Spdy.Frame> frames = new ArrayList<>();
        for (byte[] w : written) {
            frames.addAll(d.feed(w));
        }
        // SYN_REPLY for each stream, the dial's error on the error stream, both streams ended (FIN), the PING back
        assertThat(frames).hasSize(6);
        assertThat(((Spdy.SynReply) frames.get(0)).streamId()).isEqualTo(1);
        assertThat(((Spdy.SynReply) frames.get(1)).streamId()).isEqualTo(3);
        Spdy.Data error = (Spdy.Data) frames.get(2);
        assertThat(error.streamId()).isEqualTo(1);
        assertThat(new String(error.data(), StandardCharsets.UTF_8)).isEqualTo("error forwarding port 8080 to pod: "
                + "unable to upgrade connection: pod \"web\" does not exist");
        assertThat(((Spdy.Data) frames.get(3)).streamId()).isEqualTo(3);
        assertThat(((Spdy.Data) frames.get(3)).fin()).isTrue();
        assertThat(((Spdy.Data) frames.get(4)).streamId()).isEqualTo(1);
        assertThat(((Spdy.Data) frames.get(4)).fin()).isTrue();
        assertThat(frames.get(5)).isEqualTo(new Spdy.Ping(1));
        assertThat(closed[0]).isFalse();
        // garbage: GOAWAY (protocol error) and the connection closes
        s.onBytes(HEX.parseHex("8002000100000000"));
        assertThat(closed[0]).isTrue();
    }

    static Map<String, List<String>> headers(String type, String port, String id) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("streamtype", List.of(type));
        h.put("port", List.of(port));
        h.put("requestid", List.of(id));
        return h;
    }
}
