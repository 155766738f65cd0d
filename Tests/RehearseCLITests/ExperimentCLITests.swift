import Foundation
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
    /// (wall time aside) with 1 thread and with 2.
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
    }

    /// Goal: `check` exits 0 when every claim holds and 1 naming the claim that fails; a control
    /// whose claim fails is fine, one whose claim holds fails the check.
    @Test func checkNamesTheFailingClaim() throws {
        let good = try experiment("good", claims: ["P(data_loss) < 0.5 at 95%", "max(max_read_only_seconds) < 21600"])
        let ok = try rehearse(["check", good])
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
