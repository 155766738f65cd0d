import CZlib
import Foundation
import SimKernel
@testable import Traffic

/// Shared helpers: scratch files, gzip writing, and a generator of Gitaly access logs whose
/// true parameters are known.
enum Fixtures {
    /// A fresh scratch directory for one test.
    static func scratch(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rehearse-traffic-tests")
            .appendingPathComponent(name + "-" + UUID().uuidString)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The shared example lines (GITALY_LOGS.md §2), kept in Tests/Fixtures.
    static var examplesPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/gitaly_log_examples.jsonl").path
    }

    static func write(_ lines: [String], to url: URL) {
        try! (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    /// Writes `data` gzip-compressed with zlib's gzwrite, as `members` concatenated gzip members.
    static func writeGzip(_ data: Data, to url: URL, members: Int = 1) {
        let parts = members <= 1 ? [data] : {
            let cut = data.count / 2
            return [data.prefix(cut), data.suffix(from: cut)].map { Data($0) }
        }()
        var out = Data()
        for (i, part) in parts.enumerated() {
            let tmp = url.path + ".part\(i)"
            let gz = gzopen(tmp, "wb")!
            part.withUnsafeBytes { p in _ = gzwrite(gz, p.baseAddress, UInt32(p.count)) }
            gzclose(gz)
            out.append(try! Data(contentsOf: URL(fileURLWithPath: tmp)))
            try! FileManager.default.removeItem(atPath: tmp)
        }
        try! out.write(to: url)
    }

    /// One current-format Gitaly access line (GITALY_LOGS.md §1) for a call that ended at
    /// `endNs` after `durationMs`.
    static func accessLine(endNs: Int64, durationMs: Double, service: String, method: String,
                           storage: String, repository: String, code: String = "OK",
                           cpuMs: Double? = nil, responseBytes: Int? = nil, correlation: String) -> String {
        var fields = [
            "\"correlation_id\":\"\(correlation)\"",
            "\"grpc.code\":\"\(code)\"",
            "\"grpc.meta.client_name\":\"gitlab-web\"",
            "\"grpc.method\":\"\(method)\"",
            "\"grpc.request.fullMethod\":\"/\(service)/\(method)\"",
            "\"grpc.request.repoPath\":\"\(repository)\"",
            "\"grpc.request.repoStorage\":\"\(storage)\"",
            "\"grpc.service\":\"\(service)\"",
            "\"grpc.time_ms\":\(String(format: "%.3f", durationMs))",
            "\"level\":\"info\"",
            "\"msg\":\"finished unary call with code \(code)\"",
            "\"time\":\"\(Timestamp.format(ns: endNs).prefix(23))Z\"",
        ]
        if let cpuMs { fields.append("\"command.cpu_time_ms\":\(Int(cpuMs))") }
        if let responseBytes { fields.append("\"grpc.response.payload_bytes\":\(responseBytes)") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// A method of a generated log: Poisson arrivals at `ratePerSecond`, log-normal latency with
    /// parameters `mu`, `sigma` of ln(ms).
    struct GeneratedMethod {
        var service: String
        var method: String
        var ratePerSecond: Double
        var mu: Double
        var sigma: Double
        /// Relative rate by hour of day (UTC); nil is flat.
        var hourOfDay: [Double]? = nil
    }

    struct GeneratedCall {
        var arrivalNs: Int64
        var line: String
        var method: String
        var durationMs: Double
        var repository: String
    }

    /// Generates a log covering `seconds` from `startNs`, lines in end-time order (as a log is
    /// written). Arrivals are exact for a piecewise-constant intensity: exponential gaps at the
    /// current hour's rate, restarted at each hour boundary (memorylessness), which is a
    /// different algorithm from the thinning under test. Normal variates come from Box–Muller
    /// here, independently of Stochastics. Repositories are drawn from a Zipf law with exponent
    /// `zipfExponent` over `repositories` ranks by inversion of its explicit CDF.
    static func generate(seed: UInt64, startNs: Int64, seconds: Double, methods: [GeneratedMethod],
                         repositories: Int = 20, zipfExponent: Double = 0) -> [GeneratedCall] {
        var rng = RandomStream(seed: seed)
        var cdf: [Double] = []
        var acc = 0.0
        for k in 1...repositories { acc += pow(Double(k), -zipfExponent); cdf.append(acc) }
        cdf = cdf.map { $0 / acc }
        var calls: [(end: Int64, call: GeneratedCall)] = []
        var n = 0
        for m in methods {
            var t = 0.0
            while t < seconds {
                let absolute = Double(startNs) / 1e9 + t
                let hourEnd = (absolute / 3600).rounded(.down) * 3600 + 3600 - Double(startNs) / 1e9
                let hour = Int((absolute / 3600).rounded(.down)) % 24
                let rate = m.ratePerSecond * (m.hourOfDay?[hour] ?? 1)
                let gap = rate > 0 ? rng.exponential(rate: rate) : .infinity
                if t + gap >= hourEnd { t = hourEnd; continue }
                t += gap
                if t >= seconds { break }
                let z = (-2 * log(rng.nextOpenUnit())).squareRoot() * cos(2 * Double.pi * rng.nextDouble())
                // Rounded to the microsecond, as Gitaly logs grpc.time_ms with three decimals.
                let ms = max(0.001, (exp(m.mu + m.sigma * z) * 1000).rounded() / 1000)
                // The line's time has millisecond precision: the arrival the importer derives
                // is that time minus the duration.
                let trueArrival = startNs + Int64(t * 1e9)
                let endMs = (trueArrival + Int64(ms * 1e6)) / 1_000_000
                let endNs = endMs * 1_000_000
                let arrival = endNs - Int64((ms * 1e6).rounded())
                let u = rng.nextDouble()
                let rank = (cdf.firstIndex { $0 > u } ?? (repositories - 1)) + 1
                let repo = "@hashed/\(rank).git"
                n += 1
                let line = accessLine(endNs: endNs, durationMs: ms, service: m.service, method: m.method,
                                      storage: "default", repository: repo, cpuMs: 1, responseBytes: 100,
                                      correlation: "c\(n)")
                calls.append((endNs, GeneratedCall(arrivalNs: arrival, line: line, method: m.method, durationMs: ms, repository: repo)))
            }
        }
        calls.sort { ($0.end, $0.call.line) < ($1.end, $1.call.line) }
        return calls.map(\.call)
    }
}
