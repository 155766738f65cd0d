#!/usr/bin/env python3
"""Seeds and runs the libFuzzer targets of Fuzz/ (built by `make fuzz`).

Usage: Fuzz/run.py --seconds N [--cpu-seconds C] [--jobs K] [--nice P] [--build-dir .build-fuzz] [TARGET ...]

Each target runs for N seconds of wall time in libFuzzer's fork mode with crashes, timeouts and
out-of-memory inputs ignored, so one finding does not end the run; every finding is kept in
<build-dir>/fuzz/<target>/artifacts. With --cpu-seconds a target runs instead until it has used
C seconds of CPU (its own and its fork-mode jobs', read from /proc every few seconds), so that a
loaded machine cannot shrink a run to a few seconds of fuzzing. K targets run at once (default:
all), at nice P (default 19, the lowest priority; their sessions' autogroups too). The
corpus starts from the repository's own inputs (model files, log fixtures, saved findings in
Tests/Fixtures/fuzz) and grows in <build-dir>/fuzz/<target>/corpus across runs. At the end, one
line per target: wall and CPU seconds, inputs tried, findings.
"""
import argparse, hashlib, json, os, re, resource, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    # target: the longest input libFuzzer may build
    "FuzzFleetYAML": 16384,
    "FuzzLogLine": 8192,
    "FuzzTraceCSV": 4096,
    "FuzzUnits": 512,  # a Double overflows only past ~300 digits
    "FuzzTimestamp": 128,
}
UNIT = re.compile(r"(?<![\w.])[-+]?\d[\d.]*\s?(?:[KMGTP]i?B|B|[KMGT]?bit)(?:/s)?\b|(?<![\w.])\d[\d.]*(?:ns|us|ms|s|m|min|h|d)\b")
STAMP = re.compile(r'"(\d{4}-\d\d-\d\d[Tt ][^"]*)"')


def seeds(target):
    """The repository's own inputs for a target, as (name, bytes): model files, log fixtures,
    the unit quantities the models write, the timestamps the fixtures carry, CSV samples."""
    models = sorted((ROOT / "models").glob("*.yaml"))
    fixtures = sorted((ROOT / "Tests" / "Fixtures").glob("*.jsonl"))
    log_lines = [l for f in fixtures for l in f.read_bytes().splitlines() if l.strip()]
    if target == "FuzzFleetYAML":
        yield from ((f.name, f.read_bytes()) for f in models)
    elif target == "FuzzLogLine":
        yield from ((f"fixture-{i}", l) for i, l in enumerate(log_lines))
    elif target == "FuzzTraceCSV":
        yield from ((f.name, f.read_bytes()) for f in sorted((ROOT / "Fuzz" / "seeds" / "trace-csv").glob("*.csv")))
    elif target == "FuzzUnits":
        found = sorted({m.group(0) for f in models for m in UNIT.finditer(f.read_text())})
        yield from ((f"unit-{i}", u.encode()) for i, u in enumerate(found))
    elif target == "FuzzTimestamp":
        found = sorted({m.group(1) for l in log_lines for m in STAMP.finditer(l.decode())})
        yield from ((f"time-{i}", s.encode()) for i, s in enumerate(found))


def findings(target):
    """Inputs a run of this target once crashed on, kept as regression inputs."""
    saved = ROOT / "Tests" / "Fixtures" / "fuzz" / target
    return sorted(f for f in saved.iterdir() if f.suffix != ".md") if saved.is_dir() else []


def still_failing(binary, path, env):
    """True when the target still crashes on a saved finding (it then stays out of the corpus,
    where it would stop every job at once)."""
    r = subprocess.run([str(binary), "-runs=1", str(path)], env=env, capture_output=True)
    return r.returncode != 0


TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid):
    """CPU seconds of a process and of its children, reaped (cutime, cstime) and alive."""
    def stat(p):
        try:
            text = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            return None
        return text[text.rindex(")") + 2:].split()
    fields = stat(pid)
    if fields is None:
        return 0.0
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    for child in Path("/proc").iterdir():
        if child.name.isdigit():
            f = stat(child.name)
            if f is not None and int(f[1]) == pid:  # ppid
                total += sum(int(f[i]) for i in (11, 12))
    return total / TICK


def lower_autogroup(nice):
    """With the kernel's autogroups (sched_autogroup_enabled), nice ranks processes only within
    one session, and each target runs in a session of its own: without this, a target at nice 19
    still takes an equal share of the cores from a build or test run. Runs in the child, after
    its setsid, so the group lowered is the target's own, never the caller's."""
    def lower():
        try:
            Path("/proc/self/autogroup").write_text(str(nice))
        except OSError:
            pass
    return lower


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--cpu-seconds", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--nice", type=int, default=19)
    ap.add_argument("--build-dir", default=str(ROOT / ".build-fuzz"))
    ap.add_argument("targets", nargs="*", default=list(TARGETS))
    a = ap.parse_args()
    build = Path(a.build_dir)
    runs = {}
    waiting = list(a.targets)
    jobs = a.jobs or len(waiting)

    def start(t):
        work = build / "fuzz" / t
        corpus, artifacts = work / "corpus", work / "artifacts"
        corpus.mkdir(parents=True, exist_ok=True)
        artifacts.mkdir(parents=True, exist_ok=True)
        binary = build / "debug" / t
        # Swift's own backtracer trips ASan and can hang; libFuzzer prints the stack instead.
        env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
        inputs = list(seeds(t))
        for f in findings(t):
            if still_failing(binary, f, env):
                print(f"fuzz: {t} still crashes on {f.relative_to(ROOT)}", file=sys.stderr)
            else:
                inputs.append((f.name, f.read_bytes()))
        for name, data in inputs:
            (corpus / f"seed-{hashlib.sha1(data).hexdigest()[:12]}").write_bytes(data)
        cmd = ["nice", "-n", str(a.nice), str(binary), str(corpus),
               f"-max_total_time={a.seconds}", f"-max_len={TARGETS[t]}", "-timeout=10", "-rss_limit_mb=2048",
               "-fork=1", "-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1",
               "-print_final_stats=1", f"-artifact_prefix={artifacts}/"]
        log = open(work / "log.txt", "w")
        log.write(" ".join(cmd) + "\n")
        log.flush()
        # A session of its own, so that a stop reaches the fork-mode job too.
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=lower_autogroup(a.nice))
        runs[proc.pid] = (t, time.monotonic(), work)

    results = []
    cpu_seen = {}
    while waiting or runs:
        while waiting and len(runs) < jobs:
            start(waiting.pop(0))
        pid, status, usage = os.wait4(-1, os.WNOHANG if a.cpu_seconds else 0)
        if pid == 0:  # nothing ended: stop the targets that have had their CPU
            for p in list(runs):
                cpu_seen[p] = max(cpu_seen.get(p, 0.0), tree_cpu_seconds(p))
                if cpu_seen[p] >= a.cpu_seconds:
                    try:
                        os.killpg(p, signal.SIGTERM)
                    except ProcessLookupError:  # it ended on its own meanwhile
                        pass
            time.sleep(5)
            continue
        if pid not in runs:
            continue
        t, began, work = runs.pop(pid)
        text = (work / "log.txt").read_text(errors="replace")
        # Fork mode reports progress as "#<inputs>: cov: ... time: <s>"; the last one is the total.
        tried = [int(m) for m in re.findall(r"^#(\d+)", text, re.M)]
        found = sorted(p.name for p in (work / "artifacts").iterdir())
        results.append(dict(target=t, wall_s=round(time.monotonic() - began),
                            cpu_s=round(max(usage.ru_utime + usage.ru_stime, cpu_seen.pop(pid, 0.0))),
                            inputs=max(tried, default=0), corpus=len(list((work / "corpus").iterdir())),
                            findings=len(found), exit=os.waitstatus_to_exitcode(status)))
        print(json.dumps(results[-1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
