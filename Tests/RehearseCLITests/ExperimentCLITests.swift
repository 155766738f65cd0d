import Foundation
import GRDB
import Testing

/// `rehearse run`, `check`, `report` and `compare` end to end on a small experiment (30
/// repositories drained between two plain storages, API errors the only randomness).
@Suite struct ExperimentCLITests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-exp-cli-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// Writes the model, the policy and an experiment with `claims` (control when asked).
    func experiment(_ name: String, claims: [String], control: Bool = false, errorRate: Double = 0.2) throws -> String {
        try """
        name: two
        nodes:
          - {name: na, disk: {readBandwidth: 100MB/s, writeBandwidth: 1000MB/s}, storages: [{name: a, capacity: 10TB, used: 1TB}]}
          - {name: nb, storages: [{name: b, capacity: 10TB}]}
        gitlab: {weights: {a: 100, b: 0}, apiLatency: 100ms, apiErrorRate: \(errorRate)}
        """.write(to: dir.appendingPathComponent("model-\(name).yaml"), atomically: true, encoding: .utf8)
        try "drain: {from: [a], to: [b]}\nconcurrency: {perSource: 4}\n".write(to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("\(name).yaml").path
        try """
        name: \(name)
        model: model-\(name).yaml
        inventory: {generate: 30, seed: 3}
        policy: policy.yaml
        run: {hours: 48, replications: 6, seed: 7}
        control: \(control)
        claims:
        \(claims.map { "  - \"\($0)\"" }.joined(separator: "\n"))
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Goal: `run --json` prints the documented fields; the same seed prints the same object
    /// (wall time aside) with 1 thread and with 2, and with the world's invariants checked
    /// after every event (`--check-invariants`, off by default).
    @Test func runPrintsTheDocumentedJSON() throws {
        let file = try experiment("json", claims: ["p95(duration_hours) < 48"])
        let one = try rehearse(["run", file, "--json", "--threads", "1"])
        #expect(one.status == 0, "\(one.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(one.out.utf8)) as? [String: Any])
        let duration = try #require(object["duration_hours"] as? [String: Any])
        for key in ["p50", "p95", "mean", "ci95_low", "ci95_high"] { #expect(duration[key] != nil, "duration_hours.\(key) missing") }
        let loss = try #require(object["data_loss"] as? [String: Any])
        for key in ["probability", "ci95_low", "ci95_high", "expected_lost_writes"] { #expect(loss[key] != nil, "data_loss.\(key) missing") }
        for key in ["write_unavailable_repo_seconds", "replications", "events", "wall_seconds", "seed"] { #expect(object[key] != nil, "\(key) missing") }
        #expect(object["replications"] as? Int == 6 && object["seed"] as? Int == 7)
        let two = try rehearse(["run", file, "--json", "--threads", "2"])
        func withoutWall(_ s: String) -> String { s.replacingOccurrences(of: #""wall_seconds":[^,}]*"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #""threads":\d+"#, with: "", options: .regularExpression) }
        #expect(withoutWall(one.out) == withoutWall(two.out))
        let checked = try rehearse(["run", file, "--json", "--threads", "1", "--check-invariants"])
        #expect(checked.status == 0, "\(checked.err)")
        #expect(withoutWall(one.out) == withoutWall(checked.out))
    }

    /// Goal: importance-sampling weights are bit-identical from one process to the next, the
    /// determinism the results database relies on. Method: node crashes and disk slowdowns on
    /// both nodes sampled 1,000 times as often; two processes store the run, and every
    /// replication's likelihood ratio matches bit for bit. (The exposures used to be summed in
    /// a dictionary's order, which changes per process; with four fault processes this test
    /// did not catch that, so the sum is now in key order by construction.)
    @Test func likelihoodRatiosAreTheSameInEveryProcess() throws {
        let file = try experiment("weights", claims: [])
        let text = try String(contentsOfFile: file, encoding: .utf8)
            .replacingOccurrences(of: "seed: 7}", with: "seed: 7, faultRateScale: 1000}")
            + "\nfaults: {nodeCrash: {mtbf: 10000h, mttr: 10m}, diskSlowdown: {mtbf: 10000h, mttr: 10m}}\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        var ratios: [[UInt64]] = []
        for i in 0..<2 {
            let db = dir.appendingPathComponent("weights-\(i).sqlite").path
            let r = try rehearse(["run", file, "--db", db, "--threads", "1"])
            #expect(r.status == 0, "\(r.err)")
            ratios.append(try DatabaseQueue(path: db).read { try Double.fetchAll($0, sql: "SELECT likelihood_ratio FROM replication ORDER BY idx") }.map(\.bitPattern))
        }
        #expect(ratios[0].count == 6 && ratios[0].contains { $0 != (1.0).bitPattern })
        #expect(ratios[0] == ratios[1])
    }

    /// Goal: `check` exits 0 when every claim holds and 1 naming the claim that fails; a control
    /// whose claim fails is fine, one whose claim holds fails the check.
    @Test func checkNamesTheFailingClaim() throws {
        let good = try experiment("good", claims: ["P(data_loss) < 0.5 at 95%", "max(max_read_only_seconds) < 21600"])
        let ok = try rehearse(["check", good, "--check-invariants"])
        #expect(ok.status == 0, "\(ok.out)\(ok.err)")
        let bad = try experiment("bad", claims: ["p50(duration_hours) < 0.01"])
        let failed = try rehearse(["check", good, bad])
        #expect(failed.status == 1)
        #expect(failed.err == "rehearse: \(bad): claim failed: p50(duration_hours) < 0.01\n", "\(failed.err)")
        #expect(failed.out.contains("FAIL  \(bad): p50(duration_hours) < 0.01"))
        let control = try experiment("control", claims: ["p50(duration_hours) < 0.01"], control: true)
        #expect(try rehearse(["check", control]).status == 0)
        let brokenControl = try experiment("broken", claims: ["P(data_loss) < 0.5"], control: true)
        let broken = try rehearse(["check", brokenControl])
        #expect(broken.status == 1 && broken.err.contains("control claim held: P(data_loss) < 0.5"), "\(broken.err)")
    }

    /// Goal: a run stored in a database gives a report page and compares with another run: with
    /// the same seed (common random numbers) a fleet whose API fails far more often (each failed
    /// call retried after a back-off) takes significantly longer; the same run against itself
    /// differs in nothing.
    @Test func reportAndCompareFromTheDatabase() throws {
        let base = try experiment("base", claims: [], errorRate: 0.05)
        let worse = try experiment("worse", claims: [], errorRate: 0.4)
        let dbA = dir.appendingPathComponent("a.sqlite").path, dbB = dir.appendingPathComponent("b.sqlite").path
        #expect(try rehearse(["run", base, "--db", dbA]).status == 0)
        #expect(try rehearse(["run", worse, "--db", dbB]).status == 0)
        let html = dir.appendingPathComponent("report.html").path
        let report = try rehearse(["report", dbA, "--html", html])
        #expect(report.status == 0, "\(report.err)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg") && page.contains("base (run 1)"))
        let compare = try rehearse(["compare", dbA, dbB])
        #expect(compare.status == 0, "\(compare.err)")
        let durationLine = try #require(compare.out.split(separator: "\n").first { $0.contains("migration duration") })
        #expect(durationLine.contains("  significant (paired t"), "\(durationLine)")
        let same = try rehearse(["compare", dbA, dbA])
        #expect(!same.out.contains("  significant ("), "\(same.out)")
    }

    /// Goal: `check --baseline` fails on a significant change the claims let through, and
    /// passes an unchanged rerun. Method: the experiment is checked once with --db (the
    /// baseline); rerun as is, nothing differs (same seed, paired); rerun with an API that fails
    /// 8 times as often (each failure retried after a back-off), its claim still holds but the
    /// duration is significantly longer and the check exits 1 naming it.
    @Test func checkAgainstABaselineCatchesARegressionTheClaimsMiss() throws {
        let file = try experiment("drain", claims: ["P(data_loss) < 0.5 at 95%"], errorRate: 0.05)
        let db = dir.appendingPathComponent("baseline.sqlite").path
        let first = try rehearse(["check", file, "--db", db])
        #expect(first.status == 0, "\(first.err)")
        let same = try rehearse(["check", file, "--baseline", db])
        #expect(same.status == 0 && same.out.contains("ok    \(file): no significant change from the baseline (run 1)"), "\(same.out)\(same.err)")
        _ = try experiment("drain", claims: ["P(data_loss) < 0.5 at 95%"], errorRate: 0.4)
        let worse = try rehearse(["check", file, "--baseline", db])
        #expect(worse.status == 1, "\(worse.out)\(worse.err)")
        #expect(worse.out.contains("ok    \(file): P(data_loss) < 0.5 at 95%"))
        #expect(worse.out.contains("FAIL  \(file): migration duration (mean) changed from the baseline (run 1)"), "\(worse.out)")
        #expect(worse.err.contains("\(file): migration duration (mean) changed from the baseline"))
        #expect(try rehearse(["check", file, "--baseline", db, "--db", db]).err == "rehearse: --baseline and --db name the same file; store the new runs elsewhere\n")
    }

    /// Goal: a sweep run in shards and merged is the sweep one machine runs: the same rows,
    /// bit for bit, but for each run's wall time and threads. Method: 3 points × 6
    /// replications (18 pairs) run whole, then as 1, 3 and 7 shards (7 does not divide 18:
    /// shares of 3 and 2) merged; every table compared row by row (the whole run checks the
    /// world's invariants after every event, the shards do not). A shard given twice and a
    /// shard missing are refused, naming them, and write nothing.
    @Test func shardedSweepsMergeIntoTheSingleMachineSweep() throws {
        let file = try experiment("shards", claims: ["P(data_loss) < 0.5 at 95%"])
        try (String(contentsOfFile: file, encoding: .utf8) + "\nsweep:\n  model.gitlab.apiErrorRate: [0.1, 0.2, 0.4]\n").write(toFile: file, atomically: true, encoding: .utf8)
        let single = dir.appendingPathComponent("single.sqlite").path
        // Whole with the world's invariants checked, in shards without: the same rows.
        #expect(try rehearse(["sweep", file, "--db", single, "--check-invariants"]).status == 0)
        let expected = try Self.rows(single)
        for n in [1, 3, 7] {
            var shards: [String] = []
            for k in 1...n {
                let db = dir.appendingPathComponent("shard-\(n)-\(k).sqlite").path
                let r = try rehearse(["sweep", file, "--shard", "\(k)/\(n)", "--db", db])
                #expect(r.status == 0, "\(r.err)")
                shards.append(db)
            }
            let merged = dir.appendingPathComponent("merged-\(n).sqlite").path
            let m = try rehearse(["merge"] + shards + ["--db", merged])
            #expect(m.status == 0 && m.out == "wrote \(merged): \(n) shards merged into 3 points, runs 1–3\n", "\(m.out)\(m.err)")
            #expect(try Self.rows(merged) == expected, "\(n) shards")
            if n == 3 {
                let twice = try rehearse(["merge", shards[0], shards[1], shards[1], "--db", merged + ".twice"])
                #expect(twice.status == 2 && twice.err == "rehearse: shard 2/3 is given twice: \(shards[1]) and \(shards[1])\n", "\(twice.err)")
                let missing = try rehearse(["merge", shards[0], shards[1], "--db", merged + ".missing"])
                #expect(missing.status == 2 && missing.err == "rehearse: shard 3/3 of 3 missing\n", "\(missing.err)")
                #expect(!FileManager.default.fileExists(atPath: merged + ".twice") && !FileManager.default.fileExists(atPath: merged + ".missing"))
            }
        }
    }

    /// Every row of a results database's run, input, replication and series tables as text,
    /// in a fixed order; a run's wall time and threads left out (they are the machine's).
    static func rows(_ path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            var out: [String] = []
            for (table, order) in [("run", "id"), ("input", "run_id, role"), ("replication", "run_id, idx"), ("series", "run_id, replication, name")] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)") {
                    out.append(table + ": " + row.columnNames.filter { $0 != "wall_seconds" && $0 != "threads" }.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(separator: " "))
                }
            }
            return out
        }
    }

    /// Goal: a sweep stored with --db comes back as one sweep, whatever else the database
    /// holds: `report --sweep` draws one row per point in order, each with its own run's
    /// figures; `--run ID` picks the sweep that run belongs to. Method: a two-point sweep
    /// (API error rates 0.1 and 0.4), a plain run, then the sweep again: the latest sweep is
    /// runs 4–5, run 1's sweep is runs 1–2, the plain run 3 is none; each row's P(data loss)
    /// cell is the one `report --run` prints for that point; a database with no sweep is exit 2.
    @Test func sweepReportHasOneRowPerPointOfItsSweep() throws {
        let file = try experiment("points", claims: ["P(data_loss) < 0.5 at 95%"])
        try (String(contentsOfFile: file, encoding: .utf8) + "\nsweep:\n  model.gitlab.apiErrorRate: [0.1, 0.4]\n").write(toFile: file, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("sweeps.sqlite").path
        #expect(try rehearse(["sweep", file, "--db", db]).status == 0)
        #expect(try rehearse(["run", file, "--db", db]).status == 0)
        #expect(try rehearse(["sweep", file, "--db", db]).status == 0)
        let latest = dir.appendingPathComponent("latest.html").path, first = dir.appendingPathComponent("first.html").path
        let drawn = try rehearse(["report", db, "--sweep", "--html", latest])
        #expect(drawn.status == 0 && drawn.out == "wrote \(latest): sweep of 2 points, runs 4–5\n", "\(drawn.out)\(drawn.err)")
        #expect(try rehearse(["report", db, "--sweep", "--run", "1", "--html", first]).out == "wrote \(first): sweep of 2 points, runs 1–2\n")
        let page = try String(contentsOfFile: latest, encoding: .utf8)
        let rows = page.components(separatedBy: "<tr>").dropFirst(2)
        #expect(rows.count == 2 && rows.first!.contains("<td>4</td><td><code>0.1</code></td>") && rows.last!.contains("<td>5</td><td><code>0.4</code></td>"), "\(rows)")
        for (row, run) in zip(rows, ["4", "5"]) {
            let single = dir.appendingPathComponent("run\(run).html").path
            #expect(try rehearse(["report", db, "--run", run, "--html", single]).status == 0)
            let runPage = try String(contentsOfFile: single, encoding: .utf8)
            let loss = try #require(runPage.firstMatch(of: /replications lost a write; P = ([^<]+)</)?.1, "\(runPage.prefix(3000))")
            #expect(row.contains("<td>\(loss)</td>"), "run \(run): \(loss) not in \(row)")
        }
        let none = try rehearse(["report", db, "--sweep", "--run", "3", "--html", latest])
        #expect(none.status == 2 && none.err == "rehearse: \(db): run 3 is not a point of a sweep\n", "\(none.err)")
    }

    /// Goal: bad input to `sweep`, `check` and `compare` is one line and exit 2, before any
    /// replication runs, and nothing is written: a sweep over a field that does not exist, an
    /// experiment with no sweep, a claim on a metric that does not exist (after a good
    /// experiment, which must not run first), a results database of a newer schema.
    @Test func sweepCheckAndCompareRefuseBadInput() throws {
        let good = try experiment("good", claims: ["P(data_loss) < 0.5 at 95%"])
        let db = dir.appendingPathComponent("never.sqlite").path
        let sweep = try experiment("sweep", claims: [])
        try (String(contentsOfFile: sweep, encoding: .utf8) + "\nsweep:\n  model.nodes.5.cpuCores: [4]\n").write(toFile: sweep, atomically: true, encoding: .utf8)
        let unknown = try experiment("unknown", claims: ["p95(speed_hours) < 3"])
        let model = dir.appendingPathComponent("model-sweep.yaml").path
        for (args, message) in [
            (["sweep", sweep, "--db", db], "rehearse: \(model):3: model.nodes.5.cpuCores: sweep: \"5\" is not an entry of the list (0 to 1)\n"),
            (["sweep", good, "--db", db], "rehearse: \(good): no sweep: block; `rehearse run` runs a single configuration\n"),
            (["check", good, unknown, "--db", db], "rehearse: \(unknown):8: claims[0]: claim \"p95(speed_hours) < 3\": unknown quantity \"speed_hours\"; use one of duration_hours, write_unavailable_repo_seconds, max_read_only_seconds, lost_writes, moves_failed, repositories_left_read_only, peak_fill, min_apdex, max_error_ratio, bad_release_nodes, bad_release_peak; the form is STAT(QUANTITY) OP NUMBER [at LEVEL%], e.g. p95(duration_hours) < 72 at 95%\n"),
            (["compare", db, db], "rehearse: \(db): no such results database\n"),
        ] {
            let r = try rehearse(args)
            #expect(r.status == 2 && r.err == message && r.out.isEmpty, "\(args): \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: db))

        let newer = dir.appendingPathComponent("newer.sqlite").path
        #expect(try rehearse(["run", good, "--db", newer]).status == 0)
        try DatabaseQueue(path: newer).write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        let size = try FileManager.default.attributesOfItem(atPath: newer)[.size] as! Int
        let refusal = "rehearse: \(newer): not a Rehearse results database: it was written by a newer Rehearse (schema v99); use that version\n"
        for args in [["report", newer, "--html", dir.appendingPathComponent("n.html").path], ["compare", newer, newer], ["run", good, "--db", newer]] {
            let r = try rehearse(args)
            #expect(r.status == 2 && r.err == refusal, "\(args): \(r.err)")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: newer)[.size] as! Int == size)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("n.html").path))
    }

    /// Goal: bad input is one line and exit 2, and nothing is written.
    @Test func badInputIsOneLineAndExit2() throws {
        let file = try experiment("flags", claims: [])
        let db = dir.appendingPathComponent("never.sqlite").path
        for (args, message) in [
            (["run", file, "--replications", "0", "--db", db], "rehearse: --replications must be between 1 and 100000, got 0\n"),
            (["run", file, "--threads", "0", "--db", db], "rehearse: --threads must be between 1 and 1024, got 0\n"),
            (["run", dir.appendingPathComponent("missing.yaml").path, "--db", db], "rehearse: \(dir.appendingPathComponent("missing.yaml").path): cannot read the file: no such file or directory\n"),
            (["report", db, "--html", dir.appendingPathComponent("x.html").path], "rehearse: \(db): no such results database\n"),
        ] {
            let r = try rehearse(args)
            #expect(r.status == 2 && r.err == message && r.out.isEmpty, "\(args): \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: db))
    }
}
