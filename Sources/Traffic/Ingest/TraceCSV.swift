/// The plain CSV trace format, for traces that do not come from Gitaly's logs (other systems,
/// hand-made tests, exports from a log warehouse).
///
/// The first line is a header naming the columns, in any order; `arrival`, `duration_ms` and
/// `method` are required, every other column is optional and may be left empty:
///
/// | column | meaning |
/// |---|---|
/// | `arrival` | RFC 3339 time (`2023-10-16T20:40:08.836Z`) or Unix seconds (`1697488808.836`) |
/// | `duration_ms` | handler time in milliseconds |
/// | `service`, `method` | `gitaly.CommitService`, `FindCommit` |
/// | `operation` | accessor, mutator or maintenance; empty means "from the proto table" |
/// | `storage`, `repository`, `project`, `gl_repository` | storage name, relative path, project path, `project-N` |
/// | `client`, `code` | client name; gRPC code (empty means OK) |
/// | `request_bytes`, `response_bytes`, `pack_bytes` | integers |
/// | `cpu_ms` | CPU time of the git processes, milliseconds |
/// | `route_node`, `route_secondaries` | Praefect route: serving node or primary; secondaries separated by `;` |
///
/// Fields are separated by commas; a field may be double-quoted, with `""` for a quote inside
/// (RFC 4180). Lines starting with `#` and blank lines are skipped.
public enum TraceCSV {
    public enum Column: String, CaseIterable, Sendable {
        case arrival, duration_ms, service, method, operation, storage, repository, project
        case gl_repository, client, code, request_bytes, response_bytes, pack_bytes, cpu_ms
        case route_node, route_secondaries
    }

    public static let header = Column.allCases.map(\.rawValue).joined(separator: ",")

    /// The column order of one file.
    public struct Header {
        var columns: [Column] = []

        init() {}

        /// A valid header line, or nil.
        init?(line: UnsafeBufferPointer<UInt8>) {
            guard case .success(let h) = Header.read(line) else { return nil }
            self = h
        }

        /// Whether the first line of an input is meant as a CSV header: it has commas and no
        /// braces, which no JSON log line (whole or cut) lacks. Such a line that is not a valid
        /// header is an error for the whole input, not a malformed JSON line on every line.
        static func isIntended(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
            line.contains(UInt8(ascii: ",")) && !line.contains(UInt8(ascii: "{")) && !line.contains(UInt8(ascii: "}"))
        }

        /// The header, or why the line is not one.
        static func read(_ line: UnsafeBufferPointer<UInt8>) -> Result<Header, FieldError> {
            guard let fields = TraceCSV.split(line) else { return .failure(FieldError(reason: "unterminated quoted field")) }
            var h = Header()
            for f in fields {
                guard let c = Column(rawValue: f.trimmingSpaces) else {
                    return .failure(FieldError(reason: "unknown column \"\(f.trimmingSpaces)\"; columns are \(TraceCSV.header)"))
                }
                guard !h.columns.contains(c) else { return .failure(FieldError(reason: "column \"\(c.rawValue)\" is named twice")) }
                h.columns.append(c)
            }
            for required in [Column.arrival, .duration_ms, .method] where !h.columns.contains(required) {
                return .failure(FieldError(reason: "the required column \"\(required.rawValue)\" is missing"))
            }
            return .success(h)
        }

        func parse(line: UnsafeBufferPointer<UInt8>) -> LineOutcome {
            if line.isEmpty || line[0] == UInt8(ascii: "#") || line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return .skipped }
            guard let fields = TraceCSV.split(line) else { return .malformed(reason: "unterminated quoted field") }
            guard fields.count == columns.count else {
                return .malformed(reason: "expected \(columns.count) fields, found \(fields.count)")
            }
            var value: [Column: String] = [:]
            for (c, f) in zip(columns, fields) where !f.isEmpty { value[c] = f }
            /// Nil for an empty field; throws the reason for a bad one.
            func int(_ c: Column) throws(FieldError) -> Int64? {
                guard let s = value[c] else { return nil }
                guard let v = Int64(s), v >= 0 else { throw FieldError(reason: "\(c.rawValue) \"\(s)\" is not a non-negative integer") }
                return v
            }
            guard let arrivalText = value[.arrival] else { return .malformed(reason: "arrival is empty") }
            let arrival: Int64
            if let ns = Timestamp.parseNs(arrivalText) {
                arrival = ns
            } else if let s = Double(arrivalText), s.isFinite, s >= 0, s * 1e9 <= Double(Timestamp.latestNs) {
                arrival = Int64((s * 1e9).rounded())
            } else {
                return .malformed(reason: "arrival \"\(arrivalText)\" is neither an RFC 3339 time nor Unix seconds from \(Timestamp.validRangeText)")
            }
            guard let durationText = value[.duration_ms], let ms = Double(durationText), ms.isFinite, ms >= 0, ms <= StoredCall.maxMilliseconds else {
                return .malformed(reason: "duration_ms \"\(value[.duration_ms] ?? "")\" is not a number from 0 to \(StoredCall.maxMilliseconds)")
            }
            guard let method = value[.method] else { return .malformed(reason: "method is empty") }
            var operation = OperationType.of(method: method)
            if let text = value[.operation] {
                guard let op = OperationType(name: text) else {
                    return .malformed(reason: "operation \"\(text)\" is not accessor, mutator or maintenance")
                }
                operation = op
            }
            var cpu: Double?
            if let text = value[.cpu_ms] {
                guard let v = Double(text), v >= 0, v <= StoredCall.maxMilliseconds else {
                    return .malformed(reason: "cpu_ms \"\(text)\" is not a number from 0 to \(StoredCall.maxMilliseconds)")
                }
                cpu = v
            }
            let requestBytes: Int64?, responseBytes: Int64?, packBytes: Int64?
            do {
                requestBytes = try int(.request_bytes)
                responseBytes = try int(.response_bytes)
                packBytes = try int(.pack_bytes)
            } catch {
                return .malformed(reason: error.reason)
            }
            return .rpc(RPCRecord(
                arrivalNs: arrival, durationNs: Int64((ms * 1e6).rounded()),
                service: value[.service] ?? "", method: method, operation: operation,
                storage: value[.storage], repositoryPath: value[.repository], projectPath: value[.project],
                glRepository: value[.gl_repository], client: value[.client], code: value[.code] ?? "OK",
                requestBytes: requestBytes, responseBytes: responseBytes, packBytes: packBytes, cpuTimeMs: cpu,
                routeNode: value[.route_node],
                routeSecondaries: value[.route_secondaries].map { $0.split(separator: ";").joined(separator: ",") }))
        }
    }

    struct FieldError: Error, Equatable {
        var reason: String
    }

    /// Splits one CSV line into fields (RFC 4180 quoting); nil on an unterminated quote.
    static func split(_ line: UnsafeBufferPointer<UInt8>) -> [String]? {
        var fields: [String] = []
        var current: [UInt8] = []
        var i = 0
        var quoted = false
        var wasQuoted = false
        while i < line.count {
            let c = line[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < line.count && line[i + 1] == UInt8(ascii: "\"") {
                        current.append(c)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == UInt8(ascii: ",") {
                fields.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
                wasQuoted = false
            } else if c == UInt8(ascii: "\"") && current.isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
            } else {
                current.append(c)
            }
            i += 1
        }
        if quoted { return nil }
        fields.append(String(decoding: current, as: UTF8.self))
        return fields
    }

    /// One record as a CSV line in the column order of `header`.
    public static func render(_ r: RPCRecord) -> String {
        func q(_ s: String?) -> String {
            guard let s else { return "" }
            if s.contains(",") || s.contains("\"") || s.contains("\n") {
                return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
            }
            return s
        }
        func n<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "" }
        let ms = Double(r.durationNs) / 1e6
        let fields: [String] = [
            Timestamp.format(ns: r.arrivalNs), "\(ms)", q(r.service), q(r.method), r.operation.name, q(r.storage),
            q(r.repositoryPath), q(r.projectPath), q(r.glRepository), q(r.client), q(r.code), n(r.requestBytes),
            n(r.responseBytes), n(r.packBytes), n(r.cpuTimeMs), q(r.routeNode),
            q(r.routeSecondaries.map { $0.split(separator: ",").joined(separator: ";") }),
        ]
        return fields.joined(separator: ",")
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
