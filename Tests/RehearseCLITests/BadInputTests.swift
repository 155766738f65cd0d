import Foundation
import GRDB
import Testing

/// Every command's bad input, one class of mistake after another (issue 7, "Bad input"): each
/// row runs the built binary and asserts the exact line on standard error, exit code 2, nothing
/// on standard output, and that the files the command was given are as they were.
@Suite struct BadInputTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let clusterModel = root + "/models/gitaly-cluster-3.yaml"
    static let profile = root + "/models/traffic/reference-10k-users.yaml"
    static let sweepExperiment = root + "/experiments/cross-site-move.yaml"

    /// One bad input: the files it needs (written into its own directory `d`), the arguments,
    /// and the one line the command must print.
    struct Row {
        var name: String
        var files: [String: String] = [:]
        /// Extra preparation in the row's directory (a store written by another program).
        var prepare: (String) throws -> Void = { _ in }
        var arguments: (String) -> [String]
        var stderr: (String) -> String
        /// Added to (or, with "", removed from) the test's environment.
        var environment: [String: String] = [:]
    }

    /// The shipped three-node cluster with `old` replaced by `new`, and the 1-based line of the
    /// replacement (the line the error must name).
    static func clusterModel(replacing old: String, with new: String) throws -> (text: String, line: Int) {
        let text = try String(contentsOfFile: clusterModel, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let index = try #require(lines.firstIndex { $0.contains(old) }, "the shipped model has no \(old)")
        return (text.replacingOccurrences(of: old, with: new), index + 1)
    }

    /// A one-call access line in the current format with `time` as its end time.
    static func accessLine(time: String, ms: String = "1.5", extra: String = "") -> String {
        #"{"grpc.code":"OK","grpc.method":"FindCommit","grpc.service":"gitaly.CommitService","grpc.time_ms":\#(ms),"time":"\#(time)"\#(extra)}"#
    }

    static let good = accessLine(time: "2024-01-05T10:00:00.100Z")
    static let range = "1970-01-01 to 2199-12-31"
    static let columns = "arrival,duration_ms,service,method,operation,storage,repository,project,gl_repository,client,code,request_bytes,response_bytes,pack_bytes,cpu_ms,route_node,route_secondaries"

    /// A store that `rehearse trace import` wrote (two calls, 5 s apart), then changed by another
    /// program: `sql` runs on it after the import.
    static func foreignStore(_ dir: String, _ sql: String) throws {
        try (good + "\n" + accessLine(time: "2024-01-05T10:00:05.100Z") + "\n").write(toFile: dir + "/g.log", atomically: true, encoding: .utf8)
        let r = try rehearse(["trace", "import", dir + "/g.log", "--db", dir + "/f.db"])
        #expect(r.status == 0, "stderr: \(r.err)")
        // Like the sqlite3 shell, the other program does not enforce the REFERENCES clauses.
        var config = Configuration()
        config.foreignKeysEnabled = false
        try DatabaseQueue(path: dir + "/f.db", configuration: config).write { try $0.execute(sql: sql) }
    }

    static func rows() throws -> [Row] {
        let capacity = try clusterModel(replacing: "capacity: 2TiB, used: 400GiB}", with: "capacity: 99999999999999999999999PiB, used: 400GiB}")
        let check0 = try clusterModel(replacing: "checkInterval: 1s", with: "checkInterval: 0s")
        let checkNeg = try clusterModel(replacing: "checkInterval: 1s", with: "checkInterval: -1s")
        let schedule = try clusterModel(replacing: "  replicationJobFailure: 0.001", with: "  replicationJobFailure: 0.001\n  schedule:\n    - {at: -5s, kind: nodeCrash, target: gitaly-1}")
        let workers = try clusterModel(replacing: "workersPerVirtualStorage: 1", with: "workersPerVirtualStorage: 100000000")
        let apiError = try clusterModel(replacing: "apiErrorRate: 0", with: "apiErrorRate: 2")
        let operatorFlag = try clusterModel(replacing: "  apiErrorRate: 0", with: "  apiErrorRate: 0\n  operatorClearsReadOnly: yes")
        let deep = "a: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        let deepBlock = (0..<100).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"
        return [
            // Numbers that overflow what they are converted to.
            Row(name: "size past Int64", files: ["m.yaml": capacity.text], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:\(capacity.line): nodes[0].storages[0].capacity: size 99999999999999999999999PiB is beyond the largest supported, 8EiB" }),
            Row(name: "simulate --hours past the clock", arguments: { _ in ["simulate", "--model", clusterModel, "--profile", profile, "--hours", "1e12"] },
                stderr: { _ in "rehearse: --hours must be a positive number of at most 8760 (a year of simulated time), got 1000000000000.0" }),
            Row(name: "bench rpc --hours past the clock", arguments: { _ in ["bench", "rpc", "--hours", "1e12"] },
                stderr: { _ in "rehearse: --hours must be a positive number of at most 8760 (a year of simulated time), got 1000000000000.0" }),
            Row(name: "generate --hours past the clock", arguments: { _ in ["trace", "generate", "--profile", profile, "--hours", "1e12"] },
                stderr: { _ in "rehearse: --hours must be a positive number of at most 8760 (a year of simulated time), got 1000000000000.0" }),
            Row(name: "log time in year 9999", files: ["x.log": accessLine(time: "9999-12-31T23:59:59Z") + "\n"],
                arguments: { ["trace", "import", $0 + "/x.log", "--db", $0 + "/t.db", "--strict"] },
                stderr: { "rehearse: \($0)/x.log:1: malformed line: time \"9999-12-31T23:59:59Z\" is not an RFC 3339 timestamp from \(range)" }),
            Row(name: "log duration before 1970", files: ["x.log": accessLine(time: "1970-01-01T00:00:01Z", ms: "5000") + "\n"],
                arguments: { ["trace", "import", $0 + "/x.log", "--db", $0 + "/t.db", "--strict"] },
                stderr: { "rehearse: \($0)/x.log:1: malformed line: grpc.time_ms 5000.0 puts the arrival before \(range)" }),
            Row(name: "CSV Unix seconds past Int64", files: ["x.csv": "arrival,duration_ms,method\n1e300,1,FindCommit\n"],
                arguments: { ["trace", "import", $0 + "/x.csv", "--db", $0 + "/t.db", "--strict"] },
                stderr: { "rehearse: \($0)/x.csv:2: malformed line: arrival \"1e300\" is neither an RFC 3339 time nor Unix seconds from \(range)" }),
            Row(name: "CSV cpu_ms past Int64 nanoseconds", files: ["x.csv": "arrival,duration_ms,method,cpu_ms\n1700000000,1,FindCommit,1e300\n"],
                arguments: { ["trace", "import", $0 + "/x.csv", "--db", $0 + "/t.db", "--strict"] },
                stderr: { "rehearse: \($0)/x.csv:2: malformed line: cpu_ms \"1e300\" is not a number from 0 to 1000000000000.0" }),
            Row(name: "replay --from far in the past", prepare: { try foreignStore($0, "SELECT 1") },
                arguments: { ["trace", "replay", "--db", $0 + "/f.db", "--from", "1600-01-01T00:00:00Z"] },
                stderr: { _ in "rehearse: --from \"1600-01-01T00:00:00Z\" is not an RFC 3339 time from \(range)" }),
            Row(name: "replay of a store with an arrival past 2199", prepare: { try foreignStore($0, "UPDATE rpc SET arrival_ns = 9000000000000000000") },
                arguments: { ["trace", "replay", "--db", $0 + "/f.db"] },
                stderr: { "rehearse: \($0)/f.db: not a trace Rehearse can read: a call arrives at 9000000000000000000 ns, outside \(range)" }),
            Row(name: "simulate on a store with a negative duration", prepare: { try foreignStore($0, "UPDATE rpc SET duration_ns = -1") },
                arguments: { ["simulate", "--model", clusterModel, "--db", $0 + "/f.db"] },
                stderr: { "rehearse: \($0)/f.db: not a trace Rehearse can read: a call at 2024-01-05T10:00:00.098500000Z lasts -1 ns, outside 0 to 1000000000000000000" }),
            Row(name: "replay of a store with cpu_ms past Int64", prepare: { try foreignStore($0, "UPDATE rpc SET cpu_ms = 1e300") },
                arguments: { ["trace", "replay", "--db", $0 + "/f.db"] },
                stderr: { "rehearse: \($0)/f.db: not a trace Rehearse can read: a call at 2024-01-05T10:00:00.098500000Z has cpu_ms 1e+300, outside 0 to 1000000000000.0" }),
            Row(name: "stats on a store with a negative duration", prepare: { try foreignStore($0, "UPDATE rpc SET duration_ns = -9000000000000000000") },
                arguments: { ["trace", "stats", "--db", $0 + "/f.db"] },
                stderr: { "rehearse: \($0)/f.db: not a trace Rehearse can read: a call at 2024-01-05T10:00:00.098500000Z lasts -9000000000000000000 ns, outside 0 to 1000000000000000000" }),
            Row(name: "fit on a store naming a missing method", prepare: { try foreignStore($0, "UPDATE rpc SET method_id = 99") },
                arguments: { ["trace", "fit", "--db", $0 + "/f.db", "--out", $0 + "/p.yaml"] },
                stderr: { "rehearse: \($0)/f.db: not a trace Rehearse can read: a call at 2024-01-05T10:00:00.098500000Z names method id 99, which the method table lacks" }),
            Row(name: "replay slowed past the clock", prepare: { try foreignStore($0, "SELECT 1") },
                arguments: { ["trace", "replay", "--db", $0 + "/f.db", "--speed-up", "1e-300"] },
                stderr: { _ in "rehearse: replay option speedUp = 1e-300: stretches the trace's 5 s past the simulated clock's 292 years" }),

            // Durations and intervals that are zero or negative.
            Row(name: "zero health interval", files: ["m.yaml": check0.text], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:\(check0.line): praefect.health.checkInterval: must be above 0: an interval of 0s never lets the simulated clock advance" }),
            Row(name: "negative health interval", files: ["m.yaml": checkNeg.text], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:\(checkNeg.line): praefect.health.checkInterval: a duration is at least 0, got -1s" }),
            Row(name: "fault scheduled before the start", files: ["m.yaml": schedule.text], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:\(schedule.line + 2): faults.schedule[0].at: a duration is at least 0, got -5s" }),

            // Sizes without an upper bound.
            Row(name: "workers past the limit", files: ["m.yaml": workers.text], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:\(workers.line): praefect.replication.workersPerVirtualStorage: must be 1 to 1024, got 100000000" }),
            Row(name: "simulate --repositories past the limit", arguments: { _ in ["simulate", "--model", clusterModel, "--profile", profile, "--hours", "1", "--repositories", "100000000"] },
                stderr: { _ in "rehearse: --repositories must be 1 to 10000000, got 100000000" }),
            Row(name: "bench --pending past the limit", arguments: { _ in ["bench", "kernel", "--model", "hold", "--pending", "999999999999"] },
                stderr: { _ in "rehearse: --pending must be 1 to 50000000, got 999999999999" }),
            Row(name: "generate --growth past the limit", arguments: { _ in ["trace", "generate", "--profile", profile, "--growth", "1e300"] },
                stderr: { _ in "rehearse: --growth must be at most 1000, got 1e+300" }),
            Row(name: "profile rate past the limit", files: ["p.yaml": (try? String(contentsOfFile: profile, encoding: .utf8))?
                    .replacingOccurrences(of: "ratePerSecond: ", with: "ratePerSecond: 9999999") ?? ""],
                arguments: { ["trace", "generate", "--profile", $0 + "/p.yaml"] },
                stderr: { "rehearse: \($0)/p.yaml: methods[0].ratePerSecond: must be 0 to 1000000, got 999999920.0" }),
            Row(name: "bench --customers past the limit", arguments: { _ in ["bench", "kernel", "--customers", "99999999999"] },
                stderr: { _ in "rehearse: --customers must be 1 to 1000000000, got 99999999999" }),

            // Nesting without a bound.
            Row(name: "model nested 5,000 deep", files: ["m.yaml": deep], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:1: YAML nested deeper than 64 levels; files this deep are refused before parsing" }),
            Row(name: "model nested by indentation", files: ["m.yaml": deepBlock], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:65: YAML nested deeper than 64 levels; files this deep are refused before parsing" }),
            Row(name: "profile nested 5,000 deep", files: ["p.yaml": deep],
                arguments: { ["simulate", "--model", clusterModel, "--profile", $0 + "/p.yaml", "--hours", "1"] },
                stderr: { "rehearse: \($0)/p.yaml:1: YAML nested deeper than 64 levels; files this deep are refused before parsing" }),

            // A command that writes where it reads.
            Row(name: "fit over its own store", prepare: { try foreignStore($0, "SELECT 1") },
                arguments: { ["trace", "fit", "--db", $0 + "/f.db", "--out", $0 + "/./f.db"] },
                stderr: { "rehearse: --out \($0)/./f.db is the file --db reads; write the output elsewhere" }),
            Row(name: "generate over its profile", files: ["p.yaml": "rates: {}\n"],
                arguments: { ["trace", "generate", "--profile", $0 + "/p.yaml", "--out", $0 + "/p.yaml"] },
                stderr: { "rehearse: --out \($0)/p.yaml is the file --profile reads; write the output elsewhere" }),
            Row(name: "import into ''", files: ["x.log": good + "\n"], arguments: { ["trace", "import", $0 + "/x.log", "--db", ""] },
                stderr: { _ in "rehearse: '': cannot open the trace database: a trace database must be a file (SQLite keeps this one in memory only)" }),
            Row(name: "import into :memory:", files: ["x.log": good + "\n"], arguments: { ["trace", "import", $0 + "/x.log", "--db", ":memory:"] },
                stderr: { _ in "rehearse: :memory:: cannot open the trace database: a trace database must be a file (SQLite keeps this one in memory only)" }),

            // Read-only commands that write.
            Row(name: "stats on an empty file", files: ["e.db": ""], arguments: { ["trace", "stats", "--db", $0 + "/e.db"] },
                stderr: { "rehearse: \($0)/e.db: not a Rehearse trace database: the file is empty (import a log first)" }),
            Row(name: "stats on another program's SQLite file",
                prepare: { try DatabaseQueue(path: $0 + "/o.db").write { try $0.execute(sql: "CREATE TABLE notes (body TEXT)") } },
                arguments: { ["trace", "stats", "--db", $0 + "/o.db"] },
                stderr: { "rehearse: \($0)/o.db: not a Rehearse trace database: it lacks Rehearse's tables; refusing to change it" }),
            Row(name: "import into another program's SQLite file",
                files: ["x.log": good + "\n"],
                prepare: { try DatabaseQueue(path: $0 + "/o.db").write { try $0.execute(sql: "CREATE TABLE notes (body TEXT)") } },
                arguments: { ["trace", "import", $0 + "/x.log", "--db", $0 + "/o.db"] },
                stderr: { "rehearse: \($0)/o.db: not a Rehearse trace database: it lacks Rehearse's tables; refusing to change it" }),

            // Dates that are not dates.
            Row(name: "offset +99:99", files: ["x.log": accessLine(time: "2024-01-05T10:00:00.100+99:99") + "\n"],
                arguments: { ["trace", "import", $0 + "/x.log", "--db", $0 + "/t.db", "--strict"] },
                stderr: { "rehearse: \($0)/x.log:1: malformed line: time \"2024-01-05T10:00:00.100+99:99\" is not an RFC 3339 timestamp from \(range)" }),
            Row(name: "31 February", files: ["x.csv": "arrival,duration_ms,method\n2023-02-31T00:00:00Z,1,FindCommit\n"],
                arguments: { ["trace", "import", $0 + "/x.csv", "--db", $0 + "/t.db", "--strict"] },
                stderr: { "rehearse: \($0)/x.csv:2: malformed line: arrival \"2023-02-31T00:00:00Z\" is neither an RFC 3339 time nor Unix seconds from \(range)" }),

            // Messages that say what and where.
            Row(name: "unknown CSV column", files: ["x.csv": "arrivl,duration_ms,method\n2023-02-01T00:00:00Z,1,FindCommit\n"],
                arguments: { ["trace", "import", $0 + "/x.csv", "--db", $0 + "/t.db"] },
                stderr: { "rehearse: \($0)/x.csv:1: not a CSV trace header: unknown column \"arrivl\"; columns are \(columns)" }),
            Row(name: "build error carries its line", files: ["m.yaml": apiError.text], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:\(apiError.line - 3): gitlab.apiErrorRate: gitlab: must be within 0 and 1, got 2.0" }),
            Row(name: "a flag that is not true or false", files: ["m.yaml": operatorFlag.text], arguments: { ["model", "check", $0 + "/m.yaml"] },
                stderr: { "rehearse: \($0)/m.yaml:\(operatorFlag.line + 1): gitlab.operatorClearsReadOnly: expected true or false, got \"yes\"" }),
            Row(name: "model is a directory", arguments: { ["model", "check", $0] },
                stderr: { "rehearse: \($0): cannot read the file: it is a directory" }),
            Row(name: "profile is missing", arguments: { ["trace", "generate", "--profile", $0 + "/none.yaml"] },
                stderr: { "rehearse: \($0)/none.yaml: cannot read the file: no such file or directory" }),
            Row(name: "negative seed", arguments: { _ in ["bench", "kernel", "--seed", "-5"] },
                stderr: { _ in "rehearse: The value '-5' is invalid for '--seed <seed>': a seed is a whole number from 0 to 18446744073709551615" }),
            Row(name: "negative seed of trace fit", prepare: { try foreignStore($0, "SELECT 1") },
                arguments: { ["trace", "fit", "--db", $0 + "/f.db", "--out", $0 + "/p.yaml", "--seed", "-1"] },
                stderr: { _ in "rehearse: The value '-1' is invalid for '--seed <n>': a seed is a whole number from 0 to 18446744073709551615" }),

            // Malformed log lines, when the user asks for them to stop the import.
            Row(name: "--strict stops at the first bad line", files: ["x.log": good + "\nnot json\n" + good + "\n"],
                arguments: { ["trace", "import", $0 + "/x.log", "--db", $0 + "/t.db", "--strict"] },
                stderr: { "rehearse: \($0)/x.log:2: malformed line: not valid JSON: expected '{' at the start of the line at byte 1" }),
            Row(name: "--max-malformed past its share", files: ["x.log": good + "\nnot json\n" + accessLine(time: "2024-01-05T10:00:01Z") + "\n"],
                arguments: { ["trace", "import", $0 + "/x.log", "--db", $0 + "/t.db", "--max-malformed", "10%"] },
                stderr: { "rehearse: 1 of 3 lines are malformed, more than the 10% allowed; the first: \($0)/x.log:2: not valid JSON: expected '{' at the start of the line at byte 1" }),
            Row(name: "--max-malformed not a share", files: ["x.log": good + "\n"],
                arguments: { ["trace", "import", $0 + "/x.log", "--db", $0 + "/t.db", "--max-malformed", "150%"] },
                stderr: { _ in "rehearse: The value '150%' is invalid for '--max-malformed <share>': a share is a number from 0 to 1, or a percentage such as 5%" }),
        ] + ["0/3", "4/3", "3", "1/0", "a/b", "1/3/5"].map { shard in
            Row(name: "sweep --shard \(shard)", arguments: { ["sweep", sweepExperiment, "--shard", shard, "--db", $0 + "/s.sqlite"] },
                stderr: { _ in "rehearse: --shard \(shard): expected K/N with 1 ≤ K ≤ N ≤ 10000, like 2/7" })
        } + [
            Row(name: "sweep --shard without --db", arguments: { _ in ["sweep", sweepExperiment, "--shard", "1/2"] },
                stderr: { _ in "rehearse: --shard needs --db: a shard's share is only of use merged" }),
            // inventory fetch: the token and the address are checked before any request.
            Row(name: "inventory fetch without a token", arguments: { ["inventory", "fetch", "--gitlab", "http://127.0.0.1:9", "--storage", "a", "--out", $0 + "/i.csv"] },
                stderr: { _ in "rehearse: no GitLab token: set GITLAB_TOKEN or give --token-file (an administrator's personal access token with the api scope)" },
                environment: ["GITLAB_TOKEN": ""]),
            Row(name: "inventory fetch without --storage", files: ["t": "glpat-x\n"], arguments: { ["inventory", "fetch", "--gitlab", "http://127.0.0.1:9", "--token-file", $0 + "/t", "--out", $0 + "/i.csv"] },
                stderr: { _ in "rehearse: give at least one --storage NAME" }),
            Row(name: "inventory fetch with a missing token file", arguments: { ["inventory", "fetch", "--gitlab", "http://127.0.0.1:9", "--storage", "a", "--token-file", $0 + "/none", "--out", $0 + "/i.csv"] },
                stderr: { "rehearse: --token-file \($0)/none: cannot read the file" }),
            Row(name: "inventory fetch with an empty token file", files: ["t": ""], arguments: { ["inventory", "fetch", "--gitlab", "http://127.0.0.1:9", "--storage", "a", "--token-file", $0 + "/t", "--out", $0 + "/i.csv"] },
                stderr: { "rehearse: --token-file \($0)/t: the file is empty" }),
            Row(name: "inventory fetch from an ftp address", files: ["t": "glpat-x\n"], arguments: { ["inventory", "fetch", "--gitlab", "ftp://gitlab.example.com", "--storage", "a", "--token-file", $0 + "/t", "--out", $0 + "/i.csv"] },
                stderr: { _ in "rehearse: --gitlab ftp://gitlab.example.com: cannot reach GitLab at ftp://gitlab.example.com: not an http:// or https:// address" }),
            Row(name: "sweep --shard into another program's file", files: ["s.sqlite": "not a results database"],
                arguments: { ["sweep", sweepExperiment, "--shard", "1/2", "--db", $0 + "/s.sqlite"] },
                stderr: { "rehearse: \($0)/s.sqlite: a shard writes a new results database; this one exists and holds another one" }),
        ]
    }

    /// Goal: each row's command exits 2 with exactly its line on stderr, prints nothing on
    /// stdout, leaves every file it was given byte for byte as it was, and creates no database.
    @Test func everyCommandRefusesBadInputWithOneLineAndExitCode2() throws {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("rehearse-bad-input-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: base)
        for (i, row) in try Self.rows().enumerated() {
            let dir = base.appendingPathComponent("\(i)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, text) in row.files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
            try row.prepare(dir)
            let before = try Self.snapshot(dir)
            let r = try rehearse(row.arguments(dir), environment: row.environment)
            #expect(r.status == 2, "\(row.name): exit \(r.status)")
            #expect(r.err == row.stderr(dir) + "\n", "\(row.name)")
            #expect(r.out.isEmpty, "\(row.name): stdout \(r.out)")
            #expect(try Self.snapshot(dir) == before, "\(row.name): changed its files")
        }
    }

    /// Goal: junk lines in a real log are tolerated by default: the import succeeds, stdout is
    /// the summary alone, and each junk line is one warning on stderr naming file and line.
    @Test func junkLinesAreToleratedAndReportedOnStderr() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rehearse-junk-\(ProcessInfo.processInfo.processIdentifier)").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try (Self.good + "\nnot json\n").write(toFile: dir + "/x.log", atomically: true, encoding: .utf8)
        let r = try rehearse(["trace", "import", dir + "/x.log", "--db", dir + "/t.db", "--json"])
        #expect(r.status == 0)
        #expect(r.err == "rehearse: warning: \(dir)/x.log:2: malformed line skipped: not valid JSON: expected '{' at the start of the line at byte 1\n")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(object["rpcs"] as? Int == 1)
        #expect(object["malformed"] as? Int == 1)
    }

    /// Goal: imports into one new database at the same time all succeed, one after the other,
    /// even when one of them fails and removes the file it created: each line is stored once,
    /// and no import reports a locked, read-only or malformed database.
    @Test func concurrentImportsIntoOneNewDatabaseAllSucceed() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rehearse-concurrent-\(ProcessInfo.processInfo.processIdentifier)").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var logs: [String] = []
        for i in 0..<4 {
            let lines = (0..<2000).map { Self.accessLine(time: Self.time(second: i * 2000 + $0)) }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/\(i).log", atomically: true, encoding: .utf8)
            logs.append(dir + "/\(i).log")
        }
        try "not json\n".write(toFile: dir + "/bad.log", atomically: true, encoding: .utf8)
        let results = Results()
        let group = DispatchGroup()
        for log in logs + [dir + "/bad.log"] {
            group.enter()
            DispatchQueue.global().async {
                let r = try? rehearse(["trace", "import", log, "--db", dir + "/t.db", "--json", "--strict"])
                results.append(log, r)
                group.leave()
            }
        }
        group.wait()
        for (log, r) in results.all {
            if log.hasSuffix("bad.log") {
                #expect(r?.status == 2)
                #expect(r?.err == "rehearse: \(log):1: malformed line: not valid JSON: expected '{' at the start of the line at byte 1\n")
            } else {
                #expect(r?.status == 0, "\(log): \(r?.err ?? "did not run")")
            }
        }
        let stats = try rehearse(["trace", "stats", "--db", dir + "/t.db", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.out.utf8)) as? [String: Any])
        #expect(object["rpcs"] as? Int == 8000)
    }

    /// A time `second` seconds after 2024-01-05T10:00:00Z, as Gitaly logs it.
    static func time(second: Int) -> String {
        let h = 10 + second / 3600, m = second / 60 % 60, s = second % 60
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "2024-01-05T\(two(h)):\(two(m)):\(two(s)).100Z"
    }

    /// Results gathered from several threads.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(String, (status: Int32, out: String, err: String)?)] = []
        func append(_ log: String, _ r: (status: Int32, out: String, err: String)?) { lock.withLock { items.append((log, r)) } }
        var all: [(String, (status: Int32, out: String, err: String)?)] { lock.withLock { items } }
    }

    /// Goal: `trace bench --json` counts only the access lines it parsed in the import rate and
    /// reports the cold replay (which packs the chunks) beside the warm one. Truth by hand: the
    /// generated log makes every tenth line a non-access line, so 1,000 lines hold 900 calls;
    /// both replays read every one of the filled rows.
    @Test func traceBenchReportsParsedLinesAndBothReplays() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rehearse-trace-bench-\(ProcessInfo.processInfo.processIdentifier)").path
        let r = try rehearse(["trace", "bench", "--dir", dir, "--lines", "1000", "--rows", "5000", "--json"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(o["import_lines_read"] as? Int == 1000)
        #expect(o["import_lines_parsed"] as? Int == 900)
        #expect(o["replay_cold_rows"] as? Int == 5000)
        #expect(o["replay_warm_rows"] as? Int == 5000)
        let seconds = try #require(o["import_seconds"] as? Double)
        let rate = try #require(o["import_lines_per_second"] as? Double)
        #expect(abs(rate * seconds - 900) < 1e-6 * 900)
        for key in ["replay_cold_seconds", "replay_cold_rows_per_second", "replay_warm_seconds", "replay_warm_rows_per_second"] {
            #expect(o[key] is Double || o[key] is Int, "missing \(key)")
        }
        let help = try rehearse(["trace", "import", "--help"])
        #expect(help.out.contains("--strict") && help.out.contains("--max-malformed <share>"))
    }

    /// Every regular file below `dir` (the row's inputs and anything the command created) with
    /// its bytes, in name order.
    static func snapshot(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                out[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            }
        }
        return out
    }
}
