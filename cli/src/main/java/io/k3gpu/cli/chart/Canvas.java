package io.k3gpu.cli.chart;

import java.awt.Color;

/** What the chart layout draws on: a PNG (Java2D) or an SVG document. Coordinates in pixels, y downwards. */
interface Canvas {
    enum Align { LEFT, CENTER, RIGHT }

    void rect(double x, double y, double w, double h, Color fill, Color stroke);

    void line(double x1, double y1, double x2, double y2, Color color, float width, boolean dashed);

    /** A line through n points; NaN y values break it. */
    void polyline(double[] xs, double[] ys, int n, Color color, float width, boolean dashed);

    void text(String s, double x, double y, float size, Color color, Align align, boolean bold);

    double textWidth(String s, float size, boolean bold);
}
