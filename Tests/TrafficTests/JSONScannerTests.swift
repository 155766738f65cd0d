import Foundation
import SimKernel
import Testing
@testable import Traffic

/// The hand-written JSON scanner against Foundation's JSONSerialization as a second
/// implementation.
@Suite struct JSONScannerTests {
    /// Goal: string values with escapes, Unicode and special bytes at every offset of the SWAR
    /// word decode exactly as Foundation decodes them. Method: generated strings, seeded.
    @Test func stringsDecodeLikeFoundation() throws {
        var rng = RandomStream(seed: 42)
        let pieces = ["a", "\\\"", "\\\\", "\\n", "\\t", "\\u00e9", "\\ud83d\\ude00", "é", "/", "\\/", " ", "0123456789"]
        for _ in 0..<300 {
            var raw = ""
            for _ in 0..<rng.below(12) { raw += pieces[rng.below(pieces.count)] }
            let line = #"{"grpc.code":"OK","grpc.method":"\#(raw)","grpc.time_ms":1.5,"time":"2024-01-01T00:00:00Z"}"#
            let foundation = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            guard case .rpc(let r) = GitalyLogParser.parse(line: line) else {
                if raw.isEmpty { continue }  // an empty method makes the line unusable, by design
                Issue.record("\(line) not parsed"); continue
            }
            #expect(r.method == foundation["grpc.method"] as? String, "\(line)")
        }
    }

    /// Goal: numbers parse to the same Double as Foundation's parser, on the fast path and off it
    /// (19 digits, exponents), and out-of-range durations are refused.
    @Test func numbersParseLikeFoundation() throws {
        for text in ["0", "1", "2319.161", "160014.56", "0.001", "12345678901.25", "1234567890123456789", "1e3", "-2.5E-3", "6.662"] {
            let line = #"{"grpc.code":"OK","grpc.method":"M","grpc.time_ms":\#(text),"time":"2024-01-01T00:00:00Z"}"#
            let foundation = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let expected = (foundation["grpc.time_ms"] as! NSNumber).doubleValue
            switch GitalyLogParser.parse(line: line) {
            case .rpc(let r): #expect(r.durationNs == Int64((expected * 1e6).rounded()), "\(text)")
            // Negative durations and durations of 10^12 ms (31 years) or more are refused.
            case .malformed(let reason): #expect(expected < 0 || expected >= 1e12, "\(text): \(reason)")
            case .skipped: Issue.record("\(text) skipped")
            }
        }
    }

    /// Goal: every prefix of a real access line is malformed exactly when Foundation rejects it
    /// (a cut-off line must never be mistaken for a valid one). Method: all prefixes of the
    /// shared PostReceivePack example line.
    @Test func truncatedLinesAreMalformedExactlyWhenFoundationRejectsThem() throws {
        let text = try String(contentsOfFile: Fixtures.examplesPath, encoding: .utf8)
        let line = String(text.split(separator: "\n")[1])
        let bytes = Array(line.utf8)
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            let prefix = Array(bytes[0..<cut])
            let foundationValid = (try? JSONSerialization.jsonObject(with: Data(prefix))) is [String: Any]
            let ours = prefix.withUnsafeBufferPointer { GitalyLogParser.parse(line: $0) }
            if case .malformed = ours {
                #expect(!foundationValid, "cut at \(cut)")
            } else {
                #expect(foundationValid, "cut at \(cut)")
            }
        }
    }
}
