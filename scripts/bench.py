#!/usr/bin/env python3
"""Runs Rehearse's benchmarks side by side with the anchors of ../shared/anchors/des and writes
the medians and ratios into BENCHMARKS.md.

Runs alternate (baseline, rehearse, baseline, rehearse, ...) so that a noisy machine slows both
alike; ratios are taken between medians of the same session. Peak memory is each child's
ru_maxrss, read with wait4, so every figure comes from the same process that did the work.
Throughput cells give the median and, under it, the spread: the lowest and highest run.

`--only queue,traffic` runs those sections alone and replaces them in --out, leaving the others
as they were (sections: kernel, queue, rpc, traffic).
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, time


def run_rss(cmd, cwd=None):
    """Runs cmd via fork/exec and wait4 to get this child's own peak RSS (KiB)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        if cwd: os.chdir(cwd)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b: break
        chunks.append(b)
    os.close(r)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed with status {status}")
    return b"".join(chunks).decode(), usage.ru_maxrss

def kv(line):
    return dict(re.findall(r"(\w+)=([^\s]+)", line))

def median(xs): return statistics.median(xs) if xs else float("nan")

def spread(xs):
    """Median with the lowest and highest run: '8,935,634 (8.1M–9.2M)'."""
    return f"{median(xs):,.0f} ({min(xs) / 1e6:.1f}M–{max(xs) / 1e6:.1f}M)"

SECTIONS = ("kernel", "queue", "rpc", "traffic")
HEADINGS = {"kernel": "## Event kernel against the anchors", "queue": "## Event queue",
            "rpc": "## RPC-level model (GitalyModel)", "traffic": "## Traces (Traffic)"}

def splice(old, sections):
    """`old` (a BENCHMARKS.md) with each section in `sections` replaced or appended."""
    parts = re.split(r"(?m)^(?=## )", old)
    out = []
    for part in parts:
        name = next((k for k, h in HEADINGS.items() if part.startswith(h)), None)
        out.append(sections.pop(name) if name in sections else part)
    return "".join(out + list(sections.values()))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rehearse", required=True)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", "3")))
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--hold-events", type=int, default=10_000_000)
    ap.add_argument("--simpy-customers", type=int, default=200_000)
    ap.add_argument("--traffic-runs", type=int, default=int(os.environ.get("TRAFFIC_RUNS", "2")))
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections to run: " + ", ".join(SECTIONS))
    a = ap.parse_args()
    only = a.only.split(",")
    if not set(only) <= set(SECTIONS):
        sys.exit(f"bench: --only takes {', '.join(SECTIONS)}, got {a.only}")
    sections = {}
    if "kernel" in only: sections["kernel"] = kernel_section(a)
    if "queue" in only: sections["queue"] = queue_section(a)
    if "rpc" in only: sections["rpc"] = rpc_section(a)
    if "traffic" in only: sections["traffic"] = traffic_section(a)
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read()); cpu = m.group(1) if m else cpu
    except OSError:
        pass
    stamp = (f"on {os.cpu_count()} cores ({cpu}), written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    text = {k: "\n".join(v + [f"_Measured {stamp}._", "", ""]) for k, v in sections.items()}
    # Sections this script does not write (the fuzzing record) are kept as they are.
    old = open(a.out).read() if os.path.exists(a.out) else ""
    if set(only) == set(SECTIONS) or not old:
        head = "\n".join([
            "# Benchmarks", "",
            "Figures from `make bench` (scripts/bench.py): medians of "
            f"{a.runs} alternating runs per engine in one session, with the lowest and highest run beside throughputs. "
            "The machines are noisy: compare the ratios, which come from the same session, not the absolute rates. "
            "Peak memory is each process's own ru_maxrss. Each section says when and where it was measured.", "", ""])
        old = head + (old[old.index("\n## ") + 1:] if "\n## " in old else "")
    new = splice(old, dict(text))
    with open(a.out, "w") as f:
        f.write(new.rstrip("\n") + "\n")
    print("".join(text.values()))


def kernel_section(a):
    anchors = os.path.join(a.shared, "anchors", "des")
    scratch = os.path.abspath(".build-baseline")
    print("bench: building the plain-Swift baseline", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--package-path", os.path.join(anchors, "baseline-swift"),
                    "--scratch-path", scratch], check=True, stdout=subprocess.DEVNULL)
    desbench = os.path.join(scratch, "release", "desbench")
    have_simpy = subprocess.run([sys.executable, "-c", "import simpy"], capture_output=True).returncode == 0
    reh = a.rehearse
    N = str(a.customers)
    models = {
        "mmc": ([desbench, "mmc", N, "42"], [reh, "bench", "kernel", "--model", "mmc", "--customers", N, "--seed", "42", "--json"]),
        "storage": ([desbench, "storage", N, "42"], [reh, "bench", "kernel", "--model", "storage", "--customers", N, "--seed", "42", "--json"]),
        "hold": ([desbench, "hold", "1000000", str(a.hold_events), "42"],
                 [reh, "bench", "kernel", "--model", "hold", "--pending", "1000000", "--events", str(a.hold_events), "--seed", "42", "--json"]),
    }
    rows = []
    for name, (base_cmd, our_cmd) in models.items():
        b_eps, b_rss, o_eps, o_rss, s_eps = [], [], [], [], []
        for i in range(a.runs):
            print(f"bench: {name} run {i + 1}/{a.runs}", file=sys.stderr)
            out, rss = run_rss(base_cmd)
            b_eps.append(float(kv(out)["events_per_s"])); b_rss.append(rss)
            out, rss = run_rss(our_cmd)
            o_eps.append(json.loads(out)["events_per_second"]); o_rss.append(rss)
            if have_simpy and name in ("mmc", "storage"):
                out, _ = run_rss([sys.executable, os.path.join(anchors, "simpy_models.py"), name, str(a.simpy_customers), "42"])
                s_eps.append(float(re.search(r"'events_per_s': ([0-9.e+]+)", out).group(1)))
        rows.append((name, b_eps, o_eps, median(b_rss), median(o_rss), s_eps))
    lines = [
        HEADINGS["kernel"], "",
        f"Models of ../shared/anchors/des/README.md: M/M/8 at utilisation 0.9 with {a.customers:,} customers; the "
        f"three-node storage model with {a.customers:,} arrivals; hold with 10^6 pending events and {a.hold_events:,} events. "
        f"SimPy (process per customer) runs {a.simpy_customers:,} customers; its rate is per event, so it compares directly.", "",
        "| model | baseline events/s | SimKernel events/s | SimKernel / baseline | bar | SimPy events/s | SimKernel / SimPy | baseline peak MiB | SimKernel peak MiB | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    bars = {"mmc": "≥ 0.8", "storage": "≥ 0.8", "hold": "≥ 1.5"}
    for name, b, o, brss, orss, s in rows:
        simpy = spread(s) if s else ("not installed" if name in ("mmc", "storage") else "n/a (no SimPy model)")
        simpy_ratio = f"{median(o) / median(s):,.0f}×" if s else "-"
        lines.append(f"| {name} | {spread(b)} | {spread(o)} | {median(o) / median(b):.2f} | {bars[name]} | {simpy} | {simpy_ratio} | "
                     f"{brss / 1024:.1f} | {orss / 1024:.1f} | {orss / brss:.2f} |")
    lines += ["", "Bars (issue 2): SimKernel at 0.8× the baseline or better on mmc and storage, 1.5× or better on hold "
              "with 10^6 pending; at least 100× SimPy's process-per-customer model; peak memory within 2× the baseline's on mmc.", ""]
    return lines


QUEUES = (("binary", "binary heap"), ("quaternary", "4-ary heap"), ("radix", "radix heap"),
          ("adaptive", "adaptive alone"), ("kernel", "kernel run loop (adaptive)"))

def queue_section(a):
    rows = []
    for pending in (10, 1_000, 10_000, 30_000, 100_000, 1_000_000):
        figures = {q: [] for q, _ in QUEUES}
        # Alternate the structures run by run, so that a slow spell of the machine hits them all.
        for i in range(a.runs):
            print(f"bench: queue {pending:,} pending, run {i + 1}/{a.runs}", file=sys.stderr)
            for q, _ in QUEUES:
                out, _ = run_rss([a.rehearse, "bench", "kernel", "--model", "hold", "--pending", str(pending),
                                  "--events", "5000000", "--queue", q, "--json"])
                figures[q].append(json.loads(out)["events_per_second"])
        rows.append((pending, figures))
    lines = [HEADINGS["queue"], "",
             "The hold model (each event reschedules itself at now + Exp(1)), 5,000,000 events, events per second: median "
             f"of {a.runs} runs and, in brackets, the lowest and highest. The first four columns run the model directly on one "
             "queue structure; `adaptive alone` is the kernel's queue (4-ary heap until more than 32,768 events are pending, "
             "radix heap until fewer than 8,192) in that same loop; the last column is the kernel's run loop with the "
             "adaptive queue, which adds the model's dispatch. Where two medians lie within each other's spread, this "
             "table does not tell them apart.", "",
             "| pending | " + " | ".join(label for _, label in QUEUES) + " |", "|---" * (len(QUEUES) + 1) + "|"]
    for pending, f in rows:
        lines.append(f"| {pending:,} | " + " | ".join(spread(f[q]) for q, _ in QUEUES) + " |")
    lines.append("")
    return lines


def rpc_section(a):
    reh = a.rehearse
    print("bench: RPC-level model", file=sys.stderr)
    rpc_eps, rpc_rss = [], []
    for i in range(a.runs):
        out, rss = run_rss([reh, "bench", "rpc", "--rpcs", "2000000", "--json"])
        rpc_eps.append(json.loads(out)["rpcs_per_second"]); rpc_rss.append(rss)
    horizon = {}
    for hours in ("1", "24"):
        out, rss = run_rss([reh, "bench", "rpc", "--hours", hours, "--json"])
        horizon[hours] = (json.loads(out), rss)
    h1, h24 = horizon["1"], horizon["24"]
    return [HEADINGS["rpc"], "",
            "3 Gitaly nodes behind 3 Praefects, replication factor 3, strong consistency, 800 RPC/s of 70% reads and "
            "30% writes (`rehearse bench rpc`): simulated RPCs completed per wall-clock second, 2,000,000 RPCs per run. "
            "Bar (issue 3): at least 2,000,000 per second on one core.", "",
            "| runs | median RPCs/s | min | max | peak MiB |", "|---|---|---|---|---|",
            f"| {a.runs} | {median(rpc_eps):,.0f} | {min(rpc_eps):,.0f} | {max(rpc_eps):,.0f} | {median(rpc_rss) / 1024:.1f} |", "",
            "Memory follows live state, not simulated time: the same traffic for one and for 24 simulated hours "
            "(bar: peak memory within 10%).", "",
            "| horizon | RPCs | events | wall s | peak MiB |", "|---|---|---|---|---|",
            f"| 1 h | {h1[0]['rpcs']:,.0f} | {h1[0]['events']:,} | {h1[0]['wall_seconds']:.1f} | {h1[1] / 1024:.1f} |",
            f"| 24 h | {h24[0]['rpcs']:,.0f} | {h24[0]['events']:,} | {h24[0]['wall_seconds']:.1f} | {h24[1] / 1024:.1f} |",
            f"| ratio | | | | {h24[1] / h1[1]:.3f} |", ""]


# `rehearse trace bench` output. The import line may also say how many lines became records
# ("trace import: 500000 lines (450000 records) in 1.80 s = 250000 records/s"); the rate then
# counts records only, as it should: skipped and malformed lines are read but not imported.
IMPORT = re.compile(r"trace import: (\d+) lines(?: \((\d+) records\))? in ([\d.]+) s")
FIRST_REPLAY = re.compile(r"trace replay \(first[^)]*\): (\d+) rows in ([\d.]+) s")
REPLAY = re.compile(r"trace replay: (\d+) rows in ([\d.]+) s")

def traffic_section(a):
    print("bench: trace import and replay", file=sys.stderr)
    tdir = os.path.abspath(".build-bench-traffic")
    runs = []
    for i in range(a.traffic_runs):
        out, rss = run_rss([a.rehearse, "trace", "bench", "--dir", tdir, "--lines", "500000", "--rows", "10000000"])
        imp, first, warm = IMPORT.search(out), FIRST_REPLAY.search(out), REPLAY.search(out)
        lines_read, records, imp_s = int(imp.group(1)), imp.group(2), float(imp.group(3))
        runs.append(dict(lines=lines_read, records=int(records) if records else None, import_s=imp_s,
                         first=int(first.group(1)) / float(first.group(2)), warm=int(warm.group(1)) / float(warm.group(2)), rss=rss))
    shutil.rmtree(tdir, ignore_errors=True)
    counted = all(r["records"] is not None for r in runs)
    lines = [HEADINGS["traffic"], "",
             "`rehearse trace bench`: import of a generated 500,000-line Gitaly JSON access log (about 1.3 KB a line, "
             "the shape of GitLab.com's lines; every tenth line a `diskcache state change` line, which is read and skipped) "
             "into a fresh SQLite store in one transaction, and two replays of a 10,000,000-row store into a counting event "
             "loop in one process: the first also packs the replay chunks, the second finds them packed. Peak memory is the "
             "whole process: generating, importing, filling and replaying, so it bounds replay's. Bars (issue 4): import "
             "≥ 200,000 lines/s, replay ≥ 5,000,000 rows/s, peak under 200 MB replaying 10^7 rows.", ""]
    if counted:
        lines += ["| run | import records/s | lines read/s | first replay rows/s | second replay rows/s | peak MiB |",
                  "|---|---|---|---|---|---|"]
        for i, r in enumerate(runs):
            lines.append(f"| {i + 1} | {r['records'] / r['import_s']:,.0f} | {r['lines'] / r['import_s']:,.0f} | "
                         f"{r['first']:,.0f} | {r['warm']:,.0f} | {r['rss'] / 1024:.1f} |")
    else:
        lines += ["The import rate counts every line read, skipped ones included: this `rehearse` does not report "
                  "how many became records.", "",
                  "| run | import lines/s (all lines) | first replay rows/s | second replay rows/s | peak MiB |",
                  "|---|---|---|---|---|"]
        for i, r in enumerate(runs):
            lines.append(f"| {i + 1} | {r['lines'] / r['import_s']:,.0f} | {r['first']:,.0f} | {r['warm']:,.0f} | {r['rss'] / 1024:.1f} |")
    lines.append("")
    return lines


if __name__ == "__main__":
    main()
