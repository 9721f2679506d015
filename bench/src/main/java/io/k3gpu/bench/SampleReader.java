package io.k3gpu.bench;

import io.k3gpu.core.telemetry.GpuSample;
import java.util.List;
import java.util.Map;

/**
 * Reads every value of a sample once, as a consumer that uses all of it would (the exporter, the JSON writer): the
 * scalars, each core, each GPC clock, each temperature, rail and engine with its name, the unparsed tokens. The
 * parser keeps the values of its maps and core list as the numbers it read and makes their objects when they are
 * asked for, so "parse, then read everything" is the fair cost to compare with a parser that made them all up
 * front.
 */
final class SampleReader {
    private SampleReader() {
    }

    /** A checksum of every value, so that nothing read can be optimised away. */
    static long readAll(GpuSample s) {
        long sum = 0;
        sum += v(s.ramUsedMB()) + v(s.ramTotalMB()) + v(s.ramLfbBlocks()) + v(s.ramLfbBlockKB());
        sum += v(s.swapUsedMB()) + v(s.swapTotalMB()) + v(s.swapCachedMB());
        sum += v(s.iramUsedKB()) + v(s.iramTotalKB()) + v(s.iramLfbKB());
        sum += v(s.gpuLoadPercent()) + v(s.emcLoadPercent()) + v(s.emcFreqMHz());
        sum += v(s.mtsFgPercent()) + v(s.mtsBgPercent());
        if (s.time() != null) {
            sum += s.time().getSecond();
        }
        List<GpuSample.Cpu> cpus = s.cpus();
        if (cpus != null) {
            for (GpuSample.Cpu c : cpus) {
                sum += (c.online() ? 1 : 0) + v(c.loadPercent()) + v(c.freqMHz());
            }
        }
        if (s.gpuFreqMHz() != null) {
            for (Integer f : s.gpuFreqMHz()) {
                sum += v(f);
            }
        }
        sum += temperatures(s.temperaturesC()) + temperatures(s.temperaturesMaxC());
        if (s.powerMilliwatts() != null) {
            for (Map.Entry<String, GpuSample.Power> e : s.powerMilliwatts().entrySet()) {
                GpuSample.Power p = e.getValue();
                sum += e.getKey().length() + v(p.current()) + v(p.average()) + v(p.max());
            }
        }
        if (s.engines() != null) {
            for (Map.Entry<String, GpuSample.Engine> e : s.engines().entrySet()) {
                GpuSample.Engine g = e.getValue();
                sum += e.getKey().length() + (g.online() ? 1 : 0) + v(g.loadPercent()) + v(g.freqMHz());
            }
        }
        for (String u : s.unparsed()) {
            sum += u.length();
        }
        return sum;
    }

    private static long temperatures(Map<String, Double> t) {
        long sum = 0;
        if (t != null) {
            for (Map.Entry<String, Double> e : t.entrySet()) {
                Double c = e.getValue();
                sum += e.getKey().length() + (c == null ? 0 : Double.doubleToRawLongBits(c));
            }
        }
        return sum;
    }

    private static long v(Integer i) {
        return i == null ? 0 : i;
    }
}
