import Foundation
import Testing

/// `rehearse trace import` as a user runs it: the JSON summary, and the one-line errors with exit
/// code 2 for inputs that cannot be read (issue 4, "Bad input").
@Suite struct TraceImportCLITests {
    /// A fresh scratch directory for one test.
    static func scratch(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rehearse-trace-cli-\(name)-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The shared example lines, kept in the repository as Tests/Fixtures/gitaly_log_examples.jsonl.
    static var examplesPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/gitaly_log_examples.jsonl").standardizedFileURL.path
    }

    /// Goal: `--json` prints the documented keys with the counts and the arrival range of the
    /// shared examples. Truth by hand from the file: five lines, each an access line (each has
    /// `grpc.code`); the earliest arrival is line 1's `time` 2019-09-17T22:17:19Z less its
    /// `grpc.time_ms` 2319.161 = 22:17:16.680839, the latest is line 2's 2023-10-16T20:40:09.467Z
    /// less 631.486 ms = 20:40:08.835514.
    @Test
    func importJSONReportsCountsAndArrivalRangeOfSharedExamples() throws {
        let dir = Self.scratch("examples")
        let db = dir.appendingPathComponent("t.sqlite").path
        let r = try rehearse(["trace", "import", Self.examplesPath, "--db", db, "--json"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        for key in ["lines", "rpcs", "skipped", "malformed", "first_arrival", "last_arrival"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["lines"] as? Int == 5)
        #expect(object["rpcs"] as? Int == 5)
        #expect(object["skipped"] as? Int == 0)
        #expect(object["malformed"] as? Int == 0)
        #expect((object["first_arrival"] as? String)?.hasPrefix("2019-09-17T22:17:16.680839") == true)
        #expect((object["last_arrival"] as? String)?.hasPrefix("2023-10-16T20:40:08.835514") == true)

        // The same file again adds nothing and still reads every line.
        let again = try rehearse(["trace", "import", Self.examplesPath, "--db", db, "--json"])
        #expect(again.status == 0)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any])
        #expect(second["lines"] as? Int == 5)
        #expect(second["inserted"] as? Int == 0)
        #expect(second["duplicates"] as? Int == 5)
    }

    /// Goal: a missing input is one line on stderr naming it, exit code 2, and no database left
    /// behind by the failed import.
    @Test func missingFileExitsWithCode2NamingTheFile() throws {
        let dir = Self.scratch("missing")
        let missing = dir.appendingPathComponent("no-such-current.log").path
        let db = dir.appendingPathComponent("t.sqlite").path
        let r = try rehearse(["trace", "import", missing, "--db", db])
        #expect(r.status == 2)
        #expect(r.err.split(separator: "\n").count == 1, "stderr: \(r.err)")
        #expect(r.err.contains(missing))
        #expect(r.out.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    /// Goal: a gzip stream cut before its trailer is an error naming the file, exit code 2, and
    /// the database keeps what an earlier import stored. Method: a gzip member built by hand
    /// (RFC 1952 header, one stored deflate block of RFC 1951 §3.2.4) holding three access lines,
    /// cut inside the third line, so neither a CRC nor zlib is needed to write it.
    @Test func truncatedGzipExitsWithCode2NamingTheFile() throws {
        let dir = Self.scratch("truncated")
        var text = ""
        for i in 0..<3 {
            text += #"{"grpc.code":"OK","grpc.method":"FindCommit","grpc.service":"gitaly.CommitService","grpc.time_ms":1.5,"time":"2024-01-05T10:00:0\#(i).100Z","correlation_id":"c\#(i)"}"# + "\n"
        }
        let payload = Array(text.utf8)
        var gzip: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]
        // Stored block, final: BFINAL = 1, BTYPE = 00, then LEN and its one's complement.
        let n = UInt16(payload.count)
        gzip += [0x01, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8(~n >> 8)]
        gzip += payload
        let cut = Array(gzip.prefix(gzip.count - 40))
        let path = dir.appendingPathComponent("current.1.gz").path
        try Data(cut).write(to: URL(fileURLWithPath: path))

        let db = dir.appendingPathComponent("t.sqlite").path
        let plain = dir.appendingPathComponent("first.log").path
        try Data((text.split(separator: "\n")[0] + "\n").utf8).write(to: URL(fileURLWithPath: plain))
        let first = try rehearse(["trace", "import", plain, "--db", db, "--json"])
        #expect(first.status == 0, "stderr: \(first.err)")

        let r = try rehearse(["trace", "import", path, "--db", db])
        #expect(r.status == 2)
        #expect(r.err.split(separator: "\n").count == 1, "stderr: \(r.err)")
        #expect(r.err.contains(path))
        #expect(r.err.contains("truncated"))
        #expect(r.out.isEmpty)

        // The failed import stored nothing, not even the two lines it read completely: of the
        // first two lines, only the second is new.
        let two = dir.appendingPathComponent("two.log").path
        try Data(text.split(separator: "\n").prefix(2).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: two))
        let again = try rehearse(["trace", "import", two, "--db", db, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any])
        #expect(object["inserted"] as? Int == 1)
        #expect(object["duplicates"] as? Int == 1)
    }
}
