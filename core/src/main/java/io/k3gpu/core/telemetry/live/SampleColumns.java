package io.k3gpu.core.telemetry.live;

import io.k3gpu.core.telemetry.GpuSample;
import io.k3gpu.core.telemetry.Source;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A sample as flat, named columns: the rows of a {@code .csv} recording. Pure.
 *
 * <p>tegrastats: {@code ram_used_mb, ram_total_mb, swap_used_mb, swap_total_mb, swap_cached_mb,
 * cpuN_online, cpuN_load_percent, cpuN_freq_mhz, gpu_load_percent, gpu_freq_mhz} (first GPC; then
 * {@code gpu_gpcN_freq_mhz}){@code , emc_load_percent, emc_freq_mhz, temp_<sensor>_c, power_<rail>_mw,
 * power_<rail>_avg_mw, engine_<name>_load_percent, engine_<name>_freq_mhz}. Names are lower-cased; other
 * characters than letters, digits and {@code _} become {@code _}. nvidia-smi: {@code gpu_index, gpu_name, gpu_uuid,
 * gpu_load_percent, memory_load_percent, memory_used_mib, memory_total_mib, temperature_c, power_draw_w,
 * power_limit_w, sm_clock_mhz, mem_clock_mhz}. Absent values are left out (an empty cell in the CSV).
 */
public final class SampleColumns {

    private SampleColumns() {
    }

    /** The sample's values by column name, in a stable order; values as text. */
    public static Map<String, String> flatten(GpuSample s) {
        Map<String, String> m = new LinkedHashMap<>();
        if (s.source() == Source.NVIDIA_SMI) {
            put(m, "gpu_index", s.index());
            put(m, "gpu_name", s.name());
            put(m, "gpu_uuid", s.uuid());
            put(m, "gpu_load_percent", s.gpuLoadPercent());
            put(m, "memory_load_percent", s.memoryLoadPercent());
            put(m, "memory_used_mib", s.memoryUsedMiB());
            put(m, "memory_total_mib", s.memoryTotalMiB());
            put(m, "temperature_c", s.temperatureC());
            put(m, "power_draw_w", s.powerDrawW());
            put(m, "power_limit_w", s.powerLimitW());
            put(m, "sm_clock_mhz", s.smClockMHz());
            put(m, "mem_clock_mhz", s.memClockMHz());
            return m;
        }
        put(m, "ram_used_mb", s.ramUsedMB());
        put(m, "ram_total_mb", s.ramTotalMB());
        put(m, "swap_used_mb", s.swapUsedMB());
        put(m, "swap_total_mb", s.swapTotalMB());
        put(m, "swap_cached_mb", s.swapCachedMB());
        if (s.cpus() != null) {
            for (int i = 0; i < s.cpus().size(); i++) {
                GpuSample.Cpu c = s.cpus().get(i);
                put(m, "cpu" + i + "_online", c.online() ? 1 : 0);
                put(m, "cpu" + i + "_load_percent", c.loadPercent());
                put(m, "cpu" + i + "_freq_mhz", c.freqMHz());
            }
        }
        put(m, "gpu_load_percent", s.gpuLoadPercent());
        List<Integer> gpc = s.gpuFreqMHz();
        if (gpc != null) {
            for (int i = 0; i < gpc.size(); i++) {
                put(m, i == 0 ? "gpu_freq_mhz" : "gpu_gpc" + i + "_freq_mhz", gpc.get(i));
            }
        }
        put(m, "emc_load_percent", s.emcLoadPercent());
        put(m, "emc_freq_mhz", s.emcFreqMHz());
        if (s.temperaturesC() != null) {
            s.temperaturesC().forEach((k, v) -> put(m, "temp_" + name(k) + "_c", v));
        }
        if (s.powerMilliwatts() != null) {
            s.powerMilliwatts().forEach((k, v) -> {
                put(m, "power_" + name(k) + "_mw", v.current());
                put(m, "power_" + name(k) + "_avg_mw", v.average());
            });
        }
        if (s.engines() != null) {
            s.engines().forEach((k, v) -> {
                put(m, "engine_" + name(k) + "_load_percent", v.loadPercent());
                put(m, "engine_" + name(k) + "_freq_mhz", v.freqMHz());
            });
        }
        return m;
    }

    /** {@code VDD_IN} to {@code vdd_in}, {@code NC#2} to {@code nc_2}. */
    static String name(String printed) {
        StringBuilder sb = new StringBuilder(printed.length());
        for (int i = 0; i < printed.length(); i++) {
            char c = Character.toLowerCase(printed.charAt(i));
            sb.append((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }

    private static void put(Map<String, String> m, String key, Object v) {
        if (v != null) {
            m.put(key, v instanceof Double d ? number(d) : v.toString());
        }
    }

    /** 42.0 as {@code 42}, 34.312 as {@code 34.312}. */
    static String number(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return Double.toString(d);
    }
}
