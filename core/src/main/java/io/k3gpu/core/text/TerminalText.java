package io.k3gpu.core.text;

/**
 * Text from a node made safe for a terminal: a hostname, an os-release field, a journal line or a stderr tail can hold
 * escape sequences that retitle the window, clear the screen, rewrite what was printed before or (in some terminals)
 * answer back as typed input. Everything but printable text, tab and newline is removed: whole ECMA-48 sequences
 * (CSI, OSC, DCS, SOS, PM, APC and two-character escapes, in their 7-bit and 8-bit forms) and every other C0/C1
 * control character and DEL.
 */
public final class TerminalText {
    private static final char ESC = 0x1b;
    private static final char BEL = 0x07;
    private static final char C1_DCS = 0x90;
    private static final char C1_SOS = 0x98;
    private static final char C1_CSI = 0x9b;
    private static final char C1_ST = 0x9c;
    private static final char C1_OSC = 0x9d;
    private static final char C1_PM = 0x9e;
    private static final char C1_APC = 0x9f;

    private TerminalText() {
    }

    /** {@code text} without control sequences and control characters (tab and newline kept); null stays null. */
    public static String strip(String text) {
        if (text == null || isClean(text)) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c == ESC && i + 1 < n) {
                char next = text.charAt(i + 1);
                if (next == '[') {
                    i = skipCsi(text, i + 2);
                } else if (next == ']' || next == 'P' || next == 'X' || next == '^' || next == '_') {
                    i = skipString(text, i + 2);
                } else {
                    i = skipEscape(text, i + 1);
                }
            } else if (c == C1_CSI) {
                i = skipCsi(text, i + 1);
            } else if (c == C1_OSC || c == C1_DCS || c == C1_SOS || c == C1_PM || c == C1_APC) {
                i = skipString(text, i + 1);
            } else {
                if (!isControl(c)) {
                    out.append(c);
                }
                i++;
            }
        }
        return out.toString();
    }

    private static boolean isClean(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (isControl(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isControl(char c) {
        return (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7f && c <= 0x9f);
    }

    /** After CSI: parameter bytes, intermediate bytes, one final byte; an unfinished sequence runs to its end. */
    private static int skipCsi(String s, int i) {
        while (i < s.length() && s.charAt(i) >= 0x30 && s.charAt(i) <= 0x3f) {
            i++;
        }
        while (i < s.length() && s.charAt(i) >= 0x20 && s.charAt(i) <= 0x2f) {
            i++;
        }
        return i < s.length() && s.charAt(i) >= 0x40 && s.charAt(i) <= 0x7e ? i + 1 : i;
    }

    /** After OSC, DCS, SOS, PM or APC: everything up to BEL or ST (ESC \ or the C1 ST), or to the end. */
    private static int skipString(String s, int i) {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == BEL || c == C1_ST) {
                return i + 1;
            }
            if (c == ESC) {
                return i + 1 < s.length() && s.charAt(i + 1) == '\\' ? i + 2 : i;
            }
            i++;
        }
        return i;
    }

    /** After a lone ESC: intermediate bytes and one final byte (ESC c, ESC 7, ESC ( B ...). */
    private static int skipEscape(String s, int i) {
        while (i < s.length() && s.charAt(i) >= 0x20 && s.charAt(i) <= 0x2f) {
            i++;
        }
        return i < s.length() && s.charAt(i) >= 0x30 && s.charAt(i) <= 0x7e ? i + 1 : i;
    }
}
