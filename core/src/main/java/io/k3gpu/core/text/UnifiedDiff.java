package io.k3gpu.core.text;

import com.github.difflib.DiffUtils;
import com.github.difflib.patch.AbstractDelta;

import java.util.ArrayList;
import java.util.List;

/**
 * Unified diffs in the format of {@code diff -u} (without timestamps), for showing a planned file edit before it is
 * made.
 *
 * <p>java-diff-utils finds the changed lines (Myers' algorithm); this class renders them as GNU diff does: hunks
 * joined when at most 2 x context lines apart, GNU's ranges ({@code -0,0} for none, {@code -5} for one line) and the
 * {@code \ No newline at end of file} marker, so that {@code patch} applies the preview. Where several shortest
 * edit scripts exist, the hunks may differ from GNU diff's own choice; they are still a valid {@code diff -u}.
 */
public final class UnifiedDiff {
    private static final String NO_NEWLINE = "\\ No newline at end of file\n";

    private UnifiedDiff() {
    }

    /**
     * The {@code diff -u} text that turns {@code oldText} into {@code newText}, or the empty string when they are
     * equal. A null text counts as empty (a file that does not exist yet).
     *
     * @param context the number of unchanged lines shown around each change ({@code diff -u} uses 3)
     */
    public static String diff(String oldName, String oldText, String newName, String newText, int context) {
        if (context < 0) {
            throw new IllegalArgumentException("context must be >= 0, was " + context);
        }
        List<String> a = lines(oldText == null ? "" : oldText);
        List<String> b = lines(newText == null ? "" : newText);
        if (a.equals(b)) {
            return "";
        }
        boolean[] changedA = new boolean[a.size()];
        boolean[] changedB = new boolean[b.size()];
        for (AbstractDelta<String> delta : DiffUtils.diff(a, b).getDeltas()) {
            mark(changedA, delta.getSource().getPosition(), delta.getSource().size());
            mark(changedB, delta.getTarget().getPosition(), delta.getTarget().size());
        }
        return render(oldName, a, newName, b, blocks(changedA, changedB), context);
    }

    private static void mark(boolean[] changed, int from, int count) {
        for (int i = from; i < from + count; i++) {
            changed[i] = true;
        }
    }

    /** Lines with their terminator; a last line without one is kept apart so it never equals a terminated line. */
    private static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            if (nl < 0) {
                out.add(text.substring(start));
                break;
            }
            out.add(text.substring(start, nl + 1));
            start = nl + 1;
        }
        return out;
    }

    /** A change: old lines [a0, a1) replaced by new lines [b0, b1). */
    private record Block(int a0, int a1, int b0, int b1) {
    }

    private static List<Block> blocks(boolean[] changedA, boolean[] changedB) {
        List<Block> out = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < changedA.length || j < changedB.length) {
            if (i < changedA.length && j < changedB.length && !changedA[i] && !changedB[j]) {
                i++;
                j++;
                continue;
            }
            int a0 = i;
            int b0 = j;
            while (i < changedA.length && changedA[i]) {
                i++;
            }
            while (j < changedB.length && changedB[j]) {
                j++;
            }
            out.add(new Block(a0, i, b0, j));
        }
        return out;
    }

    private static String render(String oldName, List<String> a, String newName, List<String> b, List<Block> blocks,
            int context) {
        StringBuilder out = new StringBuilder();
        out.append("--- ").append(oldName).append('\n');
        out.append("+++ ").append(newName).append('\n');
        int first = 0;
        while (first < blocks.size()) {
            int last = first;
            while (last + 1 < blocks.size() && blocks.get(last + 1).a0() - blocks.get(last).a1() <= 2 * context) {
                last++;
            }
            Block head = blocks.get(first);
            Block tail = blocks.get(last);
            int lead = Math.min(context, head.a0());
            int trail = Math.min(context, a.size() - tail.a1());
            int aStart = head.a0() - lead;
            int aEnd = tail.a1() + trail;
            int bStart = head.b0() - lead;
            int bEnd = tail.b1() + trail;
            out.append("@@ -").append(range(aStart, aEnd - aStart)).append(" +").append(range(bStart, bEnd - bStart))
                    .append(" @@\n");
            int i = aStart;
            for (int k = first; k <= last; k++) {
                Block block = blocks.get(k);
                for (; i < block.a0(); i++) {
                    line(out, ' ', a.get(i));
                }
                for (int x = block.a0(); x < block.a1(); x++) {
                    line(out, '-', a.get(x));
                }
                for (int y = block.b0(); y < block.b1(); y++) {
                    line(out, '+', b.get(y));
                }
                i = block.a1();
            }
            for (; i < aEnd; i++) {
                line(out, ' ', a.get(i));
            }
            first = last + 1;
        }
        return out.toString();
    }

    /** GNU's unified range: {@code start,count}, just {@code start} for one line, the line before for none. */
    private static String range(int start, int count) {
        if (count == 0) {
            return start + ",0";
        }
        if (count == 1) {
            return Integer.toString(start + 1);
        }
        return (start + 1) + "," + count;
    }

    private static void line(StringBuilder out, char prefix, String line) {
        out.append(prefix).append(line);
        if (!line.endsWith("\n")) {
            out.append('\n').append(NO_NEWLINE);
        }
    }
}
