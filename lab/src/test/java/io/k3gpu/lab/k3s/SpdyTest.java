package io.k3gpu.lab.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.Adler32;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import org.junit.jupiter.api.Test;

/** SPDY/3.1 framing: golden bytes, the header dictionary, compression round trips, and Netty's codec as a peer. */
class SpdyTest {
    static final HexFormat HEX = HexFormat.of();

    @Test
    void dictionaryIsSpdy3sOwnAndEqualsNettysCopy() throws Exception {
        assertThat(Spdy.DICTIONARY).hasSize(1423);
        Adler32 a = new Adler32();
        a.update(Spdy.DICTIONARY);
        // the DICTID a zlib stream primed with it carries (RFC 1950): what Go's zlib.NewReaderDict checks
        assertThat(a.getValue()).isEqualTo(0xe3c6a7c2L);
        var f = Class.forName("io.netty.handler.codec.spdy.SpdyCodecUtil").getDeclaredField("SPDY_DICT");
        f.setAccessible(true);
        assertThat(Spdy.DICTIONARY).isEqualTo((byte[]) f.get(null));
    }

    @Test
    void goldenBytesOfTheFramesTheServerWrites() {
        Spdy.Encoder e = new Spdy.Encoder();
        assertThat(HEX.formatHex(e.data(3, true, "hi".getBytes()))).isEqualTo("00000003" + "01000002" + "6869");
        assertThat(HEX.formatHex(e.data(5, false, new byte[0]))).isEqualTo("00000005" + "00000000");
        assertThat(HEX.formatHex(e.rstStream(7, Spdy.CANCEL))).isEqualTo("80030003" + "00000008" + "00000007"
                + "00000005");
        assertThat(HEX.formatHex(e.ping(9))).isEqualTo("80030006" + "00000004" + "00000009");
        assertThat(HEX.formatHex(e.goAway(11, 1))).isEqualTo("80030007" + "00000008" + "0000000b" + "00000001");
        byte[] reply = e.synReply(1, 0, Map.of());
        String hex = HEX.formatHex(reply);
        // control bit + version 3, type 2, flags 0, length; stream id; then the zlib stream: CMF 0x78, FLG with
        // FDICT (0xf9: level 3 = best compression), DICTID e3c6a7c2, the block of "0 headers" (4 zero bytes: a
        // match in the dictionary), the sync flush
        assertThat(hex.substring(0, 8)).isEqualTo("80030002");
        assertThat(Integer.parseInt(hex.substring(8, 16), 16)).isEqualTo(reply.length - 8);
        assertThat(hex.substring(16, 24)).isEqualTo("00000001");
        assertThat(hex.substring(24, 36)).isEqualTo("78f9e3c6a7c2");
        assertThat(hex).endsWith("0000ffff");
        assertThat(hex).isEqualTo("80030002000000140000000178f9e3c6a7c202a6230600000000ffff");
    }

    @Test
    void headerBlocksRoundTripThroughOneCompressionStreamPerDirection() throws Exception {
        Spdy.Encoder e = new Spdy.Encoder();
        Spdy.Decoder d = new Spdy.Decoder();
        Map<String, List<String>> h1 = new LinkedHashMap<>();
        h1.put("streamtype", List.of("error"));
        h1.put("port", List.of("8080"));
        h1.put("requestid", List.of("0"));
        Map<String, List<String>> h2 = new LinkedHashMap<>(h1);
        h2.put("streamtype", List.of("data"));
        h2.put("multi", List.of("a", "b"));
        byte[] both = concat(e.synStream(1, 0, 0, 0, h1), e.synStream(3, 0, 2, 0, h2));
        // fed byte by byte: frames come out whole, in order, the second block needing the first one's history
        List<Spdy.Frame> got = new java.util.ArrayList<>();
        for (byte b : both) {
            got.addAll(d.feed(new byte[] {b}));
        }
        assertThat(got).hasSize(2);
        Spdy.SynStream s1 = (Spdy.SynStream) got.get(0);
        Spdy.SynStream s2 = (Spdy.SynStream) got.get(1);
        assertThat(s1.streamId()).isEqualTo(1);
        assertThat(s1.headers()).isEqualTo(h1);
        assertThat(s2.streamId()).isEqualTo(3);
        assertThat(s2.priority()).isEqualTo(2);
        assertThat(s2.headers()).isEqualTo(h2);
        assertThat(s2.header("streamtype")).isEqualTo("data");
        List<Spdy.Frame> rest = d.feed(concat(e.data(3, true, new byte[] {1, 2}), e.ping(5), e.rstStream(3, 5)));
        assertThat(rest).hasSize(3);
        assertThat(((Spdy.Data) rest.get(0)).fin()).isTrue();
        assertThat(((Spdy.Data) rest.get(0)).data()).containsExactly(1, 2);
        assertThat(rest.get(1)).isEqualTo(new Spdy.Ping(5));
        assertThat(rest.get(2)).isEqualTo(new Spdy.RstStream(3, 5));
    }

    @Test
    void nettysCodecReadsWhatTheServerWritesAndTheServerReadsWhatNettyWrites() throws Exception {
        EmbeddedChannel peer = new EmbeddedChannel(new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
        Spdy.Encoder e = new Spdy.Encoder();
        // a SYN_REPLY with headers, then another (the second compressed against the first)
        peer.writeInbound(Unpooled.wrappedBuffer(e.synReply(1, 0, Map.of("x-a", List.of("1")))));
        peer.writeInbound(Unpooled.wrappedBuffer(e.synReply(3, 1, Map.of("x-a", List.of("2")))));
        SpdySynReplyFrame r1 = peer.readInbound();
        SpdySynReplyFrame r2 = peer.readInbound();
        assertThat(r1.streamId()).isEqualTo(1);
        assertThat(r1.headers().get("x-a")).isEqualTo("1");
        assertThat(r2.streamId()).isEqualTo(3);
        assertThat(r2.isLast()).isTrue();
        assertThat(r2.headers().get("x-a")).isEqualTo("2");

        Spdy.Decoder d = new Spdy.Decoder();
        for (int id : new int[] {1, 3}) {
            SpdySynStreamFrame syn = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
            syn.headers().set("streamtype", id == 1 ? "error" : "data").set("port", "80").set("requestid", "7");
            peer.writeOutbound(syn);
        }
        ByteBuf out;
        List<Spdy.Frame> frames = new java.util.ArrayList<>();
        while ((out = peer.readOutbound()) != null) {
            byte[] b = new byte[out.readableBytes()];
            out.readBytes(b);
            out.release();
            frames.addAll(d.feed(b));
        }
        assertThat(frames).hasSize(2);
        assertThat(((Spdy.SynStream) frames.get(1)).header("streamtype")).isEqualTo("data");
        assertThat(((Spdy.SynStream) frames.get(1)).header("requestid")).isEqualTo("7");
        peer.finishAndReleaseAll();
    }

    @Test
    void brokenInputIsAProtocolError() {
        Spdy.Decoder d = new Spdy.Decoder();
        assertThatThrownBy(() -> d.feed(HEX.parseHex("80020001" + "00000000"))).isInstanceOf(
                Spdy.ProtocolException.class).hasMessageContaining("version 2");
        Spdy.Decoder d2 = new Spdy.Decoder();
        assertThatThrownBy(() -> d2.feed(HEX.parseHex("80030002" + "00000008" + "00000001" + "deadbeef")))
                .isInstanceOf(Spdy.ProtocolException.class);
    }

    static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }
}
