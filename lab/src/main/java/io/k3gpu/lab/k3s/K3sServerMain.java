package io.k3gpu.lab.k3s;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -cp <lab jars> io.k3gpu.lab.k3s.K3sServerMain server [flags]}: what the lab's {@code k3s} program
 * execs for {@code k3s server}. Flags, config.yaml and {@code K3S_*} variables as K3s reads them (see
 * {@link K3sFlags}); logs in logrus format on stderr (or to {@code --log FILE}); runs until SIGTERM/SIGINT; exit 1
 * on a refused flag or a fatal start error, as K3s.
 */
public final class K3sServerMain {
    private K3sServerMain() {
    }

    public static void main(String[] args) {
        System.exit(run(Arrays.asList(args), System.err, true));
    }

    /** Runs {@code k3s server}; with {@code block} false returns 0 once started (tests). */
    static int run(List<String> args, PrintStream err, boolean block) {
        if (args.isEmpty() || !args.get(0).equals("server")) {
            err.println("Incorrect Usage: this program only runs \"k3s server\"");
            return 1;
        }
        List<String> rest = args.subList(1, args.size());
        if (rest.contains("--help") || rest.contains("-h")) {
            err.println("NAME:\n   k3s server - Run management server\n\nUSAGE:\n   k3s server [OPTIONS]");
            return 0;
        }
        K3sFlags.Parsed parsed;
        K3sServerOptions options;
        try {
            parsed = K3sFlags.parse(rest, System.getenv(), K3sServerMain::readIfExists);
            options = K3sFlags.toOptions(parsed);
        } catch (K3sFlags.UsageException e) {
            err.println("Incorrect Usage: " + e.getMessage());
            err.println();
            err.println("NAME:\n   k3s server - Run management server\n\nUSAGE:\n   k3s server [OPTIONS]");
            err.println(K3sLog.format(OffsetDateTime.now(Clock.systemUTC()), "fatal", e.getMessage()));
            return 1;
        }
        PrintStream logOut = err;
        String logFile = parsed.string("log");
        if (logFile != null) {
            try {
                Path p = Path.of(logFile);
                if (p.getParent() != null) {
                    Files.createDirectories(p.getParent());
                }
                OutputStream file = new FileOutputStream(p.toFile(), true);
                logOut = parsed.bool("alsologtostderr") ? new PrintStream(new TeeStream(file, err), true,
                        StandardCharsets.UTF_8) : new PrintStream(file, true, StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println(K3sLog.format(OffsetDateTime.now(Clock.systemUTC()), "fatal",
                        "failed to open log file " + logFile + ": " + e.getMessage()));
                return 1;
            }
        }
        options.logTo(logOut);
        // the lab's k3s launcher names its agent program: on a lab node the server runs it as its embedded agent
        String agentProgram = System.getenv("K3GPU_LAB_K3S_AGENT");
        if (agentProgram != null && Files.isRegularFile(Path.of(agentProgram))) {
            options.embeddedAgent(Path.of(agentProgram));
        }
        K3sServer server;
        try {
            server = K3sServer.start(options);
        } catch (K3sStartException e) {
            new K3sLog(logOut, Clock.systemDefaultZone(), false).fatal(e.getMessage());
            return 1;
        }
        if (!block) {
            server.close();
            return 0;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        PrintStream out = logOut;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            new K3sLog(out, Clock.systemDefaultZone(), false).info("Received SIGTERM, shutting down");
            server.close();
            stopped.countDown();
        }, "k3s-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static String readIfExists(Path p) {
        try {
            return Files.isRegularFile(p) ? Files.readString(p) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
