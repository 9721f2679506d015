package io.k3gpu.cli.chart;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.cli.chart.Canvas.Align;
import io.k3gpu.cli.chart.ChartData.Panel;
import io.k3gpu.cli.chart.ChartData.Series;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws {@link ChartData} as stacked time-series panels sharing one time axis (GPU load, CPU load, memory,
 * temperatures, power; a panel with no data is left out), each with its legend: as PNG (Java2D, headless) or SVG
 * (written by hand). One layout for both formats.
 */
public final class TelemetryChart {
    static final int WIDTH = 1280;
    private static final int LEFT = 70;
    private static final int LEGEND = 250;
    private static final int HEADER = 64;
    private static final int PANEL_TITLE = 28;
    private static final int PANEL_HEIGHT = 200;
    private static final int PANEL_GAP = 40;
    private static final int BOTTOM = 24;

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf), new Color(0x393b79), new Color(0xad494a)};
    private static final Color TEXT = new Color(0x222222);
    private static final Color MUTED = new Color(0x666666);
    private static final Color GRID = new Color(0xe3e3e3);
    private static final Color FRAME = new Color(0xb0b0b0);
    private static final Color PLOT_BG = new Color(0xfcfcfc);
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);

    private TelemetryChart() {
    }

    /** Writes the chart to {@code file}: PNG or SVG by its extension. */
    public static void write(ChartData data, Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (name.endsWith(".svg")) {
                Files.writeString(file, svg(data), StandardCharsets.UTF_8);
            } else if (name.endsWith(".png")) {
                PngCanvas c = new PngCanvas(WIDTH, height(data));
                draw(data, c);
                ImageIO.write(c.finish(), "png", file.toFile());
            } else {
                throw new K3gpuException(ExitCode.USAGE, "unknown chart format: " + file,
                        "name the file FILE.png or FILE.svg");
            }
        } catch (IOException e) {
            throw new K3gpuException(ExitCode.FAILED, "cannot write " + file + ": " + e.getMessage(),
                    "check the path and the free space", e);
        }
    }

    /** The chart as an SVG document. */
    public static String svg(ChartData data) {
        SvgCanvas c = new SvgCanvas(WIDTH, height(data));
        draw(data, c);
        return c.finish();
    }

    static int height(ChartData data) {
        int n = Math.max(1, data.views().size());
        return HEADER + n * (PANEL_TITLE + PANEL_HEIGHT + PANEL_GAP) + BOTTOM;
    }

    private static void draw(ChartData data, Canvas c) {
        int h = height(data);
        c.rect(0, 0, WIDTH, h, Color.WHITE, null);
        List<String> nodes = data.nodes();
        String who = nodes.size() == 1 && nodes.get(0).isEmpty() ? ""
                : (nodes.size() == 1 ? "node " : "nodes ") + abbreviate(String.join(", ", nodes), 90);
        c.text("k3gpu telemetry" + (who.isEmpty() ? "" : ": " + who), LEFT, 28, 20, TEXT, Align.LEFT, true);
        String span = data.timed() && data.origin() != null
                ? DATE_TIME.format(data.origin()) + " \u2192 " + CLOCK.format(data.last()) + ", "
                : "";
        c.text(span + data.samples() + " samples", LEFT, 50, 13, MUTED, Align.LEFT, false);

        List<ChartData.View> panels = data.views();
        if (panels.isEmpty()) {
            c.text("no samples to plot", WIDTH / 2.0, HEADER + PANEL_HEIGHT / 2.0, 16, MUTED, Align.CENTER, false);
            return;
        }
        double xMax = 0;
        for (ChartData.View p : panels) {
            for (Series s : p.series()) {
                for (int i = 0; i < s.size(); i++) {
                    xMax = Math.max(xMax, s.x(i));
                }
            }
        }
        if (xMax <= 0) {
            xMax = 1;
        }
        int plotW = WIDTH - LEFT - LEGEND;
        double[] xTicks = ticks(0, xMax, 8, data.timed());
        int top = HEADER;
        for (ChartData.View p : panels) {
            drawPanel(c, data, p, top, plotW, xMax, xTicks);
            top += PANEL_TITLE + PANEL_HEIGHT + PANEL_GAP;
        }
    }

    private static void drawPanel(Canvas c, ChartData data, ChartData.View p, int top, int plotW, double xMax,
                                  double[] xTicks) {
        List<Series> series = p.series();
        c.text(p.title() + " (" + p.unit() + ")", LEFT, top + 18, 15, TEXT, Align.LEFT, true);
        double y0 = top + PANEL_TITLE;
        c.rect(LEFT, y0, plotW, PANEL_HEIGHT, PLOT_BG, null);

        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.size(); i++) {
                lo = Math.min(lo, s.y(i));
                hi = Math.max(hi, s.y(i));
            }
        }
        double yMin;
        double yMax;
        if (!Double.isNaN(p.fixedMax())) {
            yMin = 0;
            yMax = Math.max(p.fixedMax(), hi);
        } else if (p.panel() == Panel.TEMPERATURE) {
            yMin = Math.max(0, Math.floor((lo - 5) / 10) * 10);
            yMax = Math.ceil((hi + 5) / 10) * 10;
        } else {
            yMin = Math.min(0, lo);
            yMax = hi <= yMin ? yMin + 1 : hi * 1.08;
        }
        double[] yTicks = ticks(yMin, yMax, 5, false);
        yMax = Math.max(yMax, yTicks[yTicks.length - 1]);
        double yLo = yMin;
        double yHi = yMax;
        java.util.function.DoubleUnaryOperator px = x -> LEFT + x / xMax * plotW;
        java.util.function.DoubleUnaryOperator py = y -> y0 + PANEL_HEIGHT - (y - yLo) / (yHi - yLo) * PANEL_HEIGHT;

        for (double t : yTicks) {
            double y = py.applyAsDouble(t);
            c.line(LEFT, y, LEFT + plotW, y, GRID, 1f, false);
            c.text(number(t), LEFT - 8, y + 4, 11, MUTED, Align.RIGHT, false);
        }
        for (double t : xTicks) {
            double x = px.applyAsDouble(t);
            c.line(x, y0, x, y0 + PANEL_HEIGHT, GRID, 1f, false);
            String label = data.timed() && data.origin() != null
                    ? CLOCK.format(data.origin().plusNanos((long) (t * 1e9))) : "#" + number(t);
            c.text(label, x, y0 + PANEL_HEIGHT + 15, 11, MUTED, Align.CENTER, false);
        }
        c.rect(LEFT, y0, plotW, PANEL_HEIGHT, null, FRAME);

        int legendY = (int) y0 + 10;
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            Color color = PALETTE[k % PALETTE.length];
            double[][] pts = reduce(s, plotW * 2);
            double[] xs = pts[0];
            double[] ys = pts[1];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = px.applyAsDouble(xs[i]);
                ys[i] = py.applyAsDouble(ys[i]);
            }
            c.polyline(xs, ys, xs.length, color, s.dashed() ? 1.2f : 1.8f, s.dashed());
            if (k < 14) {
                double ly = legendY + k * 16;
                c.line(LEFT + plotW + 14, ly - 4, LEFT + plotW + 34, ly - 4, color, 3f, s.dashed());
                c.text(abbreviate(s.label(), 30), LEFT + plotW + 40, ly, 12, TEXT, Align.LEFT, false);
            } else if (k == 14) {
                c.text("+" + (series.size() - 14) + " more", LEFT + plotW + 40, legendY + k * 16, 12, MUTED,
                        Align.LEFT, false);
            }
        }
    }

    /** At most about {@code max} points: the lowest and highest value of each slice, so spikes survive. */
    static double[][] reduce(Series s, int max) {
        int n = s.size();
        if (n <= max) {
            double[] xs = new double[n];
            double[] ys = new double[n];
            for (int i = 0; i < n; i++) {
                xs[i] = s.x(i);
                ys[i] = s.y(i);
            }
            return new double[][] {xs, ys};
        }
        int buckets = max / 2;
        double[] xs = new double[buckets * 2];
        double[] ys = new double[buckets * 2];
        int out = 0;
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * n / buckets);
            int to = (int) ((long) (b + 1) * n / buckets);
            if (from >= to) {
                continue;
            }
            int iMin = from;
            int iMax = from;
            for (int i = from; i < to; i++) {
                if (s.y(i) < s.y(iMin)) {
                    iMin = i;
                }
                if (s.y(i) > s.y(iMax)) {
                    iMax = i;
                }
            }
            int a = Math.min(iMin, iMax);
            int z = Math.max(iMin, iMax);
            xs[out] = s.x(a);
            ys[out++] = s.y(a);
            xs[out] = s.x(z);
            ys[out++] = s.y(z);
        }
        return new double[][] {java.util.Arrays.copyOf(xs, out), java.util.Arrays.copyOf(ys, out)};
    }

    /** Round tick values from lo to hi, about {@code count} of them; time steps (s) follow clock units. */
    static double[] ticks(double lo, double hi, int count, boolean time) {
        double span = hi - lo;
        if (span <= 0) {
            return new double[] {lo};
        }
        double raw = span / count;
        double step;
        if (time) {
            double[] steps = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                86400};
            step = steps[steps.length - 1];
            for (double s : steps) {
                if (s >= raw) {
                    step = s;
                    break;
                }
            }
        } else {
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double norm = raw / mag;
            step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
        }
        List<Double> out = new ArrayList<>();
        double first = Math.ceil(lo / step - 1e-9) * step;
        for (double t = first; t <= hi + step * 1e-9; t += step) {
            out.add(Math.abs(t) < step * 1e-9 ? 0 : t);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static String number(double v) {
        if (Math.abs(v - Math.rint(v)) < 1e-9) {
            return Long.toString(Math.round(v));
        }
        String s = String.format(Locale.ROOT, "%.2f", v);
        return s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "\u2026";
    }
}
