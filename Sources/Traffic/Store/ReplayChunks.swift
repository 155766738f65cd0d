import GRDB
import GRDBSQLite

/// Packed copies of the stored calls, 4,096 to a blob in arrival order, that replay reads instead
/// of the `rpc` table.
///
/// Why: reading the `rpc` table row by row costs SQLite a virtual-machine step and eleven column
/// decodes per call, which held replay to about 1.5 million calls a second; a chunk is one step
/// and one memory copy for 4,096 calls (Sources/Traffic/README.md, "Measurements"). The chunks are
/// a cache: every import that adds a row deletes them, and the next replay rebuilds them in one
/// sequential pass.
///
/// A packed call is 64 bytes, little-endian: arrival, duration, CPU (ns), request, response and
/// pack bytes (Int64 each), method id, storage id, repository id (Int32 each; 0 for none), the
/// operation type (one byte), three bytes of padding.
enum ReplayChunks {
    static let rowsPerChunk = 4096
    static let rowBytes = 64

    struct PackedCall {
        var arrivalNs: Int64
        var durationNs: Int64
        var cpuNs: Int64
        var requestBytes: Int64
        var responseBytes: Int64
        var packBytes: Int64
        var methodId: Int32
        var storageId: Int32
        var repositoryId: Int32
        var operation: UInt8
    }

    static func invalidate(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM replay_chunk")
    }

    /// Builds the chunks unless they exist (or there is nothing to pack).
    static func ensure(_ db: Database) throws {
        let haveChunks = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM replay_chunk)") ?? false
        let haveRows = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM rpc)") ?? false
        guard !haveChunks && haveRows else { return }
        let select = try db.makeStatement(sql: """
            SELECT arrival_ns, duration_ns, cpu_ms, request_bytes, response_bytes, pack_bytes, method_id,
                   storage_id, repository_id, operation
            FROM rpc ORDER BY arrival_ns, line_hash
            """)
        let insert = try db.makeStatement(sql: """
            INSERT INTO replay_chunk (first_arrival_ns, last_arrival_ns, row_count, data) VALUES (?, ?, ?, ?)
            """)
        let methodCount = (try Int.fetchOne(db, sql: "SELECT MAX(id) FROM method") ?? 0) + 1
        var data = [UInt8](repeating: 0, count: rowsPerChunk * rowBytes)
        var count = 0
        var first: Int64 = 0, last: Int64 = 0
        func flush() throws {
            guard count > 0 else { return }
            let s = insert.sqliteStatement
            sqlite3_reset(s)
            sqlite3_bind_int64(s, 1, first)
            sqlite3_bind_int64(s, 2, last)
            sqlite3_bind_int64(s, 3, Int64(count))
            let rc = data.withUnsafeBytes { sqlite3_bind_blob(s, 4, $0.baseAddress, Int32(count * rowBytes), ImportSession.transient) }
            guard rc == SQLITE_OK, sqlite3_step(s) == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: sqlite3_errcode(db.sqliteConnection)),
                                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            count = 0
        }
        let s = select.sqliteStatement
        sqlite3_reset(s)
        defer { sqlite3_reset(s) }
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            let arrivalNs = sqlite3_column_int64(s, 0)
            let call = PackedCall(
                arrivalNs: arrivalNs, durationNs: sqlite3_column_int64(s, 1),
                cpuNs: try StoredCall.cpuNs(sqlite3_column_double(s, 2), arrivalNs: arrivalNs),
                requestBytes: sqlite3_column_int64(s, 3), responseBytes: sqlite3_column_int64(s, 4),
                packBytes: sqlite3_column_int64(s, 5),
                methodId: Int32(truncatingIfNeeded: sqlite3_column_int64(s, 6)),
                storageId: Int32(truncatingIfNeeded: sqlite3_column_int64(s, 7)),
                repositoryId: Int32(truncatingIfNeeded: sqlite3_column_int64(s, 8)),
                operation: UInt8(truncatingIfNeeded: sqlite3_column_int64(s, 9)))
            try StoredCall.check(arrivalNs: call.arrivalNs, durationNs: call.durationNs, methodId: Int64(call.methodId),
                                 methodCount: methodCount, requestBytes: call.requestBytes,
                                 responseBytes: call.responseBytes, packBytes: call.packBytes)
            if count == 0 { first = call.arrivalNs }
            last = call.arrivalNs
            data.withUnsafeMutableBytes { store(call, into: $0, at: count) }
            count += 1
            if count == rowsPerChunk { try flush() }
        }
        try flush()
    }

    @inline(__always) static func store(_ c: PackedCall, into b: UnsafeMutableRawBufferPointer, at index: Int) {
        let o = index * rowBytes
        b.storeBytes(of: c.arrivalNs.littleEndian, toByteOffset: o, as: Int64.self)
        b.storeBytes(of: c.durationNs.littleEndian, toByteOffset: o + 8, as: Int64.self)
        b.storeBytes(of: c.cpuNs.littleEndian, toByteOffset: o + 16, as: Int64.self)
        b.storeBytes(of: c.requestBytes.littleEndian, toByteOffset: o + 24, as: Int64.self)
        b.storeBytes(of: c.responseBytes.littleEndian, toByteOffset: o + 32, as: Int64.self)
        b.storeBytes(of: c.packBytes.littleEndian, toByteOffset: o + 40, as: Int64.self)
        b.storeBytes(of: c.methodId.littleEndian, toByteOffset: o + 48, as: Int32.self)
        b.storeBytes(of: c.storageId.littleEndian, toByteOffset: o + 52, as: Int32.self)
        b.storeBytes(of: c.repositoryId.littleEndian, toByteOffset: o + 56, as: Int32.self)
        b.storeBytes(of: c.operation, toByteOffset: o + 60, as: UInt8.self)
    }

    @inline(__always) static func load(_ b: UnsafeRawBufferPointer, at index: Int) -> PackedCall {
        let o = index * rowBytes
        return PackedCall(
            arrivalNs: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o, as: Int64.self)),
            durationNs: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o + 8, as: Int64.self)),
            cpuNs: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o + 16, as: Int64.self)),
            requestBytes: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o + 24, as: Int64.self)),
            responseBytes: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o + 32, as: Int64.self)),
            packBytes: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o + 40, as: Int64.self)),
            methodId: Int32(littleEndian: b.loadUnaligned(fromByteOffset: o + 48, as: Int32.self)),
            storageId: Int32(littleEndian: b.loadUnaligned(fromByteOffset: o + 52, as: Int32.self)),
            repositoryId: Int32(littleEndian: b.loadUnaligned(fromByteOffset: o + 56, as: Int32.self)),
            operation: b.load(fromByteOffset: o + 60, as: UInt8.self))
    }
}
