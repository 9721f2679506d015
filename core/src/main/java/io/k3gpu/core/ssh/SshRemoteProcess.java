package io.k3gpu.core.ssh;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.remote.LineSplitter;
import io.k3gpu.core.remote.RemoteProcess;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.session.ClientSession;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/** A command streaming on its own exec channel of an SSH session (see {@link SshRemoteShell#start}). */
final class SshRemoteProcess implements RemoteProcess {
    private final String host;
    private final ClientSession session;
    private final ChannelExec channel;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicBoolean stopping = new AtomicBoolean();

    SshRemoteProcess(String host, ClientSession session, ChannelExec channel, LineSplitter out, LineSplitter err) {
        this.host = host;
        this.session = session;
        this.channel = channel;
        channel.addCloseFutureListener(f -> {
            out.close();
            err.close();
            Integer status = channel.getExitStatus();
            String signal = channel.getExitSignal();
            if (status != null) {
                exit.complete(status);
            } else if (signal != null) {
                exit.complete(128 + SshRemoteShell.signalNumber(signal));
            } else if (!stopping.get() && !session.isOpen()) {
                exit.completeExceptionally(new K3gpuException(ExitCode.SSH,
                        "the SSH connection to " + host + " was lost", "check the node and the network"));
            } else {
                exit.complete(NO_STATUS);
            }
        });
    }

    @Override
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    @Override
    public void stop(Duration grace) {
        if (stopping.compareAndSet(false, true) && channel.isOpen()) {
            try {
                // EOF on the command's stdin: the telemetry wrapper kills its command when it reads that.
                channel.getInvertedIn().close();
            } catch (IOException | RuntimeException e) {
                // the channel is closing already
            }
        }
        try {
            exit.get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            closeChannel();
        } catch (ExecutionException e) {
            // the connection was lost: nothing left to stop
        } catch (InterruptedException e) {
            channel.close(true);
            Thread.currentThread().interrupt();
        }
    }

    private void closeChannel() {
        try {
            channel.close(false).await(Duration.ofSeconds(2));
        } catch (IOException e) {
            // closed below
        }
        if (!exit.isDone()) {
            channel.close(true);
        }
    }

    @Override
    public String toString() {
        return "SshRemoteProcess[" + host + ", open=" + channel.isOpen() + ", session open=" + session.isOpen() + "]";
    }
}
