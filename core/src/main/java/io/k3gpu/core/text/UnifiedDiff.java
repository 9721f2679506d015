package io.k3gpu.core.text;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Unified diffs in the format of {@code diff -u} (without timestamps), for showing a planned file edit before it is
 * made.
 *
 * <p>A diff is not unique: several edit scripts of the same length can turn one text into another. So that a user
 * sees the same hunks their own {@code diff -u} prints, the steps follow GNU diff's approach: set aside the common
 * prefix and suffix (keeping the context lines), take lines without any match in the other file out of the search,
 * find a shortest edit script with Myers' linear-space bidirectional search, then slide each run of changes over
 * identical neighbouring lines so runs merge and otherwise sit as late as possible.
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
        int prefix = 0;
        while (prefix < a.size() && prefix < b.size() && a.get(prefix).equals(b.get(prefix))) {
            prefix++;
        }
        int suffix = 0;
        while (suffix < a.size() - prefix && suffix < b.size() - prefix
                && a.get(a.size() - 1 - suffix).equals(b.get(b.size() - 1 - suffix))) {
            suffix++;
        }
        // Changes may slide into the context lines of the common ends, no further.
        int from = prefix - Math.min(prefix, context);
        int keptSuffix = Math.min(suffix, context);
        Comparison comparison = new Comparison(a.subList(from, a.size() - suffix + keptSuffix),
                b.subList(from, b.size() - suffix + keptSuffix));
        comparison.run();
        boolean[] changedA = new boolean[a.size()];
        boolean[] changedB = new boolean[b.size()];
        comparison.copyChanges(changedA, changedB, from);
        return render(oldName, a, newName, b, blocks(changedA, changedB), context);
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

    /** Which lines of two line lists are deleted and inserted. */
    private static final class Comparison {
        private final int[] classesA;
        private final int[] classesB;
        /** Indexed from 1, with an unchanged sentinel at each end, so runs can be scanned without bounds checks. */
        private final boolean[] changedA;
        private final boolean[] changedB;
        private int[] searchA;
        private int[] searchB;
        private int[] realA;
        private int[] realB;
        private int[] forward;
        private int[] backward;
        private int diagonalOffset;

        Comparison(List<String> a, List<String> b) {
            Map<String, Integer> ids = new HashMap<>();
            classesA = new int[a.size()];
            classesB = new int[b.size()];
            for (int i = 0; i < classesA.length; i++) {
                classesA[i] = ids.computeIfAbsent(a.get(i), k -> ids.size());
            }
            for (int i = 0; i < classesB.length; i++) {
                classesB[i] = ids.computeIfAbsent(b.get(i), k -> ids.size());
            }
            changedA = new boolean[a.size() + 2];
            changedB = new boolean[b.size() + 2];
        }

        void run() {
            int classes = 0;
            for (int c : classesA) {
                classes = Math.max(classes, c + 1);
            }
            for (int c : classesB) {
                classes = Math.max(classes, c + 1);
            }
            int[] countA = new int[classes];
            int[] countB = new int[classes];
            for (int c : classesA) {
                countA[c]++;
            }
            for (int c : classesB) {
                countB[c]++;
            }
            byte[] dropA = discardable(classesA, countB);
            byte[] dropB = discardable(classesB, countA);
            searchA = kept(classesA, dropA, changedA, true);
            realA = kept(classesA, dropA, changedA, false);
            searchB = kept(classesB, dropB, changedB, true);
            realB = kept(classesB, dropB, changedB, false);
            diagonalOffset = searchB.length + 1;
            forward = new int[searchA.length + searchB.length + 3];
            backward = new int[forward.length];
            compare(0, searchA.length, 0, searchB.length);
            shiftBoundaries(classesA, changedA, changedB);
            shiftBoundaries(classesB, changedB, changedA);
        }

        void copyChanges(boolean[] a, boolean[] b, int at) {
            System.arraycopy(changedA, 1, a, at, classesA.length);
            System.arraycopy(changedB, 1, b, at, classesB.length);
        }

        /**
         * 1 for a line with no match in the other file (it is certainly changed), 2 for a line with very many
         * matches that only stays out of the search inside a run of such lines; 0 for a line the search sees.
         */
        private static byte[] discardable(int[] classes, int[] otherCounts) {
            int n = classes.length;
            int many = 5;
            for (int t = n / 64; (t >>= 2) > 0; ) {
                many *= 2;
            }
            byte[] drop = new byte[n];
            for (int i = 0; i < n; i++) {
                int matches = otherCounts[classes[i]];
                drop[i] = (byte) (matches == 0 ? 1 : matches > many ? 2 : 0);
            }
            for (int i = 0; i < n; i++) {
                if (drop[i] == 2) {
                    drop[i] = 0;
                } else if (drop[i] == 1) {
                    int end = i;
                    int provisional = 0;
                    while (end < n && drop[end] != 0) {
                        provisional += drop[end] == 2 ? 1 : 0;
                        end++;
                    }
                    while (end > i && drop[end - 1] == 2) {
                        drop[--end] = 0;
                        provisional--;
                    }
                    int length = end - i;
                    if (provisional * 4 > length) {
                        for (int k = i; k < end; k++) {
                            drop[k] = drop[k] == 2 ? 0 : drop[k];
                        }
                    } else {
                        keepLongProvisionalRuns(drop, i, length);
                        keepProvisionalEdges(drop, i, length, 1);
                        i += length - 1;
                        keepProvisionalEdges(drop, i, length, -1);
                    }
                }
            }
            return drop;
        }

        /** Within a run, a stretch of at least about sqrt(length/4) provisional lines goes back into the search. */
        private static void keepLongProvisionalRuns(byte[] drop, int start, int length) {
            int minimum = 1;
            for (int t = length >> 2; (t >>= 2) > 0; ) {
                minimum <<= 1;
            }
            minimum++;
            int consecutive = 0;
            for (int k = 0; k < length; k++) {
                if (drop[start + k] != 2) {
                    consecutive = 0;
                } else if (++consecutive == minimum) {
                    k -= consecutive;
                } else if (consecutive > minimum) {
                    drop[start + k] = 0;
                }
            }
        }

        /**
         * From one end of a run, provisional lines go back into the search until three certain lines in a row, or
         * a certain line at least eight lines in.
         */
        private static void keepProvisionalEdges(byte[] drop, int edge, int length, int step) {
            int consecutive = 0;
            for (int k = 0; k < length; k++) {
                int i = edge + step * k;
                if (k >= 8 && drop[i] == 1) {
                    break;
                }
                if (drop[i] == 2) {
                    consecutive = 0;
                    drop[i] = 0;
                } else if (drop[i] == 0) {
                    consecutive = 0;
                } else {
                    consecutive++;
                }
                if (consecutive == 3) {
                    break;
                }
            }
        }

        /** The classes (or, with {@code classes} false, the indexes) of the lines the search sees. */
        private static int[] kept(int[] lineClasses, byte[] drop, boolean[] changed, boolean classes) {
            int[] out = new int[lineClasses.length];
            int n = 0;
            for (int i = 0; i < lineClasses.length; i++) {
                if (drop[i] == 0) {
                    out[n++] = classes ? lineClasses[i] : i;
                } else {
                    changed[i + 1] = true;
                }
            }
            return java.util.Arrays.copyOf(out, n);
        }

        /** Marks a shortest edit script between searchA[xoff, xlim) and searchB[yoff, ylim). */
        private void compare(int xoff, int xlim, int yoff, int ylim) {
            while (xoff < xlim && yoff < ylim && searchA[xoff] == searchB[yoff]) {
                xoff++;
                yoff++;
            }
            while (xoff < xlim && yoff < ylim && searchA[xlim - 1] == searchB[ylim - 1]) {
                xlim--;
                ylim--;
            }
            if (xoff == xlim) {
                for (int y = yoff; y < ylim; y++) {
                    changedB[realB[y] + 1] = true;
                }
            } else if (yoff == ylim) {
                for (int x = xoff; x < xlim; x++) {
                    changedA[realA[x] + 1] = true;
                }
            } else {
                long middle = middleSnake(xoff, xlim, yoff, ylim);
                int xmid = (int) (middle >>> 32);
                int ymid = (int) middle;
                compare(xoff, xmid, yoff, ymid);
                compare(xmid, xlim, ymid, ylim);
            }
        }

        /**
         * Myers' bidirectional search for the middle of a shortest edit script; returns x in the high and y in the
         * low 32 bits. Both ends of the ranges are known to differ.
         */
        private long middleSnake(int xoff, int xlim, int yoff, int ylim) {
            int[] fd = forward;
            int[] bd = backward;
            int o = diagonalOffset;
            int dmin = xoff - ylim;
            int dmax = xlim - yoff;
            int fmid = xoff - yoff;
            int bmid = xlim - ylim;
            int fmin = fmid;
            int fmax = fmid;
            int bmin = bmid;
            int bmax = bmid;
            boolean odd = ((fmid - bmid) & 1) != 0;
            fd[o + fmid] = xoff;
            bd[o + bmid] = xlim;
            while (true) {
                if (fmin > dmin) {
                    fd[o + --fmin - 1] = -1;
                } else {
                    fmin++;
                }
                if (fmax < dmax) {
                    fd[o + ++fmax + 1] = -1;
                } else {
                    fmax--;
                }
                for (int d = fmax; d >= fmin; d -= 2) {
                    int below = fd[o + d - 1];
                    int above = fd[o + d + 1];
                    int x = below < above ? above : below + 1;
                    int y = x - d;
                    while (x < xlim && y < ylim && searchA[x] == searchB[y]) {
                        x++;
                        y++;
                    }
                    fd[o + d] = x;
                    if (odd && bmin <= d && d <= bmax && bd[o + d] <= x) {
                        return ((long) x << 32) | (y & 0xFFFFFFFFL);
                    }
                }
                if (bmin > dmin) {
                    bd[o + --bmin - 1] = Integer.MAX_VALUE;
                } else {
                    bmin++;
                }
                if (bmax < dmax) {
                    bd[o + ++bmax + 1] = Integer.MAX_VALUE;
                } else {
                    bmax--;
                }
                for (int d = bmax; d >= bmin; d -= 2) {
                    int below = bd[o + d - 1];
                    int above = bd[o + d + 1];
                    int x = below < above ? below : above - 1;
                    int y = x - d;
                    while (x > xoff && y > yoff && searchA[x - 1] == searchB[y - 1]) {
                        x--;
                        y--;
                    }
                    bd[o + d] = x;
                    if (!odd && fmin <= d && d <= fmax && x <= fd[o + d]) {
                        return ((long) x << 32) | (y & 0xFFFFFFFFL);
                    }
                }
            }
        }

        /**
         * Slides each run of changed lines over identical neighbours: back as far as it merges with earlier runs,
         * forward as far as it can, then back again to the last place where it lines up with a change in the other
         * file. {@code otherPos} tracks the unchanged line of the other file paired with position {@code end}.
         */
        private static void shiftBoundaries(int[] classes, boolean[] changed, boolean[] other) {
            int n = classes.length;
            int end = 0;
            int otherPos = 0;
            while (true) {
                while (end < n && !changed[end + 1]) {
                    while (other[1 + otherPos++]) {
                        // skip the other file's changes that sit at this unchanged line
                    }
                    end++;
                }
                if (end == n) {
                    return;
                }
                int start = end;
                while (changed[1 + ++end]) {
                    // find the end of the run
                }
                while (other[1 + otherPos]) {
                    otherPos++;
                }
                int runLength;
                int aligned;
                do {
                    runLength = end - start;
                    while (start > 0 && classes[start - 1] == classes[end - 1]) {
                        changed[1 + --start] = true;
                        changed[1 + --end] = false;
                        while (changed[start]) {
                            start--;
                        }
                        while (other[1 + --otherPos]) {
                            // step back over the other file's changes
                        }
                    }
                    aligned = other[otherPos] ? end : n;
                    while (end != n && classes[start] == classes[end]) {
                        changed[1 + start++] = false;
                        changed[1 + end++] = true;
                        while (changed[1 + end]) {
                            end++;
                        }
                        while (other[1 + ++otherPos]) {
                            aligned = end;
                        }
                    }
                } while (runLength != end - start);
                while (aligned < end) {
                    changed[1 + --start] = true;
                    changed[1 + --end] = false;
                    while (other[1 + --otherPos]) {
                        // step back over the other file's changes
                    }
                }
            }
        }
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
