package io.k3gpu.core.runtime;

import io.k3gpu.core.k3s.K3sArgs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Sets the container runtime K3s gives pods by default through {@code /etc/rancher/k3s/config.yaml}, where K3s reads
 * each command-line flag as a top-level key without its dashes ({@code --default-runtime nvidia} becomes
 * {@code default-runtime: nvidia}).
 *
 * <p>The edit works on lines so comments, blank lines, key order and quoting stay as the user wrote them: an existing
 * top-level {@code default-runtime} line is replaced, otherwise one line is appended. The file is parsed before (it
 * must be a mapping) and after (it must be the same mapping plus the key), so a layout the line edit cannot handle
 * fails instead of corrupting the file.
 */
public final class K3sConfigEdit {
    public static final String KEY = "default-runtime";

    private static final Pattern RUNTIME_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    /** A top-level {@code default-runtime} key, bare or quoted. */
    private static final Pattern KEY_LINE = Pattern.compile("^([\"']?)default-runtime\\1[ \\t]*:(?:[ \\t].*|)$");

    /** A top-level key and its value on the same line: quote, key, quote, separator, value, CR. */
    private static final Pattern TOP_KEY = Pattern.compile("^([\"']?)([A-Za-z0-9][A-Za-z0-9-]*)\\1([ \\t]*:[ \\t]*)(.*?)(\r?)$");

    private K3sConfigEdit() {
    }

    /**
     * The config file's text as k3gpu shows it (the diff of gpu-runtime): the value of each secret key (token,
     * agent-token, the password in datastore-endpoint, ... as {@link K3sArgs#masked(String, String)} says for the flag
     * of the same name) masked, a value continued on indented lines included. Line for line the same as {@code text},
     * so a diff of masked texts has the hunks of the real diff. Never for the text written.
     */
    public static String masked(String text) {
        String[] lines = text.split("\n", -1);
        String secretFlag = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (secretFlag != null && isContinuation(line)) {
                String cr = line.endsWith("\r") ? "\r" : "";
                String content = line.strip();
                lines[i] = line.substring(0, line.indexOf(content)) + K3sArgs.masked(secretFlag, content) + cr;
                continue;
            }
            secretFlag = null;
            Matcher m = TOP_KEY.matcher(line);
            if (!m.matches() || !K3sArgs.isSecret("--" + m.group(2))) {
                continue;
            }
            String flag = "--" + m.group(2);
            String value = m.group(4);
            String quote = value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                    || value.startsWith("'") && value.endsWith("'")) ? value.substring(0, 1) : "";
            String inner = quote.isEmpty() ? value : value.substring(1, value.length() - 1);
            if (!inner.isEmpty() && !inner.startsWith("|") && !inner.startsWith(">")) {
                lines[i] = m.group(1) + m.group(2) + m.group(1) + m.group(3) + quote + K3sArgs.masked(flag, inner)
                        + quote + m.group(5);
            }
            // Its indented lines that follow (a block scalar, a value on the next line) are the value too.
            secretFlag = flag;
        }
        return String.join("\n", lines);
    }

    /**
     * The edit that makes {@code runtime} the default runtime in the config file at {@code path} (used in messages)
     * whose current text is {@code content}; null or empty content is an empty configuration.
     *
     * @throws InvalidConfigException when the content is not YAML or not a mapping, or the edited text would not
     *         read back as the same settings plus the key
     */
    public static ConfigEdit setDefaultRuntime(String path, String content, String runtime) {
        if (runtime == null || !RUNTIME_NAME.matcher(runtime).matches()) {
            throw new IllegalArgumentException("not a runtime name: " + runtime);
        }
        String before = content == null ? "" : content;
        Map<Object, Object> settings = load(path, before);
        if (runtime.equals(settings.get(KEY))) {
            return new ConfigEdit(before, before, false);
        }
        String after = edit(before, KEY + ": " + runtime);
        Map<Object, Object> expected = new LinkedHashMap<>(settings);
        expected.put(KEY, runtime);
        Map<Object, Object> actual;
        try {
            actual = load(path, after);
        } catch (InvalidConfigException e) {
            actual = null;
        }
        if (!Objects.equals(expected, actual)) {
            throw new InvalidConfigException(path,
                    "cannot add \"" + KEY + ": " + runtime + "\" to " + path
                            + " safely: its layout (indented or flow-style top level, or document markers) "
                            + "does not allow a line edit",
                    "add the line \"" + KEY + ": " + runtime + "\" to the file by hand, then run again; "
                            + "nothing was changed");
        }
        return new ConfigEdit(before, after, true);
    }

    private static String edit(String text, String line) {
        String newline = text.contains("\r\n") ? "\r\n" : "\n";
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        boolean replaced = false;
        for (int i = 0; i < lines.size(); i++) {
            String current = lines.get(i);
            boolean cr = current.endsWith("\r");
            if (KEY_LINE.matcher(cr ? current.substring(0, current.length() - 1) : current).matches()) {
                lines.set(i, line + (cr ? "\r" : ""));
                // Drop the old value's continuation lines (a value on the next, indented, line).
                while (i + 1 < lines.size() && isContinuation(lines.get(i + 1))) {
                    lines.remove(i + 1);
                }
                replaced = true;
            }
        }
        if (replaced) {
            return String.join("\n", lines);
        }
        if (text.isEmpty()) {
            return line + newline;
        }
        return text + (text.endsWith("\n") ? "" : newline) + line + newline;
    }

    private static boolean isContinuation(String line) {
        String content = line.strip();
        return !content.isEmpty() && !content.startsWith("#") && (line.startsWith(" ") || line.startsWith("\t"));
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> load(String path, String text) {
        Object document;
        try {
            document = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (MarkedYAMLException e) {
            throw new InvalidConfigException(path, path + " is not valid YAML (" + describe(e) + ")");
        } catch (YAMLException e) {
            throw new InvalidConfigException(path, path + " is not valid YAML (" + firstLine(e.getMessage()) + ")");
        }
        if (document == null) {
            return new LinkedHashMap<>();
        }
        if (!(document instanceof Map)) {
            throw new InvalidConfigException(path, path + " is not a YAML mapping of settings (its top level is "
                    + kind(document) + "), so K3s cannot read it");
        }
        return (Map<Object, Object>) document;
    }

    private static String describe(MarkedYAMLException e) {
        Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
        String where = mark == null ? "" : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ": ";
        return where + firstLine(problem);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).strip();
    }

    private static String kind(Object document) {
        if (document instanceof List) {
            return "a list";
        }
        if (document instanceof String) {
            return "a string";
        }
        if (document instanceof Number) {
            return "a number";
        }
        if (document instanceof Boolean) {
            return "a boolean";
        }
        return "a " + document.getClass().getSimpleName();
    }
}
