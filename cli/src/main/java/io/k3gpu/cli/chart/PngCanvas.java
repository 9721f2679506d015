package io.k3gpu.cli.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;

/** Java2D drawing into an image (headless: no display needed). */
final class PngCanvas implements Canvas {
    private final BufferedImage image;
    private final Graphics2D g;

    PngCanvas(int width, int height) {
        image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    }

    BufferedImage finish() {
        g.dispose();
        return image;
    }

    @Override
    public void rect(double x, double y, double w, double h, Color fill, Color stroke) {
        if (fill != null) {
            g.setColor(fill);
            g.fill(new java.awt.geom.Rectangle2D.Double(x, y, w, h));
        }
        if (stroke != null) {
            g.setColor(stroke);
            g.setStroke(new BasicStroke(1f));
            g.draw(new java.awt.geom.Rectangle2D.Double(x, y, w, h));
        }
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color color, float width, boolean dashed) {
        g.setColor(color);
        g.setStroke(stroke(width, dashed));
        g.draw(new java.awt.geom.Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void polyline(double[] xs, double[] ys, int n, Color color, float width, boolean dashed) {
        Path2D.Double path = new Path2D.Double();
        boolean pen = false;
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(ys[i])) {
                pen = false;
            } else if (pen) {
                path.lineTo(xs[i], ys[i]);
            } else {
                path.moveTo(xs[i], ys[i]);
                pen = true;
            }
        }
        g.setColor(color);
        g.setStroke(stroke(width, dashed));
        g.draw(path);
    }

    private static BasicStroke stroke(float width, boolean dashed) {
        return dashed ? new BasicStroke(width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 4f}, 0f)
                : new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }

    @Override
    public void text(String s, double x, double y, float size, Color color, Align align, boolean bold) {
        Font font = font(size, bold);
        g.setFont(font);
        g.setColor(color);
        double w = g.getFontMetrics().stringWidth(s);
        double dx = align == Align.LEFT ? 0 : align == Align.CENTER ? -w / 2 : -w;
        g.drawString(s, (float) (x + dx), (float) y);
    }

    @Override
    public double textWidth(String s, float size, boolean bold) {
        return g.getFontMetrics(font(size, bold)).stringWidth(s);
    }

    private static Font font(float size, boolean bold) {
        return new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont(size);
    }
}
