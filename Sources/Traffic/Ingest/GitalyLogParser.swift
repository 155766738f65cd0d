/// What one line of a log turned out to be.
public enum LineOutcome: Sendable, Equatable {
    /// A per-call access line.
    case rpc(RPCRecord)
    /// Valid input that is no access line (a `diskcache state change` line, a replication-job
    /// line, a blank line, a CSV comment): counted, not stored.
    case skipped
    /// Not valid JSON, or an access line whose required fields are unusable.
    case malformed(reason: String)
}

/// Turns Gitaly and Praefect JSON log lines into RPC records.
///
/// The access line is the one that has `grpc.code` (GITALY_LOGS.md §1): one RPC can emit several
/// other lines, and those are skipped. Praefect's access lines carry the same `grpc.*` fields
/// plus `virtual_storage`, `relative_path` and a `route` object.
public enum GitalyLogParser {
    public static func parse(line: UnsafeBufferPointer<UInt8>) -> LineOutcome {
        switch scan(line: line) {
        case .access(let access): return .rpc(access.record(line))
        case .skipped: return .skipped
        case .malformed(let reason): return .malformed(reason: reason)
        }
    }

    /// What `scan(line:)` found: an access line still pointing into the line's bytes.
    enum ScanOutcome {
        case access(AccessLine)
        case skipped
        case malformed(reason: String)
    }

    /// Validates a line and reads its access fields without decoding its names: the importer
    /// interns names from the line's bytes (`ImportNames`), and `parse(line:)` decodes them into an
    /// `RPCRecord`. Both therefore accept and reject exactly the same lines.
    static func scan(line: UnsafeBufferPointer<UInt8>) -> ScanOutcome {
        var f = Fields()
        var scanner = JSONLineScanner(line)
        do {
            try scanner.scanObject { ks, ke, value in f.take(line, ks, ke, value) }
        } catch {
            return .malformed(reason: "not valid JSON: \(error.reason) at byte \(error.offset + 1)")
        }
        guard let code = f.code else { return .skipped }
        return f.access(line, code: code)
    }

    public static func parse(line: String) -> LineOutcome {
        var copy = line
        return copy.withUTF8 { parse(line: $0) }
    }

    typealias Span = JSONLineScanner.Value

    /// The spans of the top-level fields an access line is made of; decoded only once the line
    /// is known to be an access line.
    struct Fields {
        var code: Span?
        var time: Span?
        var timeMs: Span?
        var service: Span?
        var method: Span?
        var fullMethod: Span?
        var operation: Span?
        var repoStorage: Span?
        var storageName: Span?
        var virtualStorage: Span?
        var repoPath: Span?
        var relativePath: Span?
        var projectPath: Span?
        var glRepository: Span?
        var client: Span?
        var requestBytes: Span?
        var responseBytes: Span?
        var servedBytes: Span?
        var generatedBytes: Span?
        var cpuTimeMs: Span?
        var userTimeMs: Span?
        var systemTimeMs: Span?
        var route: Span?

        /// Keeps the value of a key this parser reads. Keys are told apart by their length first
        /// (one jump), then by whole 8-byte words of their text compared from the end, where keys
        /// of one length differ (`grpc.request.repoStorage` and `grpc.request.StorageName`): a
        /// line has 20 to 60 keys and this runs for each, so no key is compared byte by byte and
        /// no table is looked up.
        @inline(__always)
        mutating func take(_ b: UnsafeBufferPointer<UInt8>, _ ks: Int, _ ke: Int, _ v: Span) {
            let p = UnsafeRawPointer(b.baseAddress! + ks)
            // Later duplicates win, as in Go's encoding/json.
            switch ke - ks {
            case 4: if Self.equals(p, 4, "time") { time = v }
            case 5: if Self.equals(p, 5, "route") { route = v }
            case 9: if Self.equals(p, 9, "grpc.code") { code = v }
            case 11: if Self.equals(p, 11, "grpc.method") { method = v }
            case 12:
                if Self.equals(p, 12, "grpc.time_ms") { timeMs = v } else if Self.equals(p, 12, "grpc.service") { service = v }
            case 13: if Self.equals(p, 13, "relative_path") { relativePath = v }
            case 15: if Self.equals(p, 15, "virtual_storage") { virtualStorage = v }
            case 19: if Self.equals(p, 19, "command.cpu_time_ms") { cpuTimeMs = v }
            case 20: if Self.equals(p, 20, "command.user_time_ms") { userTimeMs = v }
            case 21:
                if Self.equals(p, 21, "grpc.request.repoPath") { repoPath = v } else if Self.equals(p, 21, "grpc.meta.client_name") { client = v }
            case 22: if Self.equals(p, 22, "command.system_time_ms") { systemTimeMs = v }
            case 23: if Self.equals(p, 23, "grpc.request.fullMethod") { fullMethod = v }
            case 24:
                if Self.equals(p, 24, "grpc.request.repoStorage") { repoStorage = v } else if Self.equals(p, 24, "grpc.request.StorageName") { storageName = v }
            case 25: if Self.equals(p, 25, "grpc.request.glRepository") { glRepository = v }
            case 26:
                if Self.equals(p, 26, "grpc.request.glProjectPath") {
                    projectPath = v
                } else if Self.equals(p, 26, "grpc.request.payload_bytes") {
                    requestBytes = v
                } else if Self.equals(p, 26, "grpc.meta.method_operation") {
                    operation = v
                }
            case 27: if Self.equals(p, 27, "grpc.response.payload_bytes") { responseBytes = v }
            case 31: if Self.equals(p, 31, "pack_objects_cache.served_bytes") { servedBytes = v }
            case 34: if Self.equals(p, 34, "pack_objects_cache.generated_bytes") { generatedBytes = v }
            default: return
            }
        }

        /// The `n` bytes at `p` equal `key` (whose length the caller has checked is `n`).
        /// Compares 8-byte words from the end backwards, then the remaining head bytes.
        @inline(__always)
        static func equals(_ p: UnsafeRawPointer, _ n: Int, _ key: StaticString) -> Bool {
            let k = UnsafeRawPointer(key.utf8Start)
            var i = n
            while i >= 8 {
                i -= 8
                if p.loadUnaligned(fromByteOffset: i, as: UInt64.self) != k.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            }
            while i > 0 {
                i -= 1
                if p.load(fromByteOffset: i, as: UInt8.self) != k.load(fromByteOffset: i, as: UInt8.self) { return false }
            }
            return true
        }

        /// A number, or a string holding one (some pipelines quote numbers).
        func number(_ b: UnsafeBufferPointer<UInt8>, _ v: Span?) -> Double? {
            guard let v else { return nil }
            switch v {
            case .number(let s, let e): return JSONLineScanner.decodeNumber(b, s, e)
            case .string(let s, let e, _):
                guard e > s, let d = Double(String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self)) else { return nil }
                return d
            case .bool, .null, .object, .array: return nil
            }
        }

        func bytes(_ b: UnsafeBufferPointer<UInt8>, _ v: Span?) -> Int64? {
            guard let d = number(b, v), d.isFinite, d >= 0, d < 9e18 else { return nil }
            return Int64(d.rounded())
        }

        /// A non-empty string value as a name, undecoded when it holds no escape.
        func name(_ v: Span?) -> NameRef? {
            guard let v, case .string(let s, let e, let escaped) = v, e > s else { return nil }
            return escaped ? .escaped(start: s, end: e) : .plain(start: s, end: e)
        }

        /// Checks the fields of an access line and reads its numbers; names stay references into
        /// the line.
        func access(_ b: UnsafeBufferPointer<UInt8>, code codeSpan: Span) -> ScanOutcome {
            guard let code = name(codeSpan) else { return .malformed(reason: "grpc.code is not a string") }
            guard let timeSpan = time, case .string(let ts, let te, _) = timeSpan else {
                return .malformed(reason: "access line has no time")
            }
            guard let endNs = Timestamp.parseNs(b, ts, te) else {
                return .malformed(reason: "time \"\(String(decoding: UnsafeBufferPointer(rebasing: b[ts..<te]), as: UTF8.self))\" is not an RFC 3339 timestamp from \(Timestamp.validRangeText)")
            }
            guard let ms = number(b, timeMs) else { return .malformed(reason: "access line has no numeric grpc.time_ms") }
            guard ms.isFinite, ms >= 0, ms <= StoredCall.maxMilliseconds else { return .malformed(reason: "grpc.time_ms \(ms) is out of range") }
            let durationNs = Int64((ms * 1e6).rounded())
            guard endNs - durationNs >= Timestamp.earliestNs else {
                return .malformed(reason: "grpc.time_ms \(ms) puts the arrival before \(Timestamp.validRangeText)")
            }

            var service = name(service)
            var method = name(method)
            if service == nil || method == nil, let full = name(fullMethod) {
                // `/gitaly.CommitService/FindCommit`
                let parts = full.string(b).split(separator: "/", omittingEmptySubsequences: true)
                if parts.count == 2 {
                    service = service ?? .text(String(parts[0]))
                    method = method ?? .text(String(parts[1]))
                }
            }
            guard let method else { return .malformed(reason: "access line has no grpc.method") }

            // The op type the serving process logged is the truth for its version (op types
            // changed between releases, GITALY_LOGS.md §3); the proto table covers the lines
            // that do not log one (before `grpc.meta.method_operation` existed).
            let loggedOperation = name(self.operation).flatMap { OperationType(name: $0, in: b) }

            var cpu = number(b, cpuTimeMs)
            if cpu == nil, let u = number(b, userTimeMs), let s = number(b, systemTimeMs) { cpu = u + s }
            if let c = cpu, !(c >= 0 && c <= StoredCall.maxMilliseconds) {
                return .malformed(reason: "command CPU time \(c) ms is outside 0 to \(StoredCall.maxMilliseconds)")
            }

            var routeNode: String?
            var routeSecondaries: String?
            if let route, case .object(let rs, let re) = route {
                (routeNode, routeSecondaries) = Self.route(b, rs, re)
            }

            return .access(AccessLine(
                arrivalNs: endNs - durationNs,
                durationNs: durationNs,
                service: service ?? .text(""),
                method: method,
                loggedOperation: loggedOperation,
                storage: name(repoStorage) ?? name(storageName) ?? name(virtualStorage),
                repositoryPath: name(repoPath) ?? name(relativePath),
                projectPath: name(projectPath),
                glRepository: name(glRepository),
                client: name(client),
                code: code,
                requestBytes: bytes(b, requestBytes),
                responseBytes: bytes(b, responseBytes),
                packBytes: bytes(b, servedBytes) ?? bytes(b, generatedBytes),
                cpuTimeMs: cpu,
                routeNode: routeNode,
                routeSecondaries: routeSecondaries))
        }

        /// Reads Praefect's `route` object: `storage` for an accessor, `primary` and
        /// `secondaries` for a mutator (`internal/praefect/coordinator.go` logs the RouterNode).
        static func route(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (String?, String?) {
            let inner = UnsafeBufferPointer(rebasing: b[start..<end])
            var node: String?
            var secondaries: [String] = []
            var scanner = JSONLineScanner(inner)
            // The object was validated with the line; a failure here cannot happen.
            try? scanner.scanObject { ks, ke, v in
                if JSONLineScanner.equals(inner, ks, ke, "storage") || JSONLineScanner.equals(inner, ks, ke, "primary"),
                   case .string(let s, let e, let esc) = v {
                    node = JSONLineScanner.decodeString(inner, s, e, escaped: esc)
                } else if JSONLineScanner.equals(inner, ks, ke, "secondaries"), case .array(let s, let e) = v {
                    secondaries = stringsOfArray(inner, s, e)
                }
            }
            return (node, secondaries.isEmpty ? nil : secondaries.joined(separator: ","))
        }

        /// The string elements of a JSON array (non-strings are ignored).
        static func stringsOfArray(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> [String] {
            var out: [String] = []
            var i = start + 1
            while i < end {
                if b[i] == UInt8(ascii: "\"") {
                    var scanner = JSONLineScanner(b, from: i)
                    guard let (s, e, esc) = try? scanner.scanString() else { break }
                    out.append(JSONLineScanner.decodeString(b, s, e, escaped: esc))
                    i = scanner.position
                } else {
                    i += 1
                }
            }
            return out
        }
    }
}

/// A name read from a log line: a span of the line's bytes (with or without escapes), or text
/// decoded apart from the line (the halves of `grpc.request.fullMethod`).
enum NameRef {
    case plain(start: Int, end: Int)
    case escaped(start: Int, end: Int)
    case text(String)

    /// The decoded name, as `RPCRecord` holds it.
    func string(_ b: UnsafeBufferPointer<UInt8>) -> String {
        switch self {
        case .plain(let s, let e): JSONLineScanner.decodeString(b, s, e, escaped: false)
        case .escaped(let s, let e): JSONLineScanner.decodeString(b, s, e, escaped: true)
        case .text(let t): t
        }
    }
}

/// The fields of one access line, numbers decoded, names still in the line.
struct AccessLine {
    var arrivalNs: Int64
    var durationNs: Int64
    var service: NameRef
    var method: NameRef
    /// `grpc.meta.method_operation` when logged and readable; else the proto table decides.
    var loggedOperation: OperationType?
    var storage: NameRef?
    var repositoryPath: NameRef?
    var projectPath: NameRef?
    var glRepository: NameRef?
    var client: NameRef?
    var code: NameRef
    var requestBytes: Int64?
    var responseBytes: Int64?
    var packBytes: Int64?
    var cpuTimeMs: Double?
    var routeNode: String?
    var routeSecondaries: String?

    /// The record `GitalyLogParser.parse(line:)` returns.
    func record(_ b: UnsafeBufferPointer<UInt8>) -> RPCRecord {
        let method = method.string(b)
        return RPCRecord(
            arrivalNs: arrivalNs, durationNs: durationNs, service: service.string(b), method: method,
            operation: loggedOperation ?? OperationType.of(method: method),
            storage: storage?.string(b), repositoryPath: repositoryPath?.string(b), projectPath: projectPath?.string(b),
            glRepository: glRepository?.string(b), client: client?.string(b), code: code.string(b),
            requestBytes: requestBytes, responseBytes: responseBytes, packBytes: packBytes, cpuTimeMs: cpuTimeMs,
            routeNode: routeNode, routeSecondaries: routeSecondaries)
    }
}

extension OperationType {
    /// Reads a logged op type from a line's bytes as `init(name:)` reads it from a string: an
    /// ASCII name is matched without building a string (the common case, on every access line);
    /// anything else goes through `init(name:)`.
    init?(name ref: NameRef, in b: UnsafeBufferPointer<UInt8>) {
        guard case .plain(let s, let e) = ref, b[s..<e].allSatisfy({ $0 < 0x80 }) else {
            guard let op = OperationType(name: ref.string(b)) else { return nil }
            self = op
            return
        }
        func matches(_ word: StaticString) -> Bool {
            guard e - s == word.utf8CodeUnitCount else { return false }
            let w = word.utf8Start
            for i in 0..<(e - s) where b[s + i] | 0x20 != w[i] { return false }
            return true
        }
        if matches("accessor") { self = .accessor } else if matches("mutator") { self = .mutator } else if matches("maintenance") {
            self = .maintenance
        } else if matches("unknown") { self = .unknown } else { return nil }
    }
}
