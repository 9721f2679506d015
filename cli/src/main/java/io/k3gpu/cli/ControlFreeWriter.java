package io.k3gpu.cli;

import io.k3gpu.core.text.TerminalText;

import java.io.IOException;
import java.io.Writer;

/**
 * Passes text on without terminal control sequences ({@link TerminalText#strip}): what k3gpu prints holds text from
 * nodes and clusters (hostnames, journal lines, stderr, pod logs) that must not drive the user's terminal. A sequence
 * split over two writes loses its ESC, so its rest is printed as harmless text.
 */
final class ControlFreeWriter extends Writer {
    private final Writer out;

    ControlFreeWriter(Writer out) {
        this.out = out;
    }

    @Override
    public void write(char[] buf, int off, int len) throws IOException {
        out.write(TerminalText.strip(new String(buf, off, len)));
    }

    @Override
    public void write(String s, int off, int len) throws IOException {
        out.write(TerminalText.strip(s.substring(off, off + len)));
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
