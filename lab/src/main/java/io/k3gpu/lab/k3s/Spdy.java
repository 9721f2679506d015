package io.k3gpu.lab.k3s;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * SPDY/3.1 framing, as kubectl's port-forward speaks it (github.com/moby/spdystream/spdy, read.go and write.go; the
 * SPDY/3 draft): 8-byte frame headers (control bit, version 3, type, flags, 24-bit length), header blocks of 32-bit
 * counts and lengths compressed with one zlib stream per direction primed with SPDY's dictionary and sync-flushed
 * after each block. The lab's API server is the server side: it reads SYN_STREAM / DATA / RST_STREAM / PING / GOAWAY
 * and writes SYN_REPLY / DATA / RST_STREAM / PING / GOAWAY.
 */
final class Spdy {
    static final int VERSION = 3;
    static final int SYN_STREAM = 1;
    static final int SYN_REPLY = 2;
    static final int RST_STREAM = 3;
    static final int SETTINGS = 4;
    static final int PING = 6;
    static final int GOAWAY = 7;
    static final int HEADERS = 8;
    static final int WINDOW_UPDATE = 9;
    static final int FLAG_FIN = 1;
    /** RST_STREAM statuses used here. */
    static final int PROTOCOL_ERROR = 1;
    static final int CANCEL = 5;
    static final int MAX_DATA = (1 << 24) - 1;

    /** SPDY/3's header compression dictionary (draft 3, section 2.6.10.1): length-prefixed names, then text. */
    static final byte[] DICTIONARY = dictionary();

    private Spdy() {
    }

    private static byte[] dictionary() {
        String[] words = {"options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
            "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control",
            "connection", "content-base", "content-encoding", "content-language", "content-length",
            "content-location", "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires",
            "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
            "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization",
            "range", "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
            "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK",
            "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"};
        String tail = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
                + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
                + "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
                + "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
                + "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
                + "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,"
                + "enq=0.";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String w : words) {
            byte[] b = w.getBytes(StandardCharsets.US_ASCII);
            out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
            out.writeBytes(b);
        }
        out.writeBytes(tail.getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** A frame read from the client. */
    sealed interface Frame permits Data, SynStream, SynReply, RstStream, Ping, GoAway, Other {
    }

    record Data(int streamId, int flags, byte[] data) implements Frame {
        boolean fin() {
            return (flags & FLAG_FIN) != 0;
        }
    }

    record SynStream(int streamId, int associatedTo, int priority, int flags, Map<String, List<String>> headers)
            implements Frame {
        String header(String name) {
            List<String> v = headers.get(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    record SynReply(int streamId, int flags, Map<String, List<String>> headers) implements Frame {
    }

    record RstStream(int streamId, int status) implements Frame {
    }

    record Ping(int id) implements Frame {
    }

    record GoAway(int lastGoodStreamId, int status) implements Frame {
    }

    /** SETTINGS, WINDOW_UPDATE, HEADERS, unknown types: kept raw (spdystream does no flow control either). */
    record Other(int type, int flags, byte[] payload) implements Frame {
    }

    /** Writes frames; one zlib stream for every header block this side sends. */
    static final class Encoder {
        private final Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);

        Encoder() {
            deflater.setDictionary(DICTIONARY);
        }

        byte[] synStream(int streamId, int associatedTo, int priority, int flags, Map<String, List<String>> h) {
            byte[] block = compress(h);
            ByteBuffer b = control(SYN_STREAM, flags, 10 + block.length);
            b.putInt(streamId & 0x7fffffff).putInt(associatedTo & 0x7fffffff).put((byte) (priority << 5))
                    .put((byte) 0).put(block);
            return b.array();
        }

        byte[] synReply(int streamId, int flags, Map<String, List<String>> h) {
            byte[] block = compress(h);
            ByteBuffer b = control(SYN_REPLY, flags, 4 + block.length);
            b.putInt(streamId & 0x7fffffff).put(block);
            return b.array();
        }

        byte[] data(int streamId, boolean fin, byte[] data) {
            if (data.length > MAX_DATA) {
                throw new IllegalArgumentException("a DATA frame holds at most " + MAX_DATA + " bytes");
            }
            ByteBuffer b = ByteBuffer.allocate(8 + data.length);
            b.putInt(streamId & 0x7fffffff).putInt((fin ? FLAG_FIN << 24 : 0) | data.length).put(data);
            return b.array();
        }

        byte[] rstStream(int streamId, int status) {
            return control(RST_STREAM, 0, 8).putInt(streamId & 0x7fffffff).putInt(status).array();
        }

        byte[] ping(int id) {
            return control(PING, 0, 4).putInt(id).array();
        }

        byte[] goAway(int lastGood, int status) {
            return control(GOAWAY, 0, 8).putInt(lastGood & 0x7fffffff).putInt(status).array();
        }

        private static ByteBuffer control(int type, int flags, int length) {
            ByteBuffer b = ByteBuffer.allocate(8 + length);
            b.putShort((short) (0x8000 | VERSION)).putShort((short) type).putInt((flags & 0xff) << 24 | length);
            return b;
        }

        private byte[] compress(Map<String, List<String>> headers) {
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            plain.writeBytes(ByteBuffer.allocate(4).putInt(headers.size()).array());
            headers.forEach((name, values) -> {
                byte[] n = name.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.UTF_8);
                byte[] v = String.join("\0", values).getBytes(StandardCharsets.UTF_8);
                plain.writeBytes(ByteBuffer.allocate(4).putInt(n.length).array());
                plain.writeBytes(n);
                plain.writeBytes(ByteBuffer.allocate(4).putInt(v.length).array());
                plain.writeBytes(v);
            });
            deflater.setInput(plain.toByteArray());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1024];
            int n;
            do {
                n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
                out.write(buf, 0, n);
            } while (n == buf.length);
            return out.toByteArray();
        }
    }

    /** Reads frames from bytes as they come; one zlib stream for every header block the other side sends. */
    static final class Decoder {
        private final Inflater inflater = new Inflater();
        private byte[] pending = new byte[0];

        /** The complete frames in what has come so far (a partial one waits for the next call). */
        List<Frame> feed(byte[] bytes) throws ProtocolException {
            byte[] all = new byte[pending.length + bytes.length];
            System.arraycopy(pending, 0, all, 0, pending.length);
            System.arraycopy(bytes, 0, all, pending.length, bytes.length);
            ByteBuffer b = ByteBuffer.wrap(all);
            List<Frame> out = new ArrayList<>();
            while (b.remaining() >= 8) {
                int first = b.getInt(b.position());
                int second = b.getInt(b.position() + 4);
                int length = second & 0xffffff;
                int flags = second >>> 24;
                if (b.remaining() < 8 + length) {
                    break;
                }
                b.position(b.position() + 8);
                byte[] payload = new byte[length];
                b.get(payload);
                if (first < 0) {
                    int version = (first >>> 16) & 0x7fff;
                    if (version != VERSION) {
                        throw new ProtocolException("unsupported SPDY version " + version);
                    }
                    out.add(control(first & 0xffff, flags, payload));
                } else {
                    if (first == 0) {
                        throw new ProtocolException("stream id zero is disallowed");
                    }
                    out.add(new Data(first, flags, payload));
                }
            }
            pending = new byte[b.remaining()];
            b.get(pending);
            return out;
        }

        private Frame control(int type, int flags, byte[] payload) throws ProtocolException {
            ByteBuffer p = ByteBuffer.wrap(payload);
            try {
                return switch (type) {
                    case SYN_STREAM -> {
                        int id = p.getInt() & 0x7fffffff;
                        int assoc = p.getInt() & 0x7fffffff;
                        int prio = (p.get() & 0xff) >>> 5;
                        p.get();
                        yield new SynStream(id, assoc, prio, flags, headers(p));
                    }
                    case SYN_REPLY -> new SynReply(p.getInt() & 0x7fffffff, flags, headers(p));
                    case RST_STREAM -> new RstStream(p.getInt() & 0x7fffffff, p.getInt());
                    case PING -> new Ping(p.getInt());
                    case GOAWAY -> new GoAway(p.getInt() & 0x7fffffff, p.getInt());
                    case HEADERS -> {
                        // decompressed all the same: the zlib stream must see every block
                        int id = p.getInt();
                        headers(p);
                        yield new Other(type, flags, ByteBuffer.allocate(4).putInt(id).array());
                    }
                    default -> new Other(type, flags, payload);
                };
            } catch (java.nio.BufferUnderflowException e) {
                throw new ProtocolException("invalid control frame");
            }
        }

        private Map<String, List<String>> headers(ByteBuffer compressed) throws ProtocolException {
            byte[] in = new byte[compressed.remaining()];
            compressed.get(in);
            inflater.setInput(in);
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            byte[] buf = new byte[1024];
            try {
                while (true) {
                    int n = inflater.inflate(buf);
                    if (n > 0) {
                        plain.write(buf, 0, n);
                        continue;
                    }
                    if (inflater.needsDictionary()) {
                        inflater.setDictionary(DICTIONARY);
                        continue;
                    }
                    if (inflater.needsInput() || inflater.finished()) {
                        break;
                    }
                }
            } catch (DataFormatException | IllegalArgumentException e) {
                throw new ProtocolException("header block: " + e.getMessage());
            }
            ByteBuffer b = ByteBuffer.wrap(plain.toByteArray());
            Map<String, List<String>> h = new LinkedHashMap<>();
            try {
                int count = b.getInt();
                for (int i = 0; i < count; i++) {
                    byte[] name = new byte[b.getInt()];
                    b.get(name);
                    byte[] value = new byte[b.getInt()];
                    b.get(value);
                    h.put(new String(name, StandardCharsets.UTF_8),
                            List.of(new String(value, StandardCharsets.UTF_8).split("\0", -1)));
                }
            } catch (java.nio.BufferUnderflowException | NegativeArraySizeException e) {
                throw new ProtocolException("header block too short");
            }
            return h;
        }
    }

    /** The peer broke the protocol: the connection ends (a GOAWAY with PROTOCOL_ERROR, as spdystream does). */
    static final class ProtocolException extends Exception {
        ProtocolException(String message) {
            super(message);
        }
    }
}
