package io.k3gpu.core.telemetry;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Parses the CSV that {@code nvidia-smi --query-gpu=FIELDS --format=csv[,noheader][,nounits]} prints, one GPU per
 * row, into {@link GpuSample}s. Stateful: one instance per stream, not thread-safe.
 *
 * <p>The column order comes from a header line ({@code timestamp, index, utilization.gpu [%], ...}, with or without
 * the {@code [unit]} suffixes), which may arrive at any time and replaces the current mapping, or, for
 * {@code noheader} output, from the field list given to {@link #forFields(List)} / {@link #forQuery(String)} (the
 * {@code --query-gpu} list the caller asked for). Values may carry units ({@code 143771 MiB}, {@code 128.84 W},
 * {@code 0 %}, {@code 1980 MHz}) or not; {@code [N/A]}, {@code [Not Supported]}, {@code N/A} and any other
 * bracketed {@code [...]} value become null. Columns that have no field of their own in {@link GpuSample} are kept
 * in {@link GpuSample#extra()} under their name without unit, value as printed.
 *
 * <p>Mapped columns (aliases from {@code nvidia-smi --help-query-gpu}): {@code timestamp} (as
 * {@code YYYY/MM/DD HH:MM:SS.mmm}), {@code index}, {@code name|gpu_name}, {@code uuid|gpu_uuid},
 * {@code utilization.gpu}, {@code utilization.memory}, {@code memory.used}, {@code memory.total},
 * {@code temperature.gpu}, {@code power.draw}, {@code power.limit|gpu.power.requested_limit},
 * {@code clocks.sm|clocks.current.sm}, {@code clocks.mem|clocks.current.memory}.
 */
public final class NvidiaSmiCsvParser {

    private enum Column {
        TIMESTAMP, INDEX, NAME, UUID, UTIL_GPU, UTIL_MEMORY, MEMORY_USED, MEMORY_TOTAL, TEMPERATURE, POWER_DRAW,
        POWER_LIMIT, SM_CLOCK, MEM_CLOCK, EXTRA
    }

    private static final Map<String, Column> KNOWN = new LinkedHashMap<>();

    static {
        KNOWN.put("timestamp", Column.TIMESTAMP);
        KNOWN.put("index", Column.INDEX);
        KNOWN.put("name", Column.NAME);
        KNOWN.put("gpu_name", Column.NAME);
        KNOWN.put("uuid", Column.UUID);
        KNOWN.put("gpu_uuid", Column.UUID);
        KNOWN.put("utilization.gpu", Column.UTIL_GPU);
        KNOWN.put("utilization.memory", Column.UTIL_MEMORY);
        KNOWN.put("memory.used", Column.MEMORY_USED);
        KNOWN.put("memory.total", Column.MEMORY_TOTAL);
        KNOWN.put("temperature.gpu", Column.TEMPERATURE);
        KNOWN.put("power.draw", Column.POWER_DRAW);
        KNOWN.put("power.limit", Column.POWER_LIMIT);
        KNOWN.put("gpu.power.requested_limit", Column.POWER_LIMIT);
        KNOWN.put("clocks.sm", Column.SM_CLOCK);
        KNOWN.put("clocks.current.sm", Column.SM_CLOCK);
        KNOWN.put("clocks.mem", Column.MEM_CLOCK);
        KNOWN.put("clocks.current.memory", Column.MEM_CLOCK);
    }

    /** Field names that, besides the mapped ones, make a line recognisable as a header. */
    private static final Set<String> OTHER_HEADER_WORDS = Set.of("pstate", "driver_version", "serial",
            "gpu_serial", "count", "compute_cap", "persistence_mode", "display_mode", "compute_mode", "vbios_version");

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu/MM/dd HH:mm:ss[.SSS]", Locale.ROOT);

    private String[] names;
    private Column[] columns;

    /** A parser that expects a header line before the first data row ({@code --format=csv}). */
    public NvidiaSmiCsvParser() {
    }

    private NvidiaSmiCsvParser(List<String> fields) {
        setColumns(fields);
    }

    /**
     * A parser for {@code noheader} output: the columns are the given {@code --query-gpu} fields, in order. A header
     * line that arrives anyway still replaces them.
     */
    public static NvidiaSmiCsvParser forFields(List<String> fields) {
        if (fields == null || fields.isEmpty()) {
            throw new IllegalArgumentException("no nvidia-smi query fields");
        }
        return new NvidiaSmiCsvParser(fields);
    }

    /** Like {@link #forFields(List)} from the comma-separated list, e.g. {@code timestamp,index,name,...}. */
    public static NvidiaSmiCsvParser forQuery(String queryGpu) {
        String q = queryGpu.strip();
        if (q.startsWith("--query-gpu=")) {
            q = q.substring("--query-gpu=".length());
        }
        List<String> fields = new ArrayList<>();
        for (String f : q.split(",")) {
            if (!f.isBlank()) {
                fields.add(f.strip());
            }
        }
        return forFields(fields);
    }

    /** The current column names (without units), or an empty list before any header or field list. */
    public List<String> columns() {
        return names == null ? List.of() : List.of(names);
    }

    /**
     * Parses one line: a header line sets the columns and gives an empty result; a data row gives its sample.
     * A blank line gives an empty result.
     *
     * @throws TelemetryParseException for a row that does not fit the columns, a value that is not a number where
     *     one is expected, or a data row with no header or field list before it
     */
    public Optional<GpuSample> parseLine(String line) {
        if (line == null || line.isBlank()) {
            return Optional.empty();
        }
        String[] cells = split(line);
        if (isHeader(cells)) {
            List<String> fields = new ArrayList<>(cells.length);
            for (String c : cells) {
                fields.add(stripUnit(c));
            }
            setColumns(fields);
            return Optional.empty();
        }
        if (columns == null) {
            throw new TelemetryParseException("nvidia-smi CSV row before any header; for noheader output give the "
                    + "--query-gpu field list");
        }
        if (cells.length != columns.length) {
            throw new TelemetryParseException("nvidia-smi CSV row has " + cells.length + " values, expected "
                    + columns.length + " (" + String.join(",", names) + ")");
        }
        GpuSample.Builder b = GpuSample.ownedBuilder(Source.NVIDIA_SMI);
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = 0; i < cells.length; i++) {
            String raw = cells[i];
            String v = isMissing(raw) ? null : raw;
            switch (columns[i]) {
                case TIMESTAMP -> b.time(v == null ? null : timestamp(v));
                case INDEX -> b.index(integer(v, i));
                case NAME -> b.name(v);
                case UUID -> b.uuid(v);
                case UTIL_GPU -> b.gpuLoadPercent(integer(v, i));
                case UTIL_MEMORY -> b.memoryLoadPercent(integer(v, i));
                case MEMORY_USED -> b.memoryUsedMiB(integer(v, i));
                case MEMORY_TOTAL -> b.memoryTotalMiB(integer(v, i));
                case TEMPERATURE -> b.temperatureC(decimal(v, i));
                case POWER_DRAW -> b.powerDrawW(decimal(v, i));
                case POWER_LIMIT -> b.powerLimitW(decimal(v, i));
                case SM_CLOCK -> b.smClockMHz(integer(v, i));
                case MEM_CLOCK -> b.memClockMHz(integer(v, i));
                case EXTRA -> extra.put(names[i], v);
                default -> throw new IllegalStateException(columns[i].name());
            }
        }
        return Optional.of(b.extra(extra).build());
    }

    private void setColumns(List<String> fields) {
        String[] n = new String[fields.size()];
        Column[] c = new Column[fields.size()];
        for (int i = 0; i < n.length; i++) {
            n[i] = stripUnit(fields.get(i));
            c[i] = KNOWN.getOrDefault(n[i].toLowerCase(Locale.ROOT), Column.EXTRA);
        }
        names = n;
        columns = c;
    }

    private static String[] split(String line) {
        String[] cells = line.split(",", -1);
        for (int i = 0; i < cells.length; i++) {
            cells[i] = cells[i].strip();
        }
        return cells;
    }

    /** Every cell a lower-case field name (optionally with {@code [unit]}), and at least one known field. */
    static boolean isHeader(String[] cells) {
        boolean known = false;
        for (String cell : cells) {
            String name = stripUnit(cell);
            if (!isFieldName(name)) {
                return false;
            }
            known |= KNOWN.containsKey(name) || OTHER_HEADER_WORDS.contains(name) || name.indexOf('.') > 0;
        }
        return known;
    }

    private static boolean isFieldName(String s) {
        if (s.isEmpty() || !(s.charAt(0) >= 'a' && s.charAt(0) <= 'z')) {
            return false;
        }
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** {@code utilization.gpu [%]} to {@code utilization.gpu}. */
    private static String stripUnit(String cell) {
        String s = cell.strip();
        if (s.endsWith("]")) {
            int open = s.lastIndexOf(" [");
            if (open > 0) {
                return s.substring(0, open).strip();
            }
        }
        return s;
    }

    private static boolean isMissing(String v) {
        return v.isEmpty() || v.equals("N/A") || (v.startsWith("[") && v.endsWith("]"));
    }

    private LocalDateTime timestamp(String v) {
        try {
            return LocalDateTime.parse(v, TIMESTAMP);
        } catch (DateTimeParseException e) {
            throw new TelemetryParseException("nvidia-smi timestamp '" + v + "' is not YYYY/MM/DD HH:MM:SS.mmm", e);
        }
    }

    private Integer integer(String v, int column) {
        if (v == null) {
            return null;
        }
        String num = number(v, column);
        if (num.indexOf('.') >= 0 || num.length() > 10) {
            throw notANumber(v, column, "an integer");
        }
        try {
            return Integer.valueOf(num);
        } catch (NumberFormatException e) {
            throw notANumber(v, column, "an integer");
        }
    }

    private Double decimal(String v, int column) {
        return v == null ? null : Double.valueOf(number(v, column));
    }

    /** The number of {@code 128.84 W} / {@code 0 %} / {@code 43}: digits, optional sign and one dot. */
    private String number(String v, int column) {
        int space = v.indexOf(' ');
        String num = space < 0 ? v : v.substring(0, space);
        if (space >= 0 && !isUnit(v.substring(space + 1).strip())) {
            throw notANumber(v, column, "a number");
        }
        int digits = 0;
        int dots = 0;
        for (int i = 0; i < num.length(); i++) {
            char c = num.charAt(i);
            if (c >= '0' && c <= '9') {
                digits++;
            } else if (c == '.') {
                dots++;
            } else if (!(c == '-' && i == 0)) {
                throw notANumber(v, column, "a number");
            }
        }
        if (digits == 0 || dots > 1 || digits > 18) {
            throw notANumber(v, column, "a number");
        }
        return num;
    }

    private static boolean isUnit(String u) {
        if (u.isEmpty() || u.length() > 8) {
            return false;
        }
        for (int i = 0; i < u.length(); i++) {
            char c = u.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '%')) {
                return false;
            }
        }
        return true;
    }

    private TelemetryParseException notANumber(String v, int column, String what) {
        return new TelemetryParseException("nvidia-smi column " + names[column] + ": '" + v + "' is not " + what);
    }
}
