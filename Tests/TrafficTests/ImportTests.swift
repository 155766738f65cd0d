import Foundation
import GRDB
import Testing
@testable import Traffic

/// Import: fields of real lines, counting of bad lines, gzip, duplicates and atomicity.
@Suite struct ImportTests {
    /// Goal: each shared example line (GITALY_LOGS.md §2) yields exactly the fields read off the
    /// line by hand. Method: expected arrivals were computed apart from this code as
    /// timegm(time) − grpc.time_ms (Python's calendar module).
    @Test func sharedExampleLinesImportWithHandCheckedFields() throws {
        let text = try String(contentsOfFile: Fixtures.examplesPath, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        let records = lines.map { line -> RPCRecord? in
            if case .rpc(let r) = GitalyLogParser.parse(line: line) { return r }
            return nil
        }
        #expect(records[0] == RPCRecord(
            arrivalNs: 1_568_758_636_680_839_000, durationNs: 2_319_161_000, service: "gitaly.CommitService",
            method: "FindCommits", operation: .accessor, storage: "default",
            repositoryPath: "@hashed/6b/86/6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b.git",
            projectPath: "root/linux", glRepository: "project-1", client: "gitlab-web", code: "OK"))
        #expect(records[1] == RPCRecord(
            arrivalNs: 1_697_488_808_835_514_000, durationNs: 631_486_000, service: "gitaly.SmartHTTPService",
            method: "PostReceivePack", operation: .mutator, storage: "nfs-file99",
            repositoryPath: "@hashed/db/ab/dbabf83f57affedc9a001dc6c6f6b47bb431bd47d7254edd1daf24f0c38793a9.git",
            projectPath: "r2414/revenir/development/machinelearning/protein-ddg", glRepository: "project-47506374",
            client: "gitlab-workhorse", code: "OK", requestBytes: 911, responseBytes: 54, cpuTimeMs: 420))
        #expect(records[2] == RPCRecord(
            arrivalNs: 1_606_384_079_653_338_000, durationNs: 6_662_000, service: "gitaly.CommitService",
            method: "FindCommit", operation: .accessor, storage: "gitaly-2",
            repositoryPath: "@hashed/19/58/19581e27de7ced00ff1ce50b2047e7a567c76b1cbaebabe5ef03f7c3017bb5b7.git",
            projectPath: "test/...", glRepository: "project-9", client: "gitlab-web", code: "OK"))
        // gitaly-ruby logs no op type, storage or client: the op type comes from the proto table.
        #expect(records[3] == RPCRecord(
            arrivalNs: 1_602_837_322_510_604_000, durationNs: 763_396_000, service: "gitaly.OperationService",
            method: "UserCommitFiles", operation: .mutator, code: "OK"))
        #expect(records[4] == RPCRecord(
            arrivalNs: 1_588_119_384_924_440_000, durationNs: 160_014_560_000, service: "gitaly.RepositoryService",
            method: "ReplicateRepository", operation: .mutator, client: "gitlab-sidekiq", code: "Unavailable"))
    }

    /// Goal: a Praefect access line yields its route. Method: a line built after
    /// GITALY_LOGS.md §1 (route with primary and secondaries for a mutator, storage for an accessor).
    @Test func praefectRouteIsRecorded() {
        let mutator = #"{"grpc.code":"OK","grpc.method":"UserCommitFiles","grpc.service":"gitaly.OperationService","grpc.time_ms":12.5,"time":"2024-01-05T10:00:00.100Z","virtual_storage":"default","relative_path":"@cluster/repositories/1a/2b/42","route":{"repository_id":42,"replica_path":"@cluster/repositories/1a/2b/42","primary":"gitaly-1","secondaries":["gitaly-2","gitaly-3"]}}"#
        guard case .rpc(let m) = GitalyLogParser.parse(line: mutator) else { Issue.record("not an RPC"); return }
        #expect(m.storage == "default")
        #expect(m.repositoryPath == "@cluster/repositories/1a/2b/42")
        #expect(m.routeNode == "gitaly-1")
        #expect(m.routeSecondaries == "gitaly-2,gitaly-3")
        #expect(m.arrivalNs == Timestamp.parseNs("2024-01-05T10:00:00.0875Z")!)
        let accessor = #"{"grpc.code":"OK","grpc.method":"FindCommit","grpc.service":"gitaly.CommitService","grpc.meta.method_operation":"accessor","grpc.time_ms":1,"time":"2024-01-05T10:00:00Z","route":{"storage":"gitaly-3","repository_id":7}}"#
        guard case .rpc(let a) = GitalyLogParser.parse(line: accessor) else { Issue.record("not an RPC"); return }
        #expect(a.routeNode == "gitaly-3")
        #expect(a.routeSecondaries == nil)
    }

    /// Goal: both time formats and zone offsets parse to the right instant. Method: instants
    /// computed by hand (1970-01-02T00:00:00Z is 86,400 s).
    @Test func timestampsInOldAndNewFormatsParse() {
        #expect(Timestamp.parseNs("1970-01-02T00:00:00Z") == 86_400_000_000_000)
        #expect(Timestamp.parseNs("1970-01-02T00:00:00.467Z") == 86_400_467_000_000)
        #expect(Timestamp.parseNs("1970-01-02T12:00:00+12:00") == 86_400_000_000_000)
        #expect(Timestamp.parseNs("1970-01-02T00:00:00.5") == 86_400_500_000_000)
        #expect(Timestamp.parseNs("2000-03-01T00:00:00Z") == 951_868_800_000_000_000)
        #expect(Timestamp.parseNs("2019-13-01T00:00:00Z") == nil)
        #expect(Timestamp.parseNs("yesterday") == nil)
        #expect(Timestamp.format(ns: 951_868_800_123_000_000) == "2000-03-01T00:00:00.123000000Z")
    }

    /// Goal: dates that do not exist, offsets past a day and instants outside 1970–2199 are not
    /// timestamps (issue 7, "Dates that are not dates"); the edges that do exist still parse.
    /// Truth by hand: 2024 and 2000 are leap years, 2023 and 2100 are not (Gregorian rule);
    /// 2199-12-31T23:59:59Z is day 84,005 after the epoch (230 years of 365 days plus the 56 leap
    /// days of 1972–2196 without 2100, less one) and 86,399 s into it.
    @Test func datesThatAreNotDatesAreRefused() {
        #expect(Timestamp.parseNs("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parseNs("2000-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parseNs("2023-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parseNs("2100-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parseNs("2023-02-31T00:00:00Z") == nil)
        #expect(Timestamp.parseNs("2023-04-31T00:00:00Z") == nil)
        #expect(Timestamp.parseNs("2023-04-30T00:00:00Z") != nil)
        #expect(Timestamp.parseNs("1970-01-02T23:59:00+23:59") == 86_400_000_000_000)
        #expect(Timestamp.parseNs("1970-01-02T00:00:00+24:00") == nil)
        #expect(Timestamp.parseNs("1970-01-02T00:00:00+99:99") == nil)
        #expect(Timestamp.parseNs("1970-01-02T00:00:00+01:60") == nil)
        #expect(Timestamp.parseNs("1969-12-31T23:59:59Z") == nil)
        #expect(Timestamp.parseNs("1970-01-01T00:00:00Z") == 0)
        let lastSecond: Int64 = (84_005 * 86_400 + 86_399) * 1_000_000_000
        #expect(Timestamp.parseNs("2199-12-31T23:59:59Z") == lastSecond)
        #expect(Timestamp.parseNs("2200-01-01T00:00:00Z") == nil)
        #expect(Timestamp.parseNs("9999-12-31T23:59:59Z") == nil)
    }

    /// Goal: malformed, truncated, non-JSON and non-access lines are counted and never stop the
    /// import. Method: a file mixing each kind once with two access lines; counts by hand.
    @Test func badLinesAreCountedNeverFatal() throws {
        let dir = Fixtures.scratch("bad-lines")
        let good1 = Fixtures.accessLine(endNs: 1_700_000_000_000_000_000, durationMs: 5, service: "gitaly.RefService",
                                        method: "FindBranch", storage: "s1", repository: "r1.git", correlation: "a")
        let good2 = Fixtures.accessLine(endNs: 1_700_000_001_000_000_000, durationMs: 7, service: "gitaly.RefService",
                                        method: "FindBranch", storage: "s1", repository: "r1.git", correlation: "b")
        let lines = [
            good1,
            #"{"level":"info","msg":"diskcache state change","time":"2020-01-01T00:00:00Z"}"#,  // skipped
            "this is not json",  // malformed
            #"{"grpc.code":"OK","time":"2020-01-01T00:0"#,  // truncated: malformed
            "",  // blank: skipped
            #"time="2020-07-06T14:09:41+12:00" level=info msg="processing started" component=replication_manager"#,  // text format: malformed
            #"{"grpc.code":"OK","grpc.method":"FindCommit"}"#,  // access line without time: malformed
            #"[1,2,3]"#,  // valid JSON, not an object: malformed
            good2,
        ]
        let path = dir.appendingPathComponent("mixed.log")
        Fixtures.write(lines, to: path)
        let store = try TraceStore(path: dir.appendingPathComponent("t.sqlite").path)
        let s = try TraceImporter(store: store).importFiles([path.path])
        #expect(s.lines == 9)
        #expect(s.rpcs == 2)
        #expect(s.skipped == 2)
        #expect(s.malformed == 5)
        #expect(s.malformedExamples.map(\.line) == [3, 4, 6, 7, 8])
        #expect(s.malformedExamples.allSatisfy { $0.source == path.path })
        #expect(try store.rpcCount() == 2)
    }

    /// Goal: gzip input (one or several members) imports exactly like the plain file, and a
    /// second import of the same lines (even under another name and compression) adds nothing.
    @Test func gzipInputEqualsPlainInputAndReimportAddsNothing() throws {
        let dir = Fixtures.scratch("gzip")
        let calls = Fixtures.generate(seed: 7, startNs: 1_700_000_000_000_000_000, seconds: 60,
                                      methods: [.init(service: "gitaly.CommitService", method: "FindCommit", ratePerSecond: 30, mu: 1, sigma: 0.5)])
        let plain = dir.appendingPathComponent("current")
        Fixtures.write(calls.map(\.line), to: plain)
        let gz = dir.appendingPathComponent("current.1.gz")
        Fixtures.writeGzip(try Data(contentsOf: plain), to: gz, members: 2)

        let a = try TraceStore(path: dir.appendingPathComponent("a.sqlite").path)
        let b = try TraceStore(path: dir.appendingPathComponent("b.sqlite").path)
        let sa = try TraceImporter(store: a).importFiles([plain.path])
        let sb = try TraceImporter(store: b).importFiles([gz.path])
        #expect(sa == sb)
        #expect(sa.rpcs == calls.count)
        #expect(sa.firstArrivalNs == calls.map(\.arrivalNs).min())
        #expect(sa.lastArrivalNs == calls.map(\.arrivalNs).max())
        let dump = "SELECT arrival_ns, duration_ns, line_hash, repository_id FROM rpc ORDER BY arrival_ns, line_hash"
        let rowsA = try a.queue.read { try Row.fetchAll($0, sql: dump) }
        let rowsB = try b.queue.read { try Row.fetchAll($0, sql: dump) }
        #expect(rowsA == rowsB)

        let again = try TraceImporter(store: a).importFiles([gz.path])
        #expect(again.inserted == 0)
        #expect(again.duplicates == calls.count)
        #expect(try a.rpcCount() == calls.count)
    }

    /// Goal: a failed import leaves the database exactly as it was. Method: import one file,
    /// then try an import whose second input is a truncated gzip stream, then one whose second
    /// input is missing; the row count and contents stay those of the first import, and the
    /// errors name the file (and the line reached).
    @Test func failedImportLeavesDatabaseUnchanged() throws {
        let dir = Fixtures.scratch("atomic")
        let calls = Fixtures.generate(seed: 9, startNs: 1_700_000_000_000_000_000, seconds: 100,
                                      methods: [.init(service: "gitaly.RefService", method: "FindBranch", ratePerSecond: 20, mu: 0, sigma: 1)])
        let first = dir.appendingPathComponent("first.log")
        Fixtures.write(Array(calls.prefix(500).map(\.line)), to: first)
        let second = dir.appendingPathComponent("second.log")
        Fixtures.write(Array(calls.dropFirst(500).map(\.line)), to: second)
        let gz = dir.appendingPathComponent("second.log.gz")
        Fixtures.writeGzip(try Data(contentsOf: second), to: gz)
        let whole = try Data(contentsOf: gz)
        let cut = dir.appendingPathComponent("cut.log.gz")
        try whole.prefix(whole.count - 40).write(to: cut)

        let store = try TraceStore(path: dir.appendingPathComponent("t.sqlite").path)
        _ = try TraceImporter(store: store).importFiles([first.path])
        #expect(try store.rpcCount() == 500)

        #expect {
            try TraceImporter(store: store).importFiles([second.path, cut.path])
        } throws: { error in
            guard case .truncatedGzip(let path, let line) = error as? TraceInputError else { return false }
            return path == cut.path && line > 0 && line < calls.count - 500
        }
        #expect(try store.rpcCount() == 500)

        let missing = dir.appendingPathComponent("missing.log").path
        #expect(throws: TraceInputError.cannotOpen(path: missing, reason: "No such file or directory")) {
            try TraceImporter(store: store).importFiles([second.path, missing])
        }
        #expect(try store.rpcCount() == 500)
        let runs = try store.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM import_run") }
        #expect(runs == 1)
    }

    /// Goal: a file that is not a SQLite database is refused with its name, not overwritten.
    @Test func unreadableDatabaseIsRefused() throws {
        let dir = Fixtures.scratch("baddb")
        let path = dir.appendingPathComponent("t.sqlite")
        try "this is not a database, it is a text file long enough to have a header of some sort".write(to: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try TraceStore(path: path.path)
        } throws: { error in
            switch error as? TraceStoreError {
            case .cannotOpen(let p, _), .notATraceDatabase(let p, _), .database(let p, _), .invalidCall(let p, _): p == path.path
            case .empty, nil: false
            }
        }
        #expect(try String(contentsOf: path, encoding: .utf8).hasPrefix("this is not a database"))
    }

    /// Goal: a CSV file is recognised by its header and imports the same calls as the JSON log
    /// it was rendered from. Method: import a generated log, render its parsed records to CSV,
    /// import that into a second store, compare the stored rows' arrivals, durations and methods.
    @Test func csvFileImportsLikeTheJSONItCameFrom() throws {
        let dir = Fixtures.scratch("csv-file")
        let calls = Fixtures.generate(seed: 3, startNs: 1_700_000_000_000_000_000, seconds: 30,
                                      methods: [.init(service: "gitaly.CommitService", method: "FindCommit", ratePerSecond: 20, mu: 1, sigma: 0.5)])
        var csv = ["# rendered from the JSON fixture", TraceCSV.header]
        for c in calls {
            guard case .rpc(let r) = GitalyLogParser.parse(line: c.line) else { Issue.record("fixture line not parsed"); return }
            csv.append(TraceCSV.render(r))
        }
        // The comment line comes first here, so move the header to the top as the format requires.
        csv.swapAt(0, 1)
        let json = dir.appendingPathComponent("gitaly.log")
        let table = dir.appendingPathComponent("trace.csv")
        Fixtures.write(calls.map(\.line), to: json)
        Fixtures.write(csv, to: table)
        let a = try TraceStore(path: dir.appendingPathComponent("a.sqlite").path)
        let b = try TraceStore(path: dir.appendingPathComponent("b.sqlite").path)
        _ = try TraceImporter(store: a).importFiles([json.path])
        let s = try TraceImporter(store: b).importFiles([table.path])
        #expect(s.rpcs == calls.count)
        #expect(s.skipped == 2)
        #expect(s.malformed == 0)
        let dump = "SELECT arrival_ns, duration_ns, method_id, operation FROM rpc ORDER BY arrival_ns, duration_ns"
        #expect(try a.queue.read { try Row.fetchAll($0, sql: dump) } == b.queue.read { try Row.fetchAll($0, sql: dump) })
    }

    /// Goal: the CSV format carries every field of a record. Method: render hand-built records
    /// (with a comma inside a field) to CSV, parse them back, and compare field by field.
    @Test func csvRoundTripsEveryField() throws {
        let records = [
            RPCRecord(arrivalNs: 1_700_000_000_123_000_000, durationNs: 12_345_000, service: "gitaly.SmartHTTPService",
                      method: "PostUploadPackWithSidechannel", operation: .accessor, storage: "nfs-file01",
                      repositoryPath: "@hashed/aa/bb/x.git", projectPath: "group, with comma/p", glRepository: "project-3",
                      client: "gitlab-workhorse", code: "Canceled", requestBytes: 10, responseBytes: 20, packBytes: 30_000,
                      cpuTimeMs: 4.5, routeNode: "gitaly-1", routeSecondaries: "gitaly-2,gitaly-3"),
            RPCRecord(arrivalNs: 1_700_000_001_000_000_000, durationNs: 1_000, service: "", method: "OptimizeRepository",
                      operation: .maintenance),
        ]
        let text = ([TraceCSV.header] + records.map(TraceCSV.render)).joined(separator: "\n")
        var header: TraceCSV.Header?
        var parsed: [RPCRecord] = []
        for (i, line) in text.split(separator: "\n").enumerated() {
            var l = String(line)
            l.withUTF8 { buf in
                if i == 0 { header = TraceCSV.Header(line: buf); return }
                if case .rpc(let r) = header!.parse(line: buf) { parsed.append(r) }
            }
        }
        #expect(parsed == records)
        var bad = "x,1,,FindCommit,,,,,,,,,,,,,"
        guard case .malformed(let reason) = bad.withUTF8({ header!.parse(line: $0) }) else {
            Issue.record("bad arrival accepted"); return
        }
        #expect(reason.contains("arrival"))
    }
}
