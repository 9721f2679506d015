#!/usr/bin/python3 -S
"""nvidia-smi of a k3gpu lab dgpu node: replays captures of a real NVIDIA H200 (driver 580.159.04, CUDA 13.0).

Data: /usr/local/lib/k3gpu-lab/nvidia-smi/ (the capture files, see fixtures/nvidia-smi/README.md).
Supported: (no args) summary table, -L, --version, --help-query-gpu, -q -x (the recorded XML),
--query-gpu=<any field of help-query-gpu.txt> --format=csv[,noheader][,nounits], --query-compute-apps=...,
-i/--id, -l/--loop SEC, -lms/--loop-ms MS (one row per GPU per tick, until killed).
Values: the idle capture (q-header.csv, q-loop.csv) unless /etc/k3gpu-lab/gpu-load says "busy", then the capture
taken under a matrix-multiply load (busy_noheader_nounits.csv, busy_q.xml, busy_apps.csv), cycling through its rows.
Fields the captures do not cover print [N/A]. Headers use the field's canonical name plus " [unit]".
"""
import os
import re
import signal
import sys
import time

FSROOT = os.environ.get("K3GPU_LAB_FSROOT", "")
DATA = FSROOT + "/usr/local/lib/k3gpu-lab/nvidia-smi"
LOAD_FILE = FSROOT + "/etc/k3gpu-lab/gpu-load"
NA = "[N/A]"


def read(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


def fields():
    """canonical name -> canonical name, for every name and alias of help-query-gpu.txt (in order)."""
    names, order = {}, []
    for line in read("help-query-gpu.txt").splitlines():
        m = re.match(r'^"([^"]+)"(?: or "([^"]+)")?\s*$', line)
        if m:
            canon = m.group(1)
            order.append(canon)
            names[canon] = canon
            if m.group(2):
                names.setdefault(m.group(2), canon)
    return names, order


def unit_of(field):
    if field.startswith(("memory.", "protected_memory.")) and field not in ("memory.reserved_percent",):
        return "MiB"
    if field.startswith("utilization.") or field == "fan.speed":
        return "%"
    if field.startswith("clocks_event_reasons_counters."):
        return "us"
    if field.startswith("clocks.") and not field.startswith("clocks_"):
        return "MHz"
    if field.startswith(("power.draw", "power.limit", "power.default_limit", "power.min_limit", "power.max_limit",
                         "enforced.power.limit", "module.power.", "module.enforced.power.limit")):
        return "W"
    if field.startswith("power_smoothing.") and ("floor" in field and "multiplier" not in field
                                                 or field.endswith(("_offset", "_point"))):
        return "W"
    return None


def csv_row(line):
    return [c.strip() for c in line.split(",")]


def hostname():
    try:
        with open("/proc/sys/kernel/hostname") as f:
            return f.read().strip()
    except OSError:
        return ""


def base_values():
    """The idle GPU: every value (with unit) the captures tell, for one GPU."""
    v = {}
    header, values = read("q-header.csv").splitlines()[:2]
    for h, x in zip(csv_row(header), csv_row(values)):
        v[h.split(" [")[0]] = x
    uuid = v["uuid"]
    static = {
        "count": "1", "serial": "1653824016154", "pci.domain": "0x0000", "pci.bus": "0x00", "pci.device": "0x06",
        "pci.baseClass": "0x3", "pci.subClass": "0x2", "pci.device_id": "0x233510DE", "pci.sub_device_id": "0x18BF10DE",
        "pcie.link.gen.current": "5", "pcie.link.gen.gpucurrent": "5", "pcie.link.gen.max": "5",
        "pcie.link.gen.gpumax": "5", "pcie.link.gen.hostmax": "5", "pcie.link.width.current": "16",
        "pcie.link.width.max": "16", "display_mode": "Requested functionality has been deprecated",
        "display_attached": "Yes", "display_active": "Disabled", "persistence_mode": "Enabled",
        "addressing_mode": "None", "accounting.mode": "Disabled", "accounting.buffer_size": "4000",
        "vbios_version": "96.00.A5.00.1A", "inforom.img": "G520.0282.02.02", "inforom.oem": "2.1",
        "inforom.ecc": "7.16", "gpu_recovery_action": "None",
        "clocks_event_reasons.supported": "0x00000000000001FF", "clocks_event_reasons.active": "0x0000000000000001",
        "clocks_event_reasons.gpu_idle": "Active", "clocks_event_reasons.applications_clocks_setting": "Not Active",
        "clocks_event_reasons.sw_power_cap": "Not Active", "clocks_event_reasons.hw_slowdown": "Not Active",
        "clocks_event_reasons.hw_thermal_slowdown": "Not Active",
        "clocks_event_reasons.hw_power_brake_slowdown": "Not Active",
        "clocks_event_reasons.sw_thermal_slowdown": "Not Active", "clocks_event_reasons.sync_boost": "Not Active",
        "clocks_event_reasons_counters.sw_power_cap": "0 us", "clocks_event_reasons_counters.sync_boost": "0 us",
        "clocks_event_reasons_counters.sw_thermal_slowdown": "0 us",
        "clocks_event_reasons_counters.hw_thermal_slowdown": "0 us",
        "clocks_event_reasons_counters.hw_power_brake_slowdown": "0 us",
        "memory.reserved": "616 MiB", "compute_mode": "Default",
        "utilization.encoder": "0 %", "utilization.decoder": "0 %", "utilization.jpeg": "0 %",
        "utilization.ofa": "0 %", "encoder.stats.sessionCount": "0", "encoder.stats.averageFps": "0",
        "encoder.stats.averageLatency": "0", "ecc.mode.current": "Enabled", "ecc.mode.pending": "Enabled",
        "remapped_rows.correctable": "0", "remapped_rows.correctable_inactive": "0",
        "remapped_rows.uncorrectable": "2", "remapped_rows.uncorrectable_inactive": "0",
        "remapped_rows.pending": "No", "remapped_rows.failure": "No", "remapped_rows.histogram.max": "3071",
        "remapped_rows.histogram.high": "0", "remapped_rows.histogram.partial": "1",
        "remapped_rows.histogram.low": "0", "remapped_rows.histogram.none": "0", "temperature.gpu.tlimit": "40",
        "enforced.power.limit": "700.00 W", "power.default_limit": "700.00 W", "power.min_limit": "200.00 W",
        "power.max_limit": "700.00 W", "clocks.current.video": "1545 MHz", "clocks.applications.graphics": "1980 MHz",
        "clocks.applications.memory": "3201 MHz", "clocks.default_applications.graphics": "1980 MHz",
        "clocks.default_applications.memory": "3201 MHz", "clocks.max.graphics": "1980 MHz",
        "clocks.max.sm": "1980 MHz", "clocks.max.memory": "3201 MHz", "mig.mode.current": "Disabled",
        "mig.mode.pending": "Disabled", "c2c.mode": "Disabled", "protected_memory.total": "0 MiB",
        "protected_memory.used": "0 MiB", "protected_memory.free": "0 MiB", "platform.module_id": "7",
    }
    for kind in ("volatile", "aggregate"):
        for c in ("corrected", "uncorrected"):
            for part in ("device_memory", "dram", "sram", "total"):
                static["ecc.errors.%s.%s.%s" % (c, kind, part)] = "3" if kind == "aggregate" and part != "sram" \
                    else "0"
    for part in ("sram.parity", "sram.secded"):
        static["ecc.errors.uncorrected.volatile." + part] = "0"
        static["ecc.errors.uncorrected.aggregate." + part] = "0"
    static["ecc.errors.uncorrected.aggregate.sram.thresholdExceeded"] = "No"
    for part in ("l2", "sm", "mcu", "pcie", "other"):
        static["ecc.errors.uncorrected.aggregate.sram." + part] = "0"
    for k, x in static.items():
        v.setdefault(k, x)
    v["hostname"] = hostname() or NA
    return v, uuid


def busy_overrides():
    return {"clocks_event_reasons.gpu_idle": "Not Active", "clocks_event_reasons.sw_power_cap": "Active",
            "clocks_event_reasons.active": "0x0000000000000004",
            "clocks_event_reasons_counters.sw_power_cap": "6148980 us", "temperature.gpu.tlimit": "21",
            "temperature.memory": "50", "power.draw.average": "692.72 W", "power.draw.instant": "678.05 W",
            "clocks.current.graphics": "1440 MHz", "clocks.current.video": "1470 MHz"}


def with_unit(field, raw):
    u = unit_of(field)
    if raw in (NA, "[Not Supported]", "N/A") or u is None:
        return raw
    if u == "W":
        try:
            return "%.2f W" % float(raw)
        except ValueError:
            return raw
    return "%s %s" % (raw, u)


def busy():
    try:
        with open(LOAD_FILE) as f:
            return f.read().strip() == "busy"
    except OSError:
        return False


def sample(tick, values, uuid):
    """The values of one GPU at loop tick `tick` (0 for a single query)."""
    v = dict(values)
    if busy():
        v.update(busy_overrides())
        names = read("query_fields.txt").strip().split(",")
        rows = [csv_row(l) for l in read("busy_noheader_nounits.csv").splitlines() if l.strip()]
        row = rows[tick % len(rows)]
        canon, _ = fields()
        for name, raw in zip(names, row):
            v[canon.get(name, name)] = with_unit(canon.get(name, name), raw)
        v["uuid"] = uuid
        v["power.draw.instant"] = v["power.draw"]
    else:
        rows = [csv_row(l) for l in read("q-loop.csv").splitlines() if l.strip()]
        row = rows[tick % len(rows)]  # index, name, temperature.gpu, utilization.gpu, memory.total, memory.used, power.draw
        v["temperature.gpu"] = row[2]
        v["power.draw"] = with_unit("power.draw", row[6])
        if tick > 0:
            v["power.draw.instant"] = v["power.draw"]
    now = time.time()
    v["timestamp"] = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(now)) + ".%03d" % int((now % 1) * 1000)
    return v


def strip_unit(x):
    m = re.match(r"^(-?[0-9.]+) (%|MiB|W|MHz|us)$", x)
    return m.group(1) if m else x


def usage_error(msg):
    sys.stderr.write(msg + "\n")
    return 2


def cell(left, right, width):
    return left + " " * max(1, width - len(left) - len(right)) + right


def table(v):
    power = int(float(strip_unit(v["power.draw"])))
    cap = int(float(strip_unit(v["power.limit"])))
    used, total = strip_unit(v["memory.used"]), strip_unit(v["memory.total"])
    util = strip_unit(v["utilization.gpu"])
    ver = dict(l.split(":", 1) for l in read("version.txt").splitlines() if ":" in l)
    drv, cuda = ver["DRIVER version      "].strip(), ver["CUDA Version        "].strip()
    temp = v["temperature.gpu"]
    out = [time.strftime("%a %b %d %H:%M:%S %Y       "),
           "+-----------------------------------------------------------------------------------------+",
           "| NVIDIA-SMI %-22s Driver Version: %-14s CUDA Version: %-9s|" % (drv, drv, cuda),
           "+-----------------------------------------+------------------------+----------------------+",
           "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
           "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
           "|                                         |                        |               MIG M. |",
           "|=========================================+========================+======================|",
           "|" + cell("%4s  %s" % (v["index"], v["name"]), "On  ", 41) + "|" + "%19s %3s " % (v["pci.bus_id"], "Off")
           + "|" + "%21s " % "0" + "|",
           "|" + cell(" N/A   %2sC    %s" % (temp, v["pstate"]), "%4dW / %4dW " % (power, cap), 41) + "|"
           + "%23s " % ("%sMiB / %sMiB" % (used, total)) + "|" + "%8s      Default " % (util + "%") + "|",
           "|                                         |                        |             Disabled |",
           "+-----------------------------------------+------------------------+----------------------+",
           "",
           "+-----------------------------------------------------------------------------------------+",
           "| Processes:                                                                              |",
           "|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |",
           "|        ID   ID                                                               Usage      |",
           "|=========================================================================================|"]
    if busy():
        out.append("|    0   N/A  N/A             418      C   python3                                1002MiB |")
    else:
        out.append("|  No running processes found                                                             |")
    out.append("+-----------------------------------------------------------------------------------------+")
    return "\n".join(out) + "\n"


def main(argv):
    query, fmt, loop_s, loop_ms, apps = None, None, None, None, None
    ids = None
    q = x = False
    i = 0

    def value_of(a, name):
        nonlocal i
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
        i += 1
        if i >= len(argv):
            raise SystemExit(usage_error('Option "%s" requires an argument.' % name))
        return argv[i]

    while i < len(argv):
        a = argv[i]
        if a in ("-L", "--list-gpus"):
            sys.stdout.write(read("L.txt"))
            return 0
        if a == "--version":
            sys.stdout.write(read("version.txt"))
            return 0
        if a == "--help-query-gpu":
            sys.stdout.write(read("help-query-gpu.txt"))
            return 0
        if a in ("-h", "--help"):
            print("NVIDIA System Management Interface -- v%s (k3gpu lab replay of an NVIDIA H200)"
                  % read("version.txt").split(":")[1].split()[0])
            return 0
        if a.startswith("--query-gpu"):
            query = value_of(a, "--query-gpu")
        elif a.startswith("--query-compute-apps"):
            apps = value_of(a, "--query-compute-apps")
        elif a.startswith("--format"):
            fmt = value_of(a, "--format")
        elif a in ("-l", "--loop") or a.startswith("--loop="):
            if a.startswith("--loop="):
                loop_s = float(a.split("=", 1)[1])
            elif i + 1 < len(argv) and re.match(r"^\d+$", argv[i + 1]):
                i += 1
                loop_s = float(argv[i])
            else:
                loop_s = 5.0
        elif a in ("-lms", "--loop-ms") or a.startswith("--loop-ms="):
            if a.startswith("--loop-ms="):
                loop_ms = float(a.split("=", 1)[1])
            elif i + 1 < len(argv) and re.match(r"^\d+$", argv[i + 1]):
                i += 1
                loop_ms = float(argv[i])
            else:
                loop_ms = 5000.0
        elif a in ("-i", "--id") or a.startswith("--id="):
            ids = value_of(a, "--id").split(",")
        elif a in ("-q", "--query"):
            q = True
        elif a in ("-x", "--xml-format"):
            x = True
        elif a == "-qx" or a == "-xq":
            q = x = True
        else:
            sys.stderr.write("Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n")
            return 2
        i += 1
    values, uuid = base_values()
    gpus = [values]
    if ids is not None:
        valid = {"0", uuid, values["pci.bus_id"]}
        if any(g not in valid for g in ids):
            sys.stderr.write("No devices were found\n")
            return 6
    if q:
        if x:
            sys.stdout.write(read("busy_q.xml"))
            return 0
        sys.stderr.write("nvidia-smi -q (text) is not replayed by the k3gpu lab; use -q -x or --query-gpu\n")
        return 2
    interval = loop_ms / 1000.0 if loop_ms else loop_s
    if apps is not None:
        if fmt is None:
            return usage_error('"--format" must be specified with "--query-compute-apps".')
        opts = fmt.split(",")
        lines = read("busy_apps.csv" if busy() else "apps.csv").splitlines()
        if "noheader" in opts:
            lines = lines[1:]
        if "nounits" in opts:
            lines = [l.replace(" MiB", "").replace(" [MiB]", "") if j else l for j, l in enumerate(lines)]
        print("\n".join(lines))
        return 0
    if query is None:
        if interval:
            tick = 0
            while True:
                sys.stdout.write(table(sample(tick, values, uuid)))
                sys.stdout.flush()
                tick += 1
                time.sleep(interval)
        sys.stdout.write(table(sample(0, values, uuid)))
        return 0
    if fmt is None:
        return usage_error('"--format" must be specified with "--query-gpu".')
    opts = [o.strip() for o in fmt.split(",")]
    if "csv" not in opts or any(o not in ("csv", "noheader", "nounits") for o in opts):
        return usage_error('"%s" is not a valid format. Supported: csv, noheader, nounits.' % fmt)
    canon, _ = fields()
    wanted = [f.strip() for f in query.split(",") if f.strip()]
    for f in wanted:
        if f not in canon:
            sys.stderr.write('Field "%s" is not a valid field to query.\n\n' % f)
            return 2
    cols = [canon[f] for f in wanted]
    if "noheader" not in opts:
        print(", ".join(c + (" [%s]" % unit_of(c) if unit_of(c) else "") for c in cols))
        sys.stdout.flush()
    tick = 0
    while True:
        for _ in gpus:
            v = sample(tick, values, uuid)
            row = [v.get(c, NA) for c in cols]
            if "nounits" in opts:
                row = [strip_unit(r) for r in row]
            print(", ".join(row))
        sys.stdout.flush()
        if not interval:
            return 0
        tick += 1
        time.sleep(interval)


def run():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda *_: os._exit(0))
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        except OSError:
            pass
        sys.exit(0)


if __name__ == "__main__":
    run()
