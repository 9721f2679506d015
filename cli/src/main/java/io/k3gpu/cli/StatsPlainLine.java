package io.k3gpu.cli;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One sample as one line of text: what {@code k3gpu stats} prints per sample when stdout is not a terminal, and
 * {@code stats parse -o text}. Pure.
 *
 * <pre>
 * 12:00:01 jetson1 cpu 52,41,43,34% @1479MHz gpu 9% @921MHz emc 0% ram 2462/3964MB swap 362/1982MB temp CPU 26C GPU 24C power POM_5V_IN 3.41W
 * 12:00:01 gpu1 gpu0 NVIDIA H200 100% sm 1440MHz mem 1011/143771MiB 61C 692.60/700.00W
 * </pre>
 */
final class StatsPlainLine {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);

    private StatsPlainLine() {
    }

    /** The line; {@code time} or {@code node} may be null (left out). */
    static String format(LocalTime time, String node, GpuSample s) {
        StringBuilder sb = new StringBuilder(160);
        if (time != null) {
            sb.append(CLOCK.format(time)).append(' ');
        }
        if (node != null && !node.isEmpty()) {
            sb.append(node).append(' ');
        }
        if (s.source() == Source.NVIDIA_SMI) {
            sb.append("gpu").append(s.index() == null ? "?" : s.index());
            if (s.name() != null) {
                sb.append(' ').append(s.name());
            }
            if (s.gpuLoadPercent() != null) {
                sb.append(' ').append(s.gpuLoadPercent()).append('%');
            }
            if (s.smClockMHz() != null) {
                sb.append(" sm ").append(s.smClockMHz()).append("MHz");
            }
            if (s.memoryUsedMiB() != null) {
                sb.append(" mem ").append(s.memoryUsedMiB());
                if (s.memoryTotalMiB() != null) {
                    sb.append('/').append(s.memoryTotalMiB());
                }
                sb.append("MiB");
            }
            if (s.temperatureC() != null) {
                sb.append(' ').append(num(s.temperatureC())).append('C');
            }
            if (s.powerDrawW() != null) {
                sb.append(' ').append(fixed(s.powerDrawW(), 2));
                if (s.powerLimitW() != null) {
                    sb.append('/').append(fixed(s.powerLimitW(), 2));
                }
                sb.append('W');
            }
            return sb.toString().stripTrailing();
        }
        List<GpuSample.Cpu> cpus = s.cpus();
        if (cpus != null && !cpus.isEmpty()) {
            sb.append("cpu ");
            Integer shared = null;
            boolean same = true;
            for (int i = 0; i < cpus.size(); i++) {
                GpuSample.Cpu c = cpus.get(i);
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(!c.online() ? "off" : c.loadPercent() == null ? "?" : c.loadPercent().toString());
                if (c.online() && c.freqMHz() != null) {
                    if (shared == null) {
                        shared = c.freqMHz();
                    } else if (!shared.equals(c.freqMHz())) {
                        same = false;
                    }
                }
            }
            sb.append('%');
            if (shared != null) {
                sb.append(same ? " @" + shared + "MHz" : " @" + shared + "MHz+");
            }
            sb.append(' ');
        }
        if (s.gpuLoadPercent() != null || (s.gpuFreqMHz() != null && !s.gpuFreqMHz().isEmpty())) {
            sb.append("gpu");
            if (s.gpuLoadPercent() != null) {
                sb.append(' ').append(s.gpuLoadPercent()).append('%');
            }
            if (s.gpuFreqMHz() != null && !s.gpuFreqMHz().isEmpty()) {
                sb.append(" @").append(s.gpuFreqMHz().get(0)).append("MHz");
            }
            sb.append(' ');
        }
        if (s.emcLoadPercent() != null) {
            sb.append("emc ").append(s.emcLoadPercent()).append("% ");
        }
        if (s.ramUsedMB() != null) {
            sb.append("ram ").append(s.ramUsedMB()).append('/').append(s.ramTotalMB()).append("MB ");
        }
        if (s.swapUsedMB() != null) {
            sb.append("swap ").append(s.swapUsedMB()).append('/').append(s.swapTotalMB()).append("MB ");
        }
        if (s.temperaturesC() != null && !s.temperaturesC().isEmpty()) {
            sb.append("temp");
            for (Map.Entry<String, Double> e : s.temperaturesC().entrySet()) {
                if (e.getValue() != null) {
                    sb.append(' ').append(e.getKey()).append(' ').append(num(e.getValue())).append('C');
                }
            }
            sb.append(' ');
        }
        if (s.powerMilliwatts() != null && !s.powerMilliwatts().isEmpty()) {
            sb.append("power");
            for (Map.Entry<String, GpuSample.Power> e : s.powerMilliwatts().entrySet()) {
                if (e.getValue().current() != null) {
                    sb.append(' ').append(e.getKey()).append(' ').append(watts(e.getValue().current())).append('W');
                }
            }
        }
        return sb.toString().stripTrailing();
    }

    /** 26.0 as {@code 26}, 24.75 as {@code 24.8}. */
    static String num(double v) {
        if (v == Math.rint(v)) {
            return Long.toString((long) v);
        }
        return fixed(v, 1);
    }

    /**
     * As {@code String.format(Locale.ROOT, "%.Nf", v)} (half-up on the shortest decimal form, as Formatter rounds)
     * without a Formatter per value, which cost more than parsing the line (docs/benchmarks.md, "stats parse").
     */
    static String fixed(double v, int decimals) {
        String t = BigDecimal.valueOf(v).setScale(decimals, RoundingMode.HALF_UP).toPlainString();
        // Formatter keeps the sign of a negative value that rounds to zero (-0.0)
        return Math.copySign(1.0, v) < 0 && t.charAt(0) != '-' ? "-" + t : t;
    }

    /** Milliwatts as watts with two decimals. */
    static String watts(int milliwatts) {
        int abs = Math.abs(milliwatts);
        int centi = (abs + 5) / 10; // half-up, as %.2f of milliwatts / 1000.0
        String frac = Integer.toString(centi % 100);
        return (milliwatts < 0 ? "-" : "") + centi / 100 + (frac.length() == 1 ? ".0" : ".") + frac;
    }
}
