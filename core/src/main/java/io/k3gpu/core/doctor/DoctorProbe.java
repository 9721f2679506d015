package io.k3gpu.core.doctor;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import io.k3gpu.core.facts.FactsParser;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The read-only probe script of {@code doctor} (what {@link io.k3gpu.core.facts.FactsScript} does not gather) and
 * its parser. It runs as root through {@code sh -s}, in the facts script's section format ({@code @@k3gpu:<name>}),
 * and reads what K3s's {@code contrib/util/check-config.sh} reads: the kernel config ({@code /proc/config.gz}, else
 * {@code /boot/config-$(uname -r)}, else {@code /boot/config-<suffix>}), the cgroup hierarchy
 * ({@code stat -f /sys/fs/cgroup}; {@code cgroup.controllers} for v2, the kernel's {@code /proc/cgroups} for v1),
 * swap ({@code /proc/swaps}); plus free space under {@code /var/lib/rancher}, the NVIDIA CSV lists, every
 * {@code nvidia-container-runtime} on the node, its addresses, and, when a server is named, a TLS request to the
 * server's {@code :6443/ping} (reachability, and the server's HTTP {@code Date} against the node's clock) and one
 * UDP datagram to its {@code :8472} (flannel's VXLAN). Every probe that could wait has its own short limit; the
 * whole script runs within the step's deadline. Output is small and never trusted: the parser takes only the
 * shapes it expects.
 */
public final class DoctorProbe {
    /** Config options looked up; the kernel config is filtered on the node to these lines only. */
    static final List<String> CONFIG_OPTIONS = KernelChecks.all();

    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.:-]{0,252}");

    /**
     * One UDP datagram (twice) to the server's flannel VXLAN port, on a connected socket so that an ICMP port
     * unreachable comes back as ECONNREFUSED. UDP has no handshake: "silent" is what a listening VXLAN socket, and
     * also a firewall that drops, look like; "refused" means nothing listens there; an error at send is this node's
     * own firewall or routing.
     */
    private static final String UDP_PROBE = """
            import socket, sys, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            try:
                s.connect((sys.argv[1], 8472))
                # an 8-byte VXLAN header without the I flag: a VXLAN endpoint drops it (RFC 7348)
                s.send(bytes(8)); time.sleep(0.5); s.send(bytes(8))
                s.recv(64)
                print("reply")
            except socket.timeout:
                print("silent")
            except ConnectionRefusedError:
                print("refused")
            except OSError as e:
                print("error", e.strerror)
            """;

    private DoctorProbe() {
    }

    /**
     * The script; {@code server} (an address or DNS name, checked here so that it is safe inside single quotes) may
     * be null: then nothing is sent anywhere.
     */
    public static String script(String server) {
        if (server != null && !HOST.matcher(server).matches()) {
            throw new K3gpuException(ExitCode.USAGE, "'" + server + "' is not an address or host name",
                    "give --server as an IP address or a DNS name");
        }
        String options = String.join("|", CONFIG_OPTIONS);
        return """
                # k3gpu doctor: read-only probes. Each section starts with a line "@@k3gpu:<name>".
                PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
                LC_ALL=C
                export PATH LC_ALL
                k3gpu_section() { printf '\\n@@k3gpu:%s\\n' "$1"; }
                k3gpu_has() { command -v "$1" >/dev/null 2>&1; }
                k3gpu_limit() { s=$1; shift; if k3gpu_has timeout; then timeout "$s" "$@"; else "$@"; fi; }
                k3gpu_server='__SERVER__'
                k3gpu_section kernel-config
                k3gpu_u=$(uname -r 2>/dev/null)
                for k3gpu_c in /proc/config.gz "/boot/config-$k3gpu_u" "/boot/config-${k3gpu_u##*-}"; do
                  if [ -r "$k3gpu_c" ]; then
                    echo "source $k3gpu_c"
                    { zcat "$k3gpu_c" 2>/dev/null || cat "$k3gpu_c"; } | grep -E '^CONFIG_(__OPTIONS__)=' | head -n 200
                    break
                  fi
                done
                k3gpu_section cgroup-fs
                stat -f -c %T /sys/fs/cgroup 2>/dev/null
                k3gpu_section cgroup-controllers
                head -c 1024 /sys/fs/cgroup/cgroup.controllers 2>/dev/null
                k3gpu_section proc-cgroups
                head -c 2048 /proc/cgroups 2>/dev/null
                k3gpu_section swaps
                head -n 20 /proc/swaps 2>/dev/null
                k3gpu_section rancher-disk
                k3gpu_p=/var/lib/rancher
                while [ ! -e "$k3gpu_p" ] && [ "$k3gpu_p" != / ]; do k3gpu_p=$(dirname "$k3gpu_p"); done
                echo "path $k3gpu_p"
                k3gpu_limit 10 df -Pk "$k3gpu_p" 2>/dev/null | tail -n 1
                k3gpu_section csv
                ls -1 /etc/nvidia-container-runtime/host-files-for-container.d/ 2>/dev/null | grep -E '\\.csv$' | head -n 50
                k3gpu_section runtimes
                k3gpu_seen=
                for k3gpu_d in /usr/local/nvidia/toolkit $(echo "$PATH" | tr ':' ' '); do
                  k3gpu_f="$k3gpu_d/nvidia-container-runtime"
                  [ -x "$k3gpu_f" ] || continue
                  k3gpu_r=$(readlink -f "$k3gpu_f" 2>/dev/null || echo "$k3gpu_f")
                  case " $k3gpu_seen " in *" $k3gpu_r "*) continue ;; esac
                  k3gpu_seen="$k3gpu_seen $k3gpu_r"
                  echo "$k3gpu_f $(cksum <"$k3gpu_f" 2>/dev/null | cut -d ' ' -f 1)"
                done
                k3gpu_section addresses
                hostname -I 2>/dev/null | head -c 1024
                k3gpu_section server-tcp
                if [ -n "$k3gpu_server" ]; then
                  if k3gpu_has curl; then
                    echo "before $(date -u +%s.%N)"
                    k3gpu_h=$(k3gpu_limit 15 curl -sk -o /dev/null -D - --connect-timeout 5 --max-time 10 \\
                      "https://$k3gpu_server:6443/ping" 2>/dev/null)
                    echo "rc $?"
                    echo "after $(date -u +%s.%N)"
                    printf '%s\\n' "$k3gpu_h" | tr -d '\\r' | grep -i -E '^(HTTP/|date:)' | head -n 2
                  else
                    echo "no-curl"
                  fi
                fi
                k3gpu_section server-udp
                if [ -n "$k3gpu_server" ]; then
                  if k3gpu_has python3; then
                    k3gpu_limit 10 python3 - "$k3gpu_server" <<'K3GPU_PY' 2>/dev/null || echo "error probe failed"
                __PY__
                K3GPU_PY
                  else
                    echo "no-python3"
                  fi
                fi
                k3gpu_section end
                exit 0
                """.replace("__SERVER__", server == null ? "" : server).replace("__OPTIONS__", options)
                .replace("__PY__\n", UDP_PROBE);
    }

    /** What the probe found; absent values are null (or empty). */
    public record Result(String kernelConfigSource, Map<String, String> kernelConfig, String cgroupFs,
                         List<String> cgroupControllers, Map<String, Boolean> procCgroups, List<String> swaps,
                         String diskPath, Long diskSizeKiB, Long diskAvailKiB, List<String> csvFiles,
                         List<Runtime> runtimes, List<String> addresses, Tcp serverTcp, String serverUdp) {
        public Result {
            kernelConfig = kernelConfig == null ? Map.of() : Map.copyOf(kernelConfig);
            cgroupControllers = cgroupControllers == null ? List.of() : List.copyOf(cgroupControllers);
            procCgroups = procCgroups == null ? Map.of() : Map.copyOf(procCgroups);
            swaps = swaps == null ? List.of() : List.copyOf(swaps);
            csvFiles = csvFiles == null ? List.of() : List.copyOf(csvFiles);
            runtimes = runtimes == null ? List.of() : List.copyOf(runtimes);
            addresses = addresses == null ? List.of() : List.copyOf(addresses);
        }
    }

    /** One {@code nvidia-container-runtime} file and the cksum of its content. */
    public record Runtime(String path, String checksum) {
    }

    /**
     * The TLS request to the server: {@code curlExit} (0: an HTTP answer; 7: refused or no route; 28: timed out;
     * 35: TLS failed), the HTTP status line, the server's {@code Date} and the node's clock before and after
     * (seconds since the epoch); {@code noCurl} when the node has no curl.
     */
    public record Tcp(boolean noCurl, Integer curlExit, String statusLine, String date, Double before, Double after) {
    }

    private static final Pattern CONFIG_LINE = Pattern.compile("^CONFIG_([A-Z0-9_]+)=([ym])$");
    private static final Pattern DF_LINE = Pattern.compile("^\\S+\\s+(\\d+)\\s+\\d+\\s+(\\d+)\\s+\\d+%\\s+\\S.*$");
    private static final Pattern PATH_WORD = Pattern.compile("[A-Za-z0-9._/+-]{1,512}");

    /** Parses the script's output; a cut-short output (no end marker) is an error. */
    public static Result parse(String host, String output) {
        Map<String, String> s = FactsParser.sections(output == null ? "" : output);
        if (!s.containsKey("end")) {
            throw new K3gpuException(ExitCode.REMOTE_COMMAND, "the doctor probe on " + host + " ended early",
                    "run it again; if it persists, run the probe by hand with sh -x");
        }
        String source = null;
        Map<String, String> config = new LinkedHashMap<>();
        for (String line : lines(s.get("kernel-config"))) {
            if (line.startsWith("source ") && source == null && PATH_WORD.matcher(line.substring(7)).matches()) {
                source = line.substring(7);
            }
            Matcher m = CONFIG_LINE.matcher(line);
            if (m.matches()) {
                config.put(m.group(1), m.group(2));
            }
        }
        String cgroupFs = first(s.get("cgroup-fs"));
        List<String> controllers = new ArrayList<>();
        String c = first(s.get("cgroup-controllers"));
        if (c != null) {
            for (String w : c.split("\\s+")) {
                if (w.matches("[a-z_]{1,32}")) {
                    controllers.add(w);
                }
            }
        }
        Map<String, Boolean> procCgroups = new LinkedHashMap<>();
        for (String line : lines(s.get("proc-cgroups"))) {
            String[] f = line.split("\\s+");
            if (f.length == 4 && f[0].matches("[a-z_]{1,32}") && f[3].matches("[01]")) {
                procCgroups.put(f[0], f[3].equals("1"));
            }
        }
        List<String> swaps = new ArrayList<>();
        for (String line : lines(s.get("swaps"))) {
            String[] f = line.split("\\s+");
            if (f.length >= 3 && !f[0].equals("Filename") && PATH_WORD.matcher(f[0]).matches()) {
                swaps.add(f[0] + " (" + f[1] + ", " + (f[2].matches("\\d{1,15}") ? f[2] + " KiB" : "?") + ")");
            }
        }
        String diskPath = null;
        Long size = null;
        Long avail = null;
        for (String line : lines(s.get("rancher-disk"))) {
            if (line.startsWith("path ") && PATH_WORD.matcher(line.substring(5)).matches()) {
                diskPath = line.substring(5);
            }
            Matcher m = DF_LINE.matcher(line);
            if (m.matches() && m.group(1).length() < 16 && m.group(2).length() < 16) {
                size = Long.parseLong(m.group(1));
                avail = Long.parseLong(m.group(2));
            }
        }
        List<String> csv = new ArrayList<>();
        for (String line : lines(s.get("csv"))) {
            if (PATH_WORD.matcher(line).matches()) {
                csv.add(line);
            }
        }
        List<Runtime> runtimes = new ArrayList<>();
        for (String line : lines(s.get("runtimes"))) {
            String[] f = line.split(" ");
            if (f.length == 2 && PATH_WORD.matcher(f[0]).matches() && f[1].matches("\\d{1,12}")) {
                runtimes.add(new Runtime(f[0], f[1]));
            }
        }
        List<String> addresses = new ArrayList<>();
        String a = first(s.get("addresses"));
        if (a != null) {
            for (String w : a.split("\\s+")) {
                if (w.matches("[0-9a-fA-F.:]{2,45}")) {
                    addresses.add(w);
                }
            }
        }
        return new Result(source, config, cgroupFs != null && cgroupFs.matches("[a-z0-9_]{1,32}") ? cgroupFs : null,
                controllers, procCgroups, swaps, diskPath, size, avail, csv, runtimes, addresses,
                tcp(s.get("server-tcp")), udp(first(s.get("server-udp"))));
    }

    private static Tcp tcp(String section) {
        List<String> lines = lines(section);
        if (lines.isEmpty()) {
            return null;
        }
        if (lines.get(0).equals("no-curl")) {
            return new Tcp(true, null, null, null, null, null);
        }
        Integer rc = null;
        String status = null;
        String date = null;
        Double before = null;
        Double after = null;
        for (String line : lines) {
            if (line.startsWith("rc ") && line.substring(3).matches("\\d{1,3}")) {
                rc = Integer.parseInt(line.substring(3));
            } else if (line.startsWith("before ")) {
                before = seconds(line.substring(7));
            } else if (line.startsWith("after ")) {
                after = seconds(line.substring(6));
            } else if (line.startsWith("HTTP/") && line.length() < 64) {
                status = line.strip();
            } else if (line.toLowerCase(Locale.ROOT).startsWith("date:") && line.length() < 64) {
                date = line.substring(5).strip();
            }
        }
        return new Tcp(false, rc, status, date, before, after);
    }

    /** {@code 1764937000.123456789}, or whole seconds where date has no %N (busybox prints it literally). */
    private static Double seconds(String text) {
        Matcher m = Pattern.compile("^(\\d{1,12})(?:\\.(\\d{1,9}))?.*$").matcher(text.strip());
        if (!m.matches()) {
            return null;
        }
        return Double.parseDouble(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)));
    }

    private static String udp(String line) {
        if (line == null) {
            return null;
        }
        return line.matches("(reply|silent|refused|no-python3|error [A-Za-z ]{1,60})") ? line : "error unexpected";
    }

    private static String first(String text) {
        List<String> l = lines(text);
        return l.isEmpty() ? null : l.get(0);
    }

    private static List<String> lines(String text) {
        return FactsParser.lines(text);
    }
}
