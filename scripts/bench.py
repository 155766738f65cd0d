#!/usr/bin/env python3
"""Runs Rehearse's benchmarks side by side with the anchors of ../shared/anchors/des and writes
the medians and ratios into BENCHMARKS.md.

Runs alternate (baseline, rehearse, baseline, rehearse, ...) so that a noisy machine slows both
alike; ratios are taken between medians of the same session. Peak memory is each child's
ru_maxrss, read with wait4, so every figure comes from the same process that did the work.
Throughput cells give the median and, under it, the spread: the lowest and highest run.

`--only queue,traffic` runs those sections alone and replaces them in --out, leaving the others
as they were (sections: kernel, queue, rpc, traffic, scale).
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

SECTIONS = ("kernel", "queue", "rpc", "traffic", "scale")
HEADINGS = {"kernel": "## Event kernel against the anchors", "queue": "## Event queue",
            "rpc": "## RPC-level model (GitalyModel)", "traffic": "## Traces (Traffic)",
            "scale": "## Scale: a GitLab.com-size fleet (issue 11)"}

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
    ap.add_argument("--scale-repositories", default=os.environ.get("SCALE_REPOSITORIES", "10000,30000,100000,300000,1000000"),
                    help="inventory sizes of the scale section, comma-separated")
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
    if "scale" in only: sections["scale"] = scale_section(a)
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


def scale_section(a):
    """One drain of models/gitlab-com.yaml per inventory size, run to its end, and one inventory
    at several horizons: the process's wall time and peak memory, the growth exponents fitted on
    log-log axes, and docs/scale-cost.svg."""
    import math
    sdir = os.path.abspath(".build-bench-scale")
    os.makedirs(sdir, exist_ok=True)
    model = "models/gitlab-com.yaml"
    # The shipped policy's gates judge apdex and error ratio, which need traffic; a drain of
    # millions of repositories runs without it until load-level traffic lands, so the gates go.
    policy = os.path.join(sdir, "gitlab-com-drain-ungated.yaml")
    with open("models/policies/gitlab-com-drain.yaml") as f:
        kept = [l for l in f if not re.match(r"^(gate:|  (apdexMin|errorRatioMax|diskFillMax|soak|window|onFailure):|    gate:)", l)]
    with open(policy, "w") as f:
        f.writelines(kept)
    def drain(n, hours):
        inv = os.path.join(sdir, f"inventory-{n}.csv")
        if not os.path.exists(inv):
            run_rss([a.rehearse, "inventory", "generate", "--model", model, "--repositories", str(n), "--seed", "1", "--out", inv])
        start = time.monotonic()
        out, rss = run_rss([a.rehearse, "migrate", "--model", model, "--inventory", inv, "--policy", policy,
                            "--hours", str(hours), "--seed", "1", "--json"])
        wall = time.monotonic() - start
        j = json.loads(out)
        return dict(n=n, hours=hours, wall=wall, run=j["wall_seconds"], rss=rss, events=j["events"],
                    moves=j["moves_finished"], days=(j.get("duration_seconds") or hours * 3600) / 86400,
                    finished="duration_seconds" in j)
    sizes = [int(x) for x in a.scale_repositories.split(",")]
    by_size = []
    for n in sizes:
        print(f"bench: scale, {n:,} repositories", file=sys.stderr)
        by_size.append(drain(n, 2000))
    horizon_n = 100_000
    by_hours = []
    for hours in (2, 4, 8, 16):
        print(f"bench: scale, {horizon_n:,} repositories for {hours} h", file=sys.stderr)
        by_hours.append(drain(horizon_n, hours))
    def slope(xs, ys):
        lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
        mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
        return sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sum((x - mx) ** 2 for x in lx)
    # Above 100,000 repositories, where fixed costs (start-up, the 220-node fleet) no longer dominate.
    big = [r for r in by_size if r["n"] >= 100_000] or by_size
    b_wall = slope([r["n"] for r in big], [r["wall"] for r in big]) if len(big) > 1 else float("nan")
    b_rss = slope([r["n"] for r in big], [r["rss"] for r in big]) if len(big) > 1 else float("nan")
    os.makedirs("docs", exist_ok=True)
    with open("docs/scale-cost.svg", "w") as f:
        f.write(scale_svg(by_size))
    lines = [HEADINGS["scale"], "",
             "`models/gitlab-com.yaml` (110 VM storages beside 110 pods) drained by `models/policies/gitlab-com-drain.yaml` "
             "without its gates (they judge apdex and error ratio, which need traffic, and `rehearse migrate` runs "
             "none here; experiments/gitlab-com-scale.yaml runs them under a load), inventories from `rehearse inventory generate --seed 1`, one `rehearse migrate` "
             "process each, run to the drain's end: wall time and peak memory of the whole process (reading the "
             "inventory, planning, building the world, simulating). Bars (issue 11): one replication of the "
             "10-million-repository drain in at most 120 s and 4 GB; growth near linear.", "",
             "| repositories | moves finished | simulated days | events | simulation s | process s | peak MiB | bytes a repository |",
             "|---|---|---|---|---|---|---|---|"]
    for r in by_size:
        lines.append(f"| {r['n']:,} | {r['moves']:,} | {r['days']:.2f} | {r['events']:,} | {r['run']:.1f} | {r['wall']:.1f} | "
                     f"{r['rss'] / 1024:,.0f} | {r['rss'] * 1024 / r['n']:,.0f} |")
    lines += ["", f"Growth from 100,000 repositories up, fitted on log-log axes: wall time ∝ n^{b_wall:.2f}, "
              f"peak memory ∝ n^{b_rss:.2f} (1.00 is linear). Plot: [docs/scale-cost.svg](docs/scale-cost.svg).", "",
              f"The horizon, with {horizon_n:,} repositories stopped after H simulated hours (memory should not follow it):", "",
              "| hours | moves finished | events | simulation s | process s | peak MiB |", "|---|---|---|---|---|---|"]
    for r in by_hours:
        lines.append(f"| {r['hours']} | {r['moves']:,} | {r['events']:,} | {r['run']:.1f} | {r['wall']:.1f} | {r['rss'] / 1024:,.0f} |")
    # Replications on both cores: four replications of the 100,000-repository drain on 1 thread
    # and on 2 (bar: at least 1.7 times as fast on 2).
    experiment = os.path.join(sdir, "parallel.yaml")
    with open(experiment, "w") as f:
        f.write(f"name: scale-parallel\nmodel: {os.path.abspath(model)}\ninventory: {{generate: {horizon_n}, seed: 1}}\n"
                f"policy: {policy}\nrun: {{hours: 2000, replications: 4, seed: 1}}\n")
    parallel = {}
    for threads in (1, 2):
        print(f"bench: scale, 4 replications of {horizon_n:,} repositories on {threads} thread(s)", file=sys.stderr)
        start = time.monotonic()
        _, rss = run_rss([a.rehearse, "run", experiment, "--threads", str(threads), "--json"])
        parallel[threads] = (time.monotonic() - start, rss)
    lines += ["", f"Replications at once: 4 replications of the {horizon_n:,}-repository drain (`rehearse run --threads T`). "
              "Bar (issue 9, kept in issue 11): 2 threads at least 1.7 times as fast as 1.", "",
              "| threads | process s | peak MiB | speed-up |", "|---|---|---|---|"]
    for threads, (wall, rss) in parallel.items():
        lines.append(f"| {threads} | {wall:.1f} | {rss / 1024:,.0f} | {parallel[1][0] / wall:.2f} |")
    # RPC level: one simulated hour of models/traffic/gitlab-com-git-fetch.yaml over the fleet.
    # The profile starts on a Monday at 00:00 UTC, whose hour runs at 0.65 × 1.15 of the mean;
    # --rate lifts it to the week's mean rate (the public daily figures) and to the weekday peak.
    hour_factor = 0.65 * 1.15
    rpc = []
    for label, factor in (("the public daily figures' mean", 1.0), ("the weekday peak (14:00)", 1.4 * 1.15)):
        print(f"bench: scale, one RPC-level hour at {label}", file=sys.stderr)
        start = time.monotonic()
        out, rss = run_rss([a.rehearse, "simulate", "--model", model, "--profile", "models/traffic/gitlab-com-git-fetch.yaml",
                            "--hours", "1", "--repositories", "1000000", "--seed", "1", "--rate", f"{factor / hour_factor:.4f}", "--json"])
        j = json.loads(out)
        rpc.append((label, j, time.monotonic() - start, rss))
    lines += ["", "RPC level: one simulated hour of `models/traffic/gitlab-com-git-fetch.yaml` (165 M clones and fetches a day "
              "and the RPCs around them, 5,870 calls/s on average, PUBLIC where the profile says so) over the same 220 nodes "
              "and 1,000,000 repositories, every call an event (`rehearse simulate`). Bar (issue 11): at most 40 s at the "
              "full GitLab.com rate.", "",
              "| rate | calls submitted | events | process s | peak MiB |", "|---|---|---|---|---|"]
    for label, j, wall, rss in rpc:
        lines.append(f"| {label} | {j['submitted']:,} | {j['events']:,} | {wall:.1f} | {rss / 1024:,.0f} |")
    lines.append("")
    shutil.rmtree(sdir, ignore_errors=True)
    return lines


def scale_svg(rows):
    """Two log-log panels, wall time and peak memory against repositories, with a slope-1 guide
    through the smallest run and the bar at 10 million repositories (120 s, 4 GB) as a red
    cross: a self-contained SVG, no plotting library needed."""
    import math
    w, h, pad = 380, 270, 62
    def panel(x0, key, scale, unit, title, bar):
        xs = [math.log10(r["n"]) for r in rows]
        ys = [math.log10(r[key] * scale) for r in rows]
        bar_x, bar_y = 7.0, math.log10(bar)
        lo_x, hi_x = math.floor(min(xs)), max(math.ceil(max(xs)), 7)
        guide_end = ys[0] + hi_x - xs[0]
        lo_y, hi_y = math.floor(min(ys)), math.ceil(max(ys + [guide_end, bar_y]))
        px = lambda x: x0 + pad + (x - lo_x) / (hi_x - lo_x) * (w - pad - 34)
        py = lambda y: h - 40 - (y - lo_y) / (hi_y - lo_y) * (h - 40 - 30)
        out = [f'<text x="{x0 + (w + pad) / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>',
               f'<rect x="{x0 + pad}" y="30" width="{w - pad - 34}" height="{h - 70}" fill="none" stroke="#999"/>']
        for d in range(lo_x, hi_x + 1):
            out.append(f'<text x="{px(d):.1f}" y="{h - 26}" text-anchor="middle">{10 ** d:,}</text>')
        for d in range(lo_y, hi_y + 1):
            out.append(f'<text x="{x0 + pad - 6}" y="{py(d) + 4:.1f}" text-anchor="end">{10.0 ** d:,g}</text>')
            out.append(f'<line x1="{x0 + pad}" x2="{x0 + w - 34}" y1="{py(d):.1f}" y2="{py(d):.1f}" stroke="#eee"/>')
        out.append(f'<polyline points="{px(xs[0]):.1f},{py(ys[0]):.1f} {px(hi_x):.1f},{py(guide_end):.1f}" fill="none" stroke="#bbb" stroke-dasharray="4 3"/>')
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
        out.append(f'<polyline points="{pts}" fill="none" stroke="#1f6fb2" stroke-width="2"/>')
        out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="#1f6fb2"/>' for x, y in zip(xs, ys)]
        bx, by = px(bar_x), py(bar_y)
        out.append(f'<path d="M{bx - 5:.1f},{by - 5:.1f} L{bx + 5:.1f},{by + 5:.1f} M{bx - 5:.1f},{by + 5:.1f} L{bx + 5:.1f},{by - 5:.1f}" stroke="#c0392b" stroke-width="2"/>')
        out.append(f'<text x="{bx - 8:.1f}" y="{by - 8:.1f}" text-anchor="end" fill="#c0392b">bar</text>')
        out.append(f'<text x="{x0 + (w + pad) / 2}" y="{h - 8}" text-anchor="middle">repositories (log scale)</text>')
        out.append(f'<text x="{x0 + 14}" y="{h / 2}" transform="rotate(-90 {x0 + 14} {h / 2})" text-anchor="middle">{unit}</text>')
        return out
    body = (panel(0, "wall", 1, "seconds", "wall time of one drain", 120)
            + panel(w, "rss", 1 / 1024, "MiB", "peak memory", 4e9 / 2 ** 20))
    legend = (f'<text x="{w}" y="{h + 14}" text-anchor="middle" fill="#777">blue: measured; dashed: linear growth '
              f'through the smallest run; red: issue 11\'s bar at 10 million repositories</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{h + 22}" font-family="sans-serif" font-size="11">'
            + "".join(body) + legend + "</svg>\n")


if __name__ == "__main__":
    main()
