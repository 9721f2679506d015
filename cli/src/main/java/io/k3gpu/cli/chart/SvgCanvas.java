package io.k3gpu.cli.chart;

import java.awt.Color;
import java.util.Locale;

/** An SVG document written by hand (no library): the same drawing as {@link PngCanvas}, as vector text. */
final class SvgCanvas implements Canvas {
    private final StringBuilder sb = new StringBuilder();

    SvgCanvas(int width, int height) {
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"")
                .append(height).append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n");
    }

    String finish() {
        return sb.append("</svg>\n").toString();
    }

    @Override
    public void rect(double x, double y, double w, double h, Color fill, Color stroke) {
        sb.append("<rect x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" width=\"").append(f(w))
                .append("\" height=\"").append(f(h)).append("\" fill=\"").append(fill == null ? "none" : hex(fill))
                .append('"');
        if (stroke != null) {
            sb.append(" stroke=\"").append(hex(stroke)).append('"');
        }
        sb.append("/>\n");
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color color, float width, boolean dashed) {
        sb.append("<line x1=\"").append(f(x1)).append("\" y1=\"").append(f(y1)).append("\" x2=\"").append(f(x2))
                .append("\" y2=\"").append(f(y2)).append('"');
        stroke(color, width, dashed);
        sb.append("/>\n");
    }

    @Override
    public void polyline(double[] xs, double[] ys, int n, Color color, float width, boolean dashed) {
        StringBuilder d = new StringBuilder();
        boolean pen = false;
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(ys[i])) {
                pen = false;
                continue;
            }
            d.append(pen ? 'L' : 'M').append(f(xs[i])).append(',').append(f(ys[i]));
            pen = true;
        }
        if (d.length() == 0) {
            return;
        }
        sb.append("<path d=\"").append(d).append("\" fill=\"none\" stroke-linejoin=\"round\"");
        stroke(color, width, dashed);
        sb.append("/>\n");
    }

    private void stroke(Color color, float width, boolean dashed) {
        sb.append(" stroke=\"").append(hex(color)).append("\" stroke-width=\"").append(f(width)).append('"');
        if (dashed) {
            sb.append(" stroke-dasharray=\"6,4\"");
        }
    }

    @Override
    public void text(String s, double x, double y, float size, Color color, Align align, boolean bold) {
        sb.append("<text x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" font-size=\"").append(f(size))
                .append("\" fill=\"").append(hex(color)).append('"');
        if (align != Align.LEFT) {
            sb.append(" text-anchor=\"").append(align == Align.CENTER ? "middle" : "end").append('"');
        }
        if (bold) {
            sb.append(" font-weight=\"bold\"");
        }
        sb.append('>').append(escape(s)).append("</text>\n");
    }

    /** DejaVu Sans averages a little over half an em per character. */
    @Override
    public double textWidth(String s, float size, boolean bold) {
        return s.length() * size * (bold ? 0.63 : 0.58);
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                default -> out.append(c < 0x20 ? ' ' : c);
            }
        }
        return out.toString();
    }

    private static String hex(Color c) {
        return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }

    private static String f(double v) {
        if (v == Math.rint(v)) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
