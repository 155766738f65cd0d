import Foundation
import Testing
import SpecFiles
@testable import Traffic

/// Goal: every input on which a fuzz target once crashed or read back wrong (Tests/Fixtures/fuzz,
/// its README says what each one was) is now refused cleanly by the parser it reached.
/// Method: feed each saved input to that parser and require a refusal, not a value and not a trap.
@Suite struct FuzzFindingsTests {
    static var folder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz")
    }

    static func inputs(_ target: String) throws -> [(String, String)] {
        let dir = folder.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        return try names.map { ($0, try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)) }
    }

    @Test func timestampFindingsAreRefused() throws {
        let found = try Self.inputs("FuzzTimestamp")
        #expect(found.count >= 7)
        for (name, text) in found {
            let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Timestamp.parseNs(line) == nil, "\(name): \(line) is not a time Rehearse can hold")
        }
    }

    @Test func logLineFindingsAreMalformedNotTraps() throws {
        for (name, text) in try Self.inputs("FuzzLogLine") {
            let outcome = GitalyLogParser.parse(line: text.trimmingCharacters(in: .newlines))
            guard case .malformed = outcome else { Issue.record("\(name): expected malformed, got \(outcome)"); continue }
        }
    }

    @Test func sizeFindingsAreRefused() throws {
        for (name, text) in try Self.inputs("FuzzUnits") {
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let v = Units.bytes(t)
            #expect(v == nil || v!.isFinite, "\(name): \(String(describing: v))")
        }
    }
}
