package io.k3gpu.core.ssh;

import org.apache.sshd.agent.SshAgent;
import org.apache.sshd.agent.SshAgentFactory;
import org.apache.sshd.agent.SshAgentServer;
import org.apache.sshd.agent.common.AbstractAgentProxy;
import org.apache.sshd.common.FactoryManager;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * An ssh-agent client over the agent's Unix socket (SSH_AUTH_SOCK), using the JDK's Unix domain sockets, so agent
 * keys are tried after the key files without any native library. Only the client side: no agent forwarding.
 */
final class UnixSocketSshAgent extends AbstractAgentProxy {
    private final SocketChannel channel;

    private UnixSocketSshAgent(SocketChannel channel) {
        super(null);
        this.channel = channel;
    }

    @Override
    protected synchronized Buffer request(Buffer buffer) throws IOException {
        channel.write(ByteBuffer.wrap(buffer.array(), buffer.rpos(), buffer.available()));
        ByteBuffer len = ByteBuffer.allocate(4);
        readFully(len);
        int n = len.flip().getInt();
        if (n <= 0 || n > 256 * 1024) {
            throw new IOException("bad ssh-agent answer length " + n);
        }
        ByteBuffer payload = ByteBuffer.allocate(n);
        readFully(payload);
        return new ByteArrayBuffer(payload.array());
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("ssh-agent closed the connection");
            }
        }
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
        try {
            super.close();
        } finally {
            channel.close();
        }
    }

    /** A factory for the agent at {@code socket}, or null when there is no usable socket. */
    static SshAgentFactory factoryFor(String socket) {
        if (socket == null || socket.isEmpty() || !Files.exists(Path.of(socket))) {
            return null;
        }
        return new SshAgentFactory() {
            @Override
            public List<ChannelFactory> getChannelForwardingFactories(FactoryManager manager) {
                return List.of();
            }

            @Override
            public SshAgent createClient(Session session, FactoryManager manager) throws IOException {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(socket));
                return new UnixSocketSshAgent(ch);
            }

            @Override
            public SshAgentServer createServer(ConnectionService service) {
                throw new UnsupportedOperationException("k3gpu does not forward its ssh-agent");
            }
        };
    }
}
