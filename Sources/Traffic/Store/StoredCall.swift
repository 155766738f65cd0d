import GRDB

/// The ranges the importer writes, checked again on every call read back: a store may have been
/// written by another program (or by hand with `sqlite3`), and a reader must turn what it cannot
/// use into an error naming the store, never into a trap in an integer conversion.
enum StoredCall {
    /// 10¹² ms (about 31 years), the importer's bound on a call's duration and CPU time.
    static let maxMilliseconds = 1e12
    static let maxDurationNs: Int64 = 1_000_000_000_000_000_000

    /// A stored call outside these ranges; `TraceStore.translatingErrors` names the store.
    struct Invalid: Error {
        var reason: String
    }

    /// Checks what a reader converts from one stored call. `methodCount` is one past the
    /// highest method id (ids start at 1).
    @inline(__always)
    static func check(arrivalNs: Int64, durationNs: Int64, methodId: Int64, methodCount: Int,
                      requestBytes: Int64, responseBytes: Int64, packBytes: Int64) throws(Invalid) {
        guard Timestamp.validNs.contains(arrivalNs) else {
            throw Invalid(reason: "a call arrives at \(arrivalNs) ns, outside \(Timestamp.validRangeText)")
        }
        guard durationNs >= 0 && durationNs <= maxDurationNs else {
            throw Invalid(reason: "a call at \(Timestamp.format(ns: arrivalNs)) lasts \(durationNs) ns, outside 0 to \(maxDurationNs)")
        }
        guard methodId >= 1 && methodId < Int64(methodCount) else {
            throw Invalid(reason: "a call at \(Timestamp.format(ns: arrivalNs)) names method id \(methodId), which the method table lacks")
        }
        guard requestBytes >= 0 && responseBytes >= 0 && packBytes >= 0 else {
            throw Invalid(reason: "a call at \(Timestamp.format(ns: arrivalNs)) has a negative byte count")
        }
    }

    /// Throws for the first stored call outside the importer's ranges, found by one scan in
    /// SQL: for readers that aggregate the whole store (statistics, fits), where a value out of
    /// range would trap in a histogram or an index rather than in a conversion checked per row.
    static func checkAll(_ db: Database) throws {
        let sql = """
            SELECT arrival_ns, duration_ns, cpu_ms, method_id, request_bytes, response_bytes, pack_bytes FROM rpc
            WHERE arrival_ns NOT BETWEEN \(Timestamp.earliestNs) AND \(Timestamp.latestNs)
               OR duration_ns NOT BETWEEN 0 AND \(maxDurationNs)
               OR (cpu_ms IS NOT NULL AND (cpu_ms NOT BETWEEN 0 AND \(maxMilliseconds) OR cpu_ms != cpu_ms))
               OR method_id NOT IN (SELECT id FROM method)
               OR request_bytes < 0 OR response_bytes < 0 OR pack_bytes < 0
            LIMIT 1
            """
        guard let row = try Row.fetchOne(db, sql: sql) else { return }
        let arrival: Int64 = row[0], duration: Int64 = row[1], cpu: Double? = row[2], method: Int64 = row[3]
        let bytes: [Int64] = [row[4] ?? 0, row[5] ?? 0, row[6] ?? 0]
        try check(arrivalNs: arrival, durationNs: duration, methodId: method, methodCount: .max,
                  requestBytes: bytes[0], responseBytes: bytes[1], packBytes: bytes[2])
        _ = try cpuNs(cpu ?? 0, arrivalNs: arrival)
        // Left: an id inside the method table's range that it does not hold.
        throw Invalid(reason: "a call at \(Timestamp.format(ns: arrival)) names method id \(method), which the method table lacks")
    }

    /// CPU nanoseconds of a stored `cpu_ms` (NULL reads as 0).
    @inline(__always)
    static func cpuNs(_ ms: Double, arrivalNs: Int64) throws(Invalid) -> Int64 {
        guard ms >= 0 && ms <= maxMilliseconds else {  // false for NaN too
            throw Invalid(reason: "a call at \(Timestamp.format(ns: arrivalNs)) has cpu_ms \(ms), outside 0 to \(maxMilliseconds)")
        }
        return Int64((ms * 1e6).rounded())
    }
}
