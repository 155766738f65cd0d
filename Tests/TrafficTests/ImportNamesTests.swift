import Foundation
import GRDB
import SimKernel
import Testing
@testable import Traffic

/// The import's fast path (issue 4): names interned from a line's bytes, keys matched by length
/// and words, logged op types read without building strings. Each test checks it against a
/// second implementation or against values worked out by hand.
@Suite struct ImportNamesTests {
    /// Goal: the byte interner gives the same byte string the same id and ids in first-seen
    /// order, also after its table grows. Method: 3,000 names drawn with repeats (more than the
    /// initial 256 slots several times over), checked against a Dictionary doing the same job.
    @Test func byteInternerAgreesWithADictionary() {
        var interner = ByteInterner()
        var reference: [[UInt8]: Int32] = [:]
        var rng = SplitMix64(state: 11)
        for _ in 0..<3000 {
            let k = rng.next() % 1200
            // Lengths from 0 to 40 bytes, so that empty keys and keys crossing 8-byte words occur.
            let name = Array("storage-\(k)".utf8) + Array(repeating: UInt8(ascii: "x"), count: Int(k % 33))
            let key = k == 0 ? [] : name
            let expected = reference[key] ?? Int32(reference.count)
            let isNew = reference[key] == nil
            reference[key] = expected
            let (id, added) = key.withUnsafeBufferPointer { interner.intern($0) }
            #expect(id == expected)
            #expect(added == isNew)
        }
        #expect(interner.count == reference.count)
    }

    /// Goal: a key is taken only when all its bytes match. Method: a line whose keys have the
    /// lengths of the read keys but differ in one byte (first, middle or last) is no access
    /// line at all (its `grpc.code` is misspelt) and, with the right `grpc.code`, keeps none of
    /// the misspelt fields.
    @Test func keysDifferingInOneByteAreNotTaken() {
        let misspelt = #"{"grpc.codE":"OK","time":"2024-01-05T10:00:00Z","grpc.time_ms":1,"grpc.method":"FindCommit"}"#
        #expect(GitalyLogParser.parse(line: misspelt) == .skipped)
        let line = #"{"grpc.code":"OK","time":"2024-01-05T10:00:01Z","grpc.time_ms":1000,"grpc.method":"FindCommit","grpc.service":"gitaly.CommitService","Grpc.request.repoStorage":"a","grpc.request.repoStoragf":"b","grpc.request.repo_torage":"c","grpc.request.glProjectPatH":"p","grpc.meta.client_namE":"w","command.cpu_time_mS":5}"#
        guard case .rpc(let r) = GitalyLogParser.parse(line: line) else { Issue.record("not an access line"); return }
        #expect(r == RPCRecord(arrivalNs: 1_704_448_800_000_000_000, durationNs: 1_000_000_000, service: "gitaly.CommitService",
                               method: "FindCommit", operation: .accessor, code: "OK"))
    }

    /// Goal: a logged op type is read as `OperationType(name:)` reads it (ASCII letters in any
    /// case), and an unreadable one leaves the proto table's. Method: FindCommit is an accessor
    /// in the proto table (GITALY_LOGS.md §3), so each logged spelling either overrides it
    /// (expected by hand) or does not.
    @Test(arguments: [
        ("MUTATOR", OperationType.mutator), ("Maintenance", .maintenance), ("accessor", .accessor),
        ("unknown", .unknown), ("mutat0r", .accessor), ("mutators", .accessor),
        (#"mut\u0061tor"#, .mutator), ("mutatör", .accessor),
    ])
    func loggedOperationIsReadAsItsName(logged: String, expected: OperationType) {
        let line = #"{"grpc.code":"OK","time":"2024-01-05T10:00:01Z","grpc.time_ms":1,"grpc.method":"FindCommit","grpc.service":"gitaly.CommitService","grpc.meta.method_operation":"\#(logged)"}"#
        guard case .rpc(let r) = GitalyLogParser.parse(line: line) else { Issue.record("not an access line"); return }
        #expect(r.operation == expected)
    }

    /// Goal: one name written with and without JSON escapes is one stored name, and the ids the
    /// rows carry are the store's. Method: four lines over two storages, one of them spelt
    /// `nfs\u002dfile1` once; the store must hold exactly the names and counts listed by hand,
    /// the method row the op type of its first line, upgraded from unknown by a later line.
    @Test func escapedAndPlainSpellingsShareOneStoredName() throws {
        let dir = Fixtures.scratch("intern")
        func line(_ second: Int, storage: String, repo: String, op: String?) -> String {
            let logged = op.map { #","grpc.meta.method_operation":"\#($0)""# } ?? ""
            return #"{"grpc.code":"OK","time":"2024-01-05T10:00:0\#(second)Z","grpc.time_ms":1,"grpc.method":"NewMethod","grpc.service":"gitaly.FutureService","grpc.request.repoStorage":"\#(storage)","grpc.request.repoPath":"\#(repo)"\#(logged)}"#
        }
        let lines = [
            line(1, storage: "nfs-file1", repo: "a.git", op: "unknown"),
            line(2, storage: #"nfs\u002dfile1"#, repo: "a.git", op: nil),
            line(3, storage: "nfs-file2", repo: "a.git", op: "mutator"),
            line(4, storage: "nfs-file1", repo: #"b\u002egit"#, op: "accessor"),
        ]
        let path = dir.appendingPathComponent("names.log")
        Fixtures.write(lines, to: path)
        let store = try TraceStore(path: dir.appendingPathComponent("t.sqlite").path)
        let s = try TraceImporter(store: store).importFiles([path.path])
        #expect(s.rpcs == 4 && s.inserted == 4)
        try store.queue.read { (db: Database) throws -> Void in
            #expect(try String.fetchAll(db, sql: "SELECT name FROM storage ORDER BY id") == ["nfs-file1", "nfs-file2"])
            let repos = try Row.fetchAll(db, sql: """
                SELECT s.name AS storage, r.relative_path AS path FROM repository r JOIN storage s ON s.id = r.storage_id ORDER BY r.id
                """).map { "\($0["storage"] as String)/\($0["path"] as String)" }
            #expect(repos == ["nfs-file1/a.git", "nfs-file2/a.git", "nfs-file1/b.git"])
            let perStorage = try Row.fetchAll(db, sql: """
                SELECT s.name AS name, COUNT(*) AS n FROM rpc JOIN storage s ON s.id = rpc.storage_id GROUP BY s.name ORDER BY s.name
                """).map { "\($0["name"] as String)=\($0["n"] as Int)" }
            #expect(perStorage == ["nfs-file1=3", "nfs-file2=1"])
            // Inserted as unknown (line 1 logs it so, and the proto table does not know it),
            // upgraded by line 3, kept when line 4 names another type.
            #expect(try Int.fetchOne(db, sql: "SELECT operation FROM method") == Int(OperationType.mutator.rawValue))
            // Each row keeps its own line's op type: unknown, unknown (proto table), mutator, accessor.
            #expect(try Int.fetchAll(db, sql: "SELECT operation FROM rpc ORDER BY arrival_ns") == [0, 0, 2, 1])
        }
    }

    /// Goal: a second input of one import reuses the names the first stored (local ids are
    /// per input, stored ids are per store). Method: two files naming the same storage and
    /// method plus one new storage; three storages would mean a name stored twice.
    @Test func namesAreSharedAcrossInputsOfOneImport() throws {
        let dir = Fixtures.scratch("intern-two")
        let a = dir.appendingPathComponent("a.log"), b = dir.appendingPathComponent("b.log")
        Fixtures.write([Fixtures.accessLine(endNs: 1_700_000_000_000_000_000, durationMs: 1, service: "gitaly.RefService",
                                            method: "FindBranch", storage: "s1", repository: "r.git", correlation: "a")], to: a)
        Fixtures.write([Fixtures.accessLine(endNs: 1_700_000_001_000_000_000, durationMs: 1, service: "gitaly.RefService",
                                            method: "FindBranch", storage: "s2", repository: "r.git", correlation: "b"),
                        Fixtures.accessLine(endNs: 1_700_000_002_000_000_000, durationMs: 1, service: "gitaly.RefService",
                                            method: "FindBranch", storage: "s1", repository: "r.git", correlation: "c")], to: b)
        let store = try TraceStore(path: dir.appendingPathComponent("t.sqlite").path)
        _ = try TraceImporter(store: store).importFiles([a.path, b.path])
        try store.queue.read { (db: Database) throws -> Void in
            #expect(try String.fetchAll(db, sql: "SELECT name FROM storage ORDER BY id") == ["s1", "s2"])
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM method") == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM repository") == 2)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT repository_id) FROM rpc") == 2)
        }
    }
}
