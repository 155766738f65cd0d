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
        var f = Fields()
        var scanner = JSONLineScanner(line)
        let byLength = Fields.Key.byLength
        do {
            try scanner.scanObject { ks, ke, value in f.take(line, ks, ke, value, byLength) }
        } catch {
            return .malformed(reason: "not valid JSON: \(error.reason) at byte \(error.offset + 1)")
        }
        guard let code = f.code else { return .skipped }
        return f.record(line, code: code)
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

        /// The fields an access line is read from, by key.
        enum Key: CaseIterable {
            case code, time, timeMs, service, method, fullMethod, operation, repoStorage, storageName
            case virtualStorage, repoPath, relativePath, projectPath, glRepository, client
            case requestBytes, responseBytes, servedBytes, generatedBytes, cpuTimeMs, userTimeMs
            case systemTimeMs, route

            var text: StaticString {
                switch self {
                case .code: "grpc.code"
                case .time: "time"
                case .timeMs: "grpc.time_ms"
                case .service: "grpc.service"
                case .method: "grpc.method"
                case .fullMethod: "grpc.request.fullMethod"
                case .operation: "grpc.meta.method_operation"
                case .repoStorage: "grpc.request.repoStorage"
                case .storageName: "grpc.request.StorageName"
                case .virtualStorage: "virtual_storage"
                case .repoPath: "grpc.request.repoPath"
                case .relativePath: "relative_path"
                case .projectPath: "grpc.request.glProjectPath"
                case .glRepository: "grpc.request.glRepository"
                case .client: "grpc.meta.client_name"
                case .requestBytes: "grpc.request.payload_bytes"
                case .responseBytes: "grpc.response.payload_bytes"
                case .servedBytes: "pack_objects_cache.served_bytes"
                case .generatedBytes: "pack_objects_cache.generated_bytes"
                case .cpuTimeMs: "command.cpu_time_ms"
                case .userTimeMs: "command.user_time_ms"
                case .systemTimeMs: "command.system_time_ms"
                case .route: "route"
                }
            }

            /// Keys grouped by byte length, so that most of a line's keys are rejected by one
            /// length look-up before any byte is compared.
            static let byLength: [[Key]] = {
                var table = Array(repeating: [Key](), count: 64)
                for k in Key.allCases { table[k.text.utf8CodeUnitCount].append(k) }
                return table
            }()
        }

        mutating func take(_ b: UnsafeBufferPointer<UInt8>, _ ks: Int, _ ke: Int, _ v: Span, _ byLength: [[Key]]) {
            let n = ke - ks
            guard n < byLength.count else { return }
            for key in byLength[n] where JSONLineScanner.equals(b, ks, ke, key.text) {
                // Later duplicates win, as in Go's encoding/json.
                switch key {
                case .code: code = v
                case .time: time = v
                case .timeMs: timeMs = v
                case .service: service = v
                case .method: method = v
                case .fullMethod: fullMethod = v
                case .operation: operation = v
                case .repoStorage: repoStorage = v
                case .storageName: storageName = v
                case .virtualStorage: virtualStorage = v
                case .repoPath: repoPath = v
                case .relativePath: relativePath = v
                case .projectPath: projectPath = v
                case .glRepository: glRepository = v
                case .client: client = v
                case .requestBytes: requestBytes = v
                case .responseBytes: responseBytes = v
                case .servedBytes: servedBytes = v
                case .generatedBytes: generatedBytes = v
                case .cpuTimeMs: cpuTimeMs = v
                case .userTimeMs: userTimeMs = v
                case .systemTimeMs: systemTimeMs = v
                case .route: route = v
                }
                return
            }
        }

        func string(_ b: UnsafeBufferPointer<UInt8>, _ v: Span?) -> String? {
            guard let v else { return nil }
            switch v {
            case .string(let s, let e, let escaped): return JSONLineScanner.decodeString(b, s, e, escaped: escaped)
            case .number, .bool, .null, .object, .array: return nil
            }
        }

        func nonEmpty(_ b: UnsafeBufferPointer<UInt8>, _ v: Span?) -> String? {
            guard let s = string(b, v), !s.isEmpty else { return nil }
            return s
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

        func record(_ b: UnsafeBufferPointer<UInt8>, code codeSpan: Span) -> LineOutcome {
            guard let code = nonEmpty(b, codeSpan) else { return .malformed(reason: "grpc.code is not a string") }
            guard let timeSpan = time, case .string(let ts, let te, _) = timeSpan else {
                return .malformed(reason: "access line has no time")
            }
            guard let endNs = Timestamp.parseNs(b, ts, te) else {
                return .malformed(reason: "time \"\(String(decoding: UnsafeBufferPointer(rebasing: b[ts..<te]), as: UTF8.self))\" is not an RFC 3339 timestamp")
            }
            guard let ms = number(b, timeMs) else { return .malformed(reason: "access line has no numeric grpc.time_ms") }
            guard ms.isFinite, ms >= 0, ms < 1e12 else { return .malformed(reason: "grpc.time_ms \(ms) is out of range") }
            let durationNs = Int64((ms * 1e6).rounded())

            var service = nonEmpty(b, service)
            var method = nonEmpty(b, method)
            if service == nil || method == nil, let full = nonEmpty(b, fullMethod) {
                // `/gitaly.CommitService/FindCommit`
                let parts = full.split(separator: "/", omittingEmptySubsequences: true)
                if parts.count == 2 {
                    service = service ?? String(parts[0])
                    method = method ?? String(parts[1])
                }
            }
            guard let method else { return .malformed(reason: "access line has no grpc.method") }

            // The op type the serving process logged is the truth for its version (op types
            // changed between releases, GITALY_LOGS.md §3); the proto table covers the lines
            // that do not log one (before `grpc.meta.method_operation` existed).
            var operation = OperationType.of(method: method)
            if let logged = nonEmpty(b, self.operation), let op = OperationType(name: logged) { operation = op }

            var cpu = number(b, cpuTimeMs)
            if cpu == nil, let u = number(b, userTimeMs), let s = number(b, systemTimeMs) { cpu = u + s }

            var routeNode: String?
            var routeSecondaries: String?
            if let route, case .object(let rs, let re) = route {
                (routeNode, routeSecondaries) = Self.route(b, rs, re)
            }

            return .rpc(RPCRecord(
                arrivalNs: endNs - durationNs,
                durationNs: durationNs,
                service: service ?? "",
                method: method,
                operation: operation,
                storage: nonEmpty(b, repoStorage) ?? nonEmpty(b, storageName) ?? nonEmpty(b, virtualStorage),
                repositoryPath: nonEmpty(b, repoPath) ?? nonEmpty(b, relativePath),
                projectPath: nonEmpty(b, projectPath),
                glRepository: nonEmpty(b, glRepository),
                client: nonEmpty(b, client),
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
