package io.k3gpu.cli;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The streams, stdin and environment of one run; the only place commands read secrets from. */
public final class Terminal {
    private final PrintWriter out;
    private final PrintWriter err;
    private final PrintWriter screen;
    private final OutputStream stdout;
    private final InputStream in;
    private final Map<String, String> env;
    private BufferedReader stdinLines;

    /** {@code out} and {@code err} as given; {@link #out()} and {@link #err()} print them without control sequences. */
    Terminal(PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env) {
        this(out, err, null, in, env);
    }

    /** As above, with the process's standard output as bytes for {@link #outBytes()} (null: through {@code out}). */
    Terminal(PrintWriter out, PrintWriter err, OutputStream stdout, InputStream in, Map<String, String> env) {
        this.out = new PrintWriter(new ControlFreeWriter(out));
        this.err = new PrintWriter(new ControlFreeWriter(err));
        this.screen = out;
        this.stdout = stdout;
        this.in = in;
        this.env = env;
    }

    /** Standard output; control sequences in what is printed (from nodes, from the cluster) are removed. */
    public PrintWriter out() {
        return out;
    }

    /**
     * Standard output as is, for the views that draw with escape sequences (the live stats view, apply's live
     * progress); they strip the remote text they draw themselves.
     */
    public PrintWriter screen() {
        return screen;
    }

    /**
     * Standard output as UTF-8 bytes, unbuffered, for bulk output ({@code stats parse} writes hundreds of megabytes:
     * the char writers and the control-sequence filter of {@link #out()} cost more than its parsing). What is
     * written must already be free of control sequences (escaped as JSON, or {@link
     * io.k3gpu.core.text.TerminalText#strip stripped}). Text printed on {@link #out()} before is flushed first.
     */
    public OutputStream outBytes() {
        out.flush();
        screen.flush();
        return stdout != null ? stdout : new DecodingOutputStream(screen);
    }

    /** Bytes to a writer, as UTF-8 (a character split between two writes is kept whole): for in-process runs. */
    private static final class DecodingOutputStream extends OutputStream {
        private final Writer writer;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private final ByteBuffer bytes = ByteBuffer.allocate(8192);
        private final CharBuffer chars = CharBuffer.allocate(8192);

        DecodingOutputStream(Writer writer) {
            this.writer = writer;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, bytes.remaining());
                bytes.put(b, off, n);
                off += n;
                len -= n;
                bytes.flip();
                do {
                    chars.clear();
                    decoder.decode(bytes, chars, false);
                    writer.write(chars.array(), 0, chars.position());
                } while (chars.position() > 0 && bytes.hasRemaining());
                bytes.compact();
            }
        }

        @Override
        public void flush() throws IOException {
            writer.flush();
        }
    }

    /** Standard error; control sequences are removed as on {@link #out()}. */
    public PrintWriter err() {
        return err;
    }

    /** Standard input, for commands that read data from it (e.g. {@code stats parse -}). */
    public InputStream in() {
        return in;
    }

    public String env(String name) {
        return env.get(name);
    }

    /** Reads one line of stdin as a secret (for --password-stdin and --sudo-password-stdin). */
    public char[] secretFromStdin(String flag) {
        try {
            if (stdinLines == null) {
                stdinLines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            }
            String line = stdinLines.readLine();
            if (line == null || line.isEmpty()) {
                throw new K3gpuException(ExitCode.USAGE, flag + " was given but stdin held no password",
                        "pipe the password in, e.g. printf '%s\\n' \"$PASS\" | k3gpu ... " + flag);
            }
            return line.toCharArray();
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.USAGE, "cannot read stdin for " + flag + ": " + e.getMessage(), null);
        }
    }

    /** Asks for a secret on the console without echo; null when there is no console. */
    public char[] prompt(String question) {
        Console console = System.console();
        return console == null ? null : console.readPassword("%s", question);
    }

    /** Rows and columns of the user's terminal. */
    public record Size(int rows, int columns) {
    }

    /**
     * Whether standard output is an interactive terminal that can be redrawn: a console whose output is a terminal,
     * and a TERM other than dumb. The one TTY test every command uses.
     */
    public boolean interactive() {
        String term = env("TERM");
        return isTerminal(System.console()) && term != null && !"dumb".equals(term);
    }

    /**
     * On JDK 22 and later System.console() is non-null even when output is redirected, and
     * {@code Console.isTerminal()} (added in 22) tells; before 22 a non-null console means stdin and stdout are a
     * terminal. Called reflectively: the jar is built for Java 17.
     */
    static boolean isTerminal(Console console) {
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    /** $LINES / $COLUMNS when set, else what stty says about the terminal, else 24 x 100. */
    public Size size() {
        int rows = 24;
        int cols = 100;
        String l = env("LINES");
        String c = env("COLUMNS");
        if (l == null || !l.matches("\\d+") || c == null || !c.matches("\\d+")) {
            try {
                Process p = new ProcessBuilder("sh", "-c", "stty size < /dev/tty").redirectErrorStream(true).start();
                String[] f = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+");
                if (p.waitFor(1, TimeUnit.SECONDS) && f.length == 2 && f[0].matches("\\d+") && f[1].matches("\\d+")) {
                    rows = Integer.parseInt(f[0]);
                    cols = Integer.parseInt(f[1]);
                }
            } catch (IOException e) {
                // no terminal to ask: the defaults
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new Size(l != null && l.matches("\\d+") ? Integer.parseInt(l) : rows,
                c != null && c.matches("\\d+") ? Integer.parseInt(c) : cols);
    }

    /** Whether the locale's charset is UTF-8 (LC_ALL, then LC_CTYPE, then LANG), so box drawing can be used. */
    public boolean unicode() {
        for (String name : new String[] {"LC_ALL", "LC_CTYPE", "LANG"}) {
            String v = env(name);
            if (v != null && !v.isEmpty()) {
                String u = v.toUpperCase(java.util.Locale.ROOT);
                return u.contains("UTF-8") || u.contains("UTF8");
            }
        }
        return false;
    }
}
