import GRDB
import SimKernel

/// Latency and volume of one method over the whole trace.
public struct MethodStatistics: Sendable, Equatable, Codable {
    public var service: String
    public var method: String
    public var operation: OperationType
    public var count: Int
    /// Calls per second over the trace's span (first to last arrival).
    public var ratePerSecond: Double
    public var latencyMsMean: Double
    public var latencyMsP50: Double
    public var latencyMsP90: Double
    public var latencyMsP99: Double
    public var latencyMsP999: Double
    public var latencyMsMax: Double
    /// Mean CPU time of the spawned git processes, over the calls that logged one.
    public var cpuMsMean: Double?
    /// Calls whose code was not OK.
    public var errors: Int
}

/// A name and how many calls it had.
public struct NamedCount: Sendable, Equatable, Codable {
    public var name: String
    public var count: Int
}

/// The summary `rehearse trace stats` prints.
public struct TraceStatistics: Sendable, Equatable, Codable {
    public var rpcs: Int
    public var firstArrivalNs: Int64
    public var lastArrivalNs: Int64
    public var spanSeconds: Double
    /// Sorted by count, most frequent first (ties by service and method name).
    public var methods: [MethodStatistics]
    /// Calls per operation type, in `OperationType` order.
    public var operations: [NamedCount]
    public var codes: [NamedCount]
    /// The busiest repositories (`storage:relative/path`) and storages.
    public var topRepositories: [NamedCount]
    public var storages: [NamedCount]
    /// Calls by hour of day, UTC (index 0 is 00:00–00:59).
    public var byHourOfDay: [Int]
    /// Calls by day of week, UTC (index 0 is Monday).
    public var byDayOfWeek: [Int]

    /// Reads the whole store once, streaming: memory grows with the number of methods, not rows.
    public static func compute(_ store: TraceStore, topCount: Int = 10) throws -> TraceStatistics {
        try store.translatingErrors { try store.queue.read { db in
            try StoredCall.checkAll(db)
            guard let bounds = try Row.fetchOne(db, sql: "SELECT COUNT(*), MIN(arrival_ns), MAX(arrival_ns) FROM rpc"),
                  let first = bounds[1] as Int64?, let last = bounds[2] as Int64? else {
                throw TraceStoreError.empty(path: store.path)
            }
            let total: Int = bounds[0]
            let span = max(Double(last - first) / 1e9, 1e-9)
            let methodRows = try Row.fetchAll(db, sql: "SELECT id, service, name, operation FROM method ORDER BY id")
            let maxId = methodRows.last.map { $0["id"] as Int } ?? 0
            var histograms = [Histogram](repeating: Histogram(subBuckets: 128), count: maxId + 1)
            var latency = [Tally](repeating: Tally(), count: maxId + 1)
            var cpu = [Tally](repeating: Tally(), count: maxId + 1)
            var errors = [Int](repeating: 0, count: maxId + 1)
            var hours = [Int](repeating: 0, count: 24)
            var days = [Int](repeating: 0, count: 7)
            let okId = try Int64.fetchOne(db, sql: "SELECT id FROM code WHERE name = 'OK'") ?? -1
            let rows = try Row.fetchCursor(db, sql: "SELECT method_id, duration_ns, arrival_ns, cpu_ms, code_id FROM rpc")
            while let row = try rows.next() {
                let m: Int = row[0]
                let ms = Double(row[1] as Int64) / 1e6
                histograms[m].add(ms)
                latency[m].add(ms)
                if let c = row[3] as Double? { cpu[m].add(c) }
                if (row[4] as Int64) != okId { errors[m] += 1 }
                let (hour, weekday) = Self.hourAndWeekday(ns: row[2])
                hours[hour] += 1
                days[weekday] += 1
            }
            var methods: [MethodStatistics] = []
            for r in methodRows {
                let id: Int = r["id"]
                let h = histograms[id]
                guard h.count > 0 else { continue }
                methods.append(MethodStatistics(
                    service: r["service"], method: r["name"],
                    operation: OperationType(rawValue: r["operation"]) ?? .unknown,
                    count: Int(h.count), ratePerSecond: Double(h.count) / span,
                    latencyMsMean: latency[id].mean,
                    latencyMsP50: h.quantile(0.5) ?? 0, latencyMsP90: h.quantile(0.9) ?? 0,
                    latencyMsP99: h.quantile(0.99) ?? 0, latencyMsP999: h.quantile(0.999) ?? 0,
                    latencyMsMax: h.max, cpuMsMean: cpu[id].count > 0 ? cpu[id].mean : nil, errors: errors[id]))
            }
            methods.sort { ($0.count, $1.service, $1.method) > ($1.count, $0.service, $0.method) }
            func counts(_ sql: String) throws -> [NamedCount] {
                try Row.fetchAll(db, sql: sql).map { NamedCount(name: $0[0] ?? "", count: $0[1]) }
            }
            var operations = try Row.fetchAll(db, sql: "SELECT operation, COUNT(*) FROM rpc GROUP BY operation ORDER BY operation")
                .map { NamedCount(name: (OperationType(rawValue: $0[0]) ?? .unknown).name, count: $0[1]) }
            operations.sort { (OperationType(name: $0.name) ?? .unknown) < (OperationType(name: $1.name) ?? .unknown) }
            return TraceStatistics(
                rpcs: total, firstArrivalNs: first, lastArrivalNs: last, spanSeconds: span,
                methods: methods,
                operations: operations,
                codes: try counts("SELECT c.name, COUNT(*) AS n FROM rpc r JOIN code c ON c.id = r.code_id GROUP BY c.id ORDER BY n DESC, c.name"),
                topRepositories: try counts("""
                    SELECT s.name || ':' || p.relative_path, COUNT(*) AS n FROM rpc r
                    JOIN repository p ON p.id = r.repository_id JOIN storage s ON s.id = p.storage_id
                    GROUP BY r.repository_id ORDER BY n DESC, s.name, p.relative_path LIMIT \(topCount)
                    """),
                storages: try counts("""
                    SELECT s.name, COUNT(*) AS n FROM rpc r JOIN storage s ON s.id = r.storage_id
                    GROUP BY r.storage_id ORDER BY n DESC, s.name LIMIT \(topCount)
                    """),
                byHourOfDay: hours, byDayOfWeek: days)
        } }
    }

    /// Hour of day (0–23) and weekday (0 = Monday) of an epoch-nanosecond time, in UTC.
    /// 1970-01-01 was a Thursday, weekday 3.
    @inlinable public static func hourAndWeekday(ns: Int64) -> (Int, Int) {
        let secs = ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000
        let day = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let sod = secs - day * 86_400
        let weekday = Int(((day % 7) + 7 + 3) % 7)
        return (Int(sod / 3600), weekday)
    }
}
