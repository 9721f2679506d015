package io.k3gpu.lab.k3s;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

/**
 * The lab's own protocol between the API server and a node's kubelet for exec, attach and port-forward (a real
 * kube-apiserver speaks SPDY or WebSocket to the kubelet; what kubectl sees does not depend on this hop): over TLS to
 * the kubelet port, {@code POST /exec|/attach/<ns>/<pod>/<container>?<the API request's query>} or
 * {@code POST /portForward/<ns>/<pod>?port=<n>} with {@code Upgrade: k3gpu-lab-stream}; {@code 101} then frames both
 * ways, {@code [channel:1][length:4 big-endian][bytes]}, on remotecommand v5's channels (0 stdin, 1 stdout, 2 stderr,
 * 3 status: the metav1.Status JSON kubelet's exec writes, 4 resize, 255 close: the byte of the channel closed); for
 * port-forward 0 is to the pod, 1 from it, 3 the kubelet's error text. Any other answer is a refusal: its status and
 * body (the kubelet's message) reach {@link Refused}.
 */
final class KubeletStream {
    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;
    static final int STATUS = 3;
    static final int RESIZE = 4;
    static final int CLOSE = 255;

    /** The kubelet answered the upgrade with something else. */
    static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final NetSocket socket;
    private Buffer pending = Buffer.buffer();
    private BiConsumer<Integer, byte[]> handler = (c, b) -> { };
    private Runnable end = () -> { };
    private boolean ended;
    private boolean finished;

    private KubeletStream(NetSocket socket) {
        this.socket = socket;
    }

    /** Connects and upgrades; fails with {@link Refused} or the connection's error. */
    static Future<KubeletStream> open(NetClient client, String host, int port, String uri) {
        Promise<KubeletStream> result = Promise.promise();
        client.connect(port, host).onFailure(result::tryFail).onSuccess(socket -> {
            Buffer head = Buffer.buffer();
            KubeletStream[] stream = new KubeletStream[1];
            @SuppressWarnings("unchecked")
            java.util.function.Supplier<Refused>[] refusal = new java.util.function.Supplier[1];
            socket.handler(chunk -> {
                if (stream[0] != null) {
                    stream[0].onBytes(chunk);
                    return;
                }
                head.appendBuffer(chunk);
                String text = head.toString(StandardCharsets.ISO_8859_1);
                int endOfHead = text.indexOf("\r\n\r\n");
                if (endOfHead < 0) {
                    return;
                }
                String[] status = text.substring(0, text.indexOf("\r\n")).split(" ", 3);
                int code = status.length > 1 && status[1].matches("\\d{3}") ? Integer.parseInt(status[1]) : 500;
                if (code != 101) {
                    // a refusal comes with Connection: close: its body is what is left until the end
                    Buffer body = head.getBuffer(endOfHead + 4, head.length());
                    socket.handler(body::appendBuffer);
                    refusal[0] = () -> new Refused(code, body.toString(StandardCharsets.UTF_8).strip());
                    return;
                }
                stream[0] = new KubeletStream(socket);
                Buffer rest = head.getBuffer(endOfHead + 4, head.length());
                result.tryComplete(stream[0]);
                if (rest.length() > 0) {
                    stream[0].onBytes(rest);
                }
            });
            socket.exceptionHandler(e -> result.tryFail(e));
            socket.closeHandler(v -> {
                if (stream[0] != null) {
                    stream[0].finish();
                } else {
                    result.tryFail(refusal[0] != null ? refusal[0].get()
                            : new Refused(502, "the kubelet closed the connection"));
                }
            });
            socket.write("POST " + uri + " HTTP/1.1\r\nHost: " + host + ":" + port
                    + "\r\nConnection: Upgrade\r\nUpgrade: k3gpu-lab-stream\r\nContent-Length: 0\r\n\r\n");
        });
        return result.future();
    }

    /** Frames from the kubelet: (channel, bytes). */
    KubeletStream handler(BiConsumer<Integer, byte[]> h) {
        this.handler = h;
        return this;
    }

    /** When the kubelet ends the stream (after its status, or when the pod's connection closed). */
    KubeletStream endHandler(Runnable r) {
        this.end = r;
        return this;
    }

    void send(int channel, byte[] data) {
        if (!ended) {
            socket.write(Buffer.buffer(frame(channel, data)));
        }
    }

    void closeChannel(int channel) {
        send(CLOSE, new byte[] {(byte) channel});
    }

    void close() {
        if (!ended) {
            ended = true;
            socket.close();
        }
    }

    static byte[] frame(int channel, byte[] data) {
        return ByteBuffer.allocate(5 + data.length).put((byte) channel).putInt(data.length).put(data).array();
    }

    private void onBytes(Buffer chunk) {
        pending = pending.length() == 0 ? chunk.copy() : pending.appendBuffer(chunk);
        int at = 0;
        while (pending.length() - at >= 5) {
            int len = pending.getInt(at + 1);
            if (pending.length() - at < 5 + len) {
                break;
            }
            int channel = pending.getUnsignedByte(at);
            byte[] data = pending.getBytes(at + 5, at + 5 + len);
            at += 5 + len;
            handler.accept(channel, data);
        }
        pending = at == pending.length() ? Buffer.buffer() : pending.getBuffer(at, pending.length());
    }

    private void finish() {
        if (!finished) {
            finished = true;
            ended = true;
            end.run();
        }
    }
}
