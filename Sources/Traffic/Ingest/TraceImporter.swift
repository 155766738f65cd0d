import SimKernel
import Foundation
import GRDB
import GRDBSQLite

/// A line that could not be read, for the first few the import reports.
public struct MalformedLine: Sendable, Equatable {
    public var source: String
    public var line: Int
    public var reason: String
}

/// What one import did. `rpcs` counts access lines read, `inserted` the new rows, `duplicates`
/// the access lines already in the store.
public struct ImportSummary: Sendable, Equatable {
    public var lines = 0
    public var rpcs = 0
    public var inserted = 0
    public var duplicates = 0
    public var skipped = 0
    public var malformed = 0
    public var firstArrivalNs: Int64?
    public var lastArrivalNs: Int64?
    /// The first `TraceImporter.malformedReportLimit` malformed lines.
    public var malformedExamples: [MalformedLine] = []
}

/// How an import treats malformed lines. By default a few junk lines in a real log (a line cut
/// by a rotation, a stray text line) are counted and reported, and the import goes on.
public struct ImportOptions: Sendable, Equatable {
    /// Refuse the whole import at the first malformed line.
    public var strict = false
    /// Refuse the whole import when more than this share (0–1) of the lines read are malformed.
    public var maxMalformedShare: Double?
    public init(strict: Bool = false, maxMalformedShare: Double? = nil) {
        self.strict = strict
        self.maxMalformedShare = maxMalformedShare
    }
}

/// Imports logs into a `TraceStore` in one transaction.
///
/// Duplicates: every row is keyed by its arrival and a 64-bit hash of its line's bytes, and a
/// line whose key is present is not inserted again. We key on content rather than on (file,
/// line number) because the same lines reach us under different names: logrotate renames
/// `current` to `current.1` and gzips it to `current.1.gz`, and standard input has no name at
/// all; a content key makes all of these one import. Two distinct access lines with identical
/// bytes cannot occur in practice (each carries its own end time and duration, to the
/// microsecond, and a correlation id), and two different lines collide only if they share the
/// arrival nanosecond and a 64-bit hash, a chance of about 2⁻⁶⁴ per pair of lines that arrive in
/// the same nanosecond.
///
/// Atomicity: everything happens inside one write transaction, so a missing file, a truncated
/// gzip stream or any other error rolls the database back to what it was before.
public struct TraceImporter {
    public static let malformedReportLimit = 5
    public let store: TraceStore
    public let options: ImportOptions

    public init(store: TraceStore, options: ImportOptions = ImportOptions()) {
        self.store = store
        self.options = options
    }

    /// Imports each input (`-` is standard input) in order.
    public func importFiles(_ paths: [String]) throws -> ImportSummary {
        try store.translatingErrors { try store.queue.write { db in
            var session = try ImportSession(db: db, options: options)
            for path in paths {
                try session.importInput(path)
            }
            try session.checkMalformedShare()
            try session.finish(sources: paths)
            return session.summary
        } }
    }

    /// Imports records that were built in memory (tests, generators) under a synthetic source
    /// name; each record's key is the hash of its CSV rendering.
    public func importRecords(_ records: [RPCRecord], source: String) throws -> ImportSummary {
        try store.translatingErrors { try store.queue.write { db in
            var session = try ImportSession(db: db, options: options)
            var names = ImportNames()
            for r in records {
                var batch = ParsedBatch()
                batch.lines = 1
                let text = TraceCSV.render(r)
                let hash = text.utf8.withContiguousStorageIfAvailable { LineHash.of($0) } ?? LineHash.of(Array(text.utf8))
                batch.rows.append(names.row(r, hash: hash, secondaries: &batch.secondaries))
                batch.names = names.takeAdded()
                try session.apply(batch, source: source)
            }
            try session.finish(sources: [source])
            return session.summary
        } }
    }
}

/// The state of one import transaction: the store's ids of the names seen, and the prepared
/// inserts.
struct ImportSession {
    let db: Database
    let options: ImportOptions
    var summary = ImportSummary()
    /// The first malformed line, for the message when too many are.
    var firstMalformed: MalformedLine?
    /// The store's names and their ids, loaded when the import starts and kept as it inserts.
    var methods: [MethodKey: (id: Int64, op: OperationType)] = [:]
    var storages: [String: Int64] = [:]
    var clients: [String: Int64] = [:]
    var codes: [String: Int64] = [:]
    var repositories: [RepositoryKey: Int64] = [:]
    /// The current input's local name ids (`ImportNames`) → the store's ids. A method is
    /// resolved when its first row arrives (0 until then), since a new method row takes that
    /// row's op type; `localMethodPending` holds its name meanwhile and `localMethodKnown` says
    /// whether its stored op type is known (then no row can change it).
    var localMethods: [Int64] = []
    var localMethodPending: [(service: String, name: String)] = []
    var localMethodKnown: [Bool] = []
    var localStorages: [Int64] = []
    var localRepositories: [Int64] = []
    var localClients: [Int64] = []
    var localCodes: [Int64] = []
    let insertRPC: Statement
    let insertMethod: Statement
    let insertStorage: Statement
    let insertClient: Statement
    let insertCode: Statement
    let insertRepository: Statement

    struct MethodKey: Hashable {
        var service: String
        var name: String
    }

    struct RepositoryKey: Hashable {
        var storage: Int64
        var path: String
    }

    /// One row per INSERT. Several rows per statement were measured and were slower: a
    /// statement that inserts several rows must be able to undo the earlier ones if a later one
    /// fails a NOT NULL constraint, so SQLite keeps a statement journal with a copy of every page
    /// it changes, spilled to a temporary file (138,000 `pwrite` calls for 500,000 lines, issue 4).
    static let rpcInsertSQL = """
        INSERT INTO rpc (line_hash, arrival_ns, duration_ns, method_id, operation, storage_id, repository_id,
            client_id, code_id, request_bytes, response_bytes, pack_bytes, cpu_ms, route_node_id, route_secondaries)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
        """

    init(db: Database, options: ImportOptions = ImportOptions()) throws {
        self.db = db
        self.options = options
        // An import inserts into the rpc B-tree and the name tables and holds every changed page
        // until it commits; with SQLite's default 2 MiB page cache those pages spill to disk and
        // are read back (Sources/Traffic/README.md, "Measurements"). 128 MiB keeps a day of a node's lines in
        // memory; replay and statistics, which read sequentially, keep the default.
        try db.execute(sql: "PRAGMA cache_size = -131072")
        for row in try Row.fetchAll(db, sql: "SELECT id, service, name, operation FROM method") {
            methods[MethodKey(service: row["service"], name: row["name"])] = (row["id"], OperationType(rawValue: row["operation"]) ?? .unknown)
        }
        for (table, _) in [("storage", 0), ("client", 1), ("code", 2)] {
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM \(table)") {
                switch table {
                case "storage": storages[row["name"]] = row["id"]
                case "client": clients[row["name"]] = row["id"]
                default: codes[row["name"]] = row["id"]
                }
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, storage_id, relative_path FROM repository") {
            repositories[RepositoryKey(storage: row["storage_id"], path: row["relative_path"])] = row["id"]
        }
        insertRPC = try db.makeStatement(sql: Self.rpcInsertSQL)
        insertMethod = try db.makeStatement(sql: "INSERT INTO method (service, name, operation) VALUES (?, ?, ?)")
        insertStorage = try db.makeStatement(sql: "INSERT INTO storage (name) VALUES (?)")
        insertClient = try db.makeStatement(sql: "INSERT INTO client (name) VALUES (?)")
        insertCode = try db.makeStatement(sql: "INSERT INTO code (name) VALUES (?)")
        insertRepository = try db.makeStatement(sql: "INSERT INTO repository (storage_id, relative_path, project_path, gl_repository) VALUES (?, ?, ?, ?)")
    }

    /// Reads one input on a second thread while this one writes: parsing a line and inserting
    /// it cost about the same, so the two overlap (Sources/Traffic/README.md, "Measurements"). The reader
    /// hands over batches through a channel of bounded capacity, so memory stays bounded.
    mutating func importInput(_ path: String) throws {
        let source = path == "-" ? "<stdin>" : path
        // Local ids are per input: the reader thread starts a new `ImportNames`.
        startInput()
        let channel = ParsedBatchChannel()
        let reader = Thread { LineParsing.produce(path: path, source: source, into: channel) }
        reader.start()
        // Whatever happens here, the reader is stopped and waited for before returning, so no
        // thread reads the input after the import has ended.
        defer { channel.cancelAndWait() }
        while let next = channel.take() {
            try apply(try next.get(), source: source)
        }
    }

    mutating func startInput() {
        localMethods.removeAll()
        localMethodPending.removeAll()
        localMethodKnown.removeAll()
        localStorages.removeAll()
        localRepositories.removeAll()
        localClients.removeAll()
        localCodes.removeAll()
    }

    /// Stores one batch: its new names first (its rows may use them), then its rows.
    mutating func apply(_ batch: ParsedBatch, source: String) throws {
        summary.lines += batch.lines
        summary.skipped += batch.skipped
        for name in batch.names { try resolve(name) }
        for m in batch.malformed {
            if options.strict { throw TraceInputError.malformedLine(path: source, line: m.line, reason: m.reason) }
            if firstMalformed == nil { firstMalformed = MalformedLine(source: source, line: m.line, reason: m.reason) }
            summary.malformed += 1
            if summary.malformedExamples.count < TraceImporter.malformedReportLimit {
                summary.malformedExamples.append(MalformedLine(source: source, line: m.line, reason: m.reason))
            }
        }
        for row in batch.rows { try insert(row, secondaries: batch.secondaries) }
    }

    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    /// Maps a name the reader saw first to the store's id, inserting its row when the store has
    /// none.
    mutating func resolve(_ name: ImportNames.Added) throws {
        switch name {
        case .method(let service, let method):
            localMethods.append(0)
            localMethodPending.append((service, method))
            localMethodKnown.append(false)
        case .storage(let text):
            localStorages.append(try intern(text, in: &storages, with: insertStorage))
        case .repository(let storage, let path, let project, let glRepository):
            let sid = localStorages[Int(storage)]
            let key = RepositoryKey(storage: sid, path: path)
            if let id = repositories[key] {
                localRepositories.append(id)
            } else {
                try insertRepository.execute(arguments: [sid, path, project, glRepository])
                let id = db.lastInsertedRowID
                repositories[key] = id
                localRepositories.append(id)
            }
        case .client(let text):
            localClients.append(try intern(text, in: &clients, with: insertClient))
        case .code(let text):
            localCodes.append(try intern(text, in: &codes, with: insertCode))
        }
    }

    mutating func insert(_ r: ImportRow, secondaries: [String]) throws {
        summary.rpcs += 1
        if summary.firstArrivalNs.map({ r.arrivalNs < $0 }) ?? true { summary.firstArrivalNs = r.arrivalNs }
        if summary.lastArrivalNs.map({ r.arrivalNs > $0 }) ?? true { summary.lastArrivalNs = r.arrivalNs }
        let local = Int(r.method)
        var methodId = localMethods[local]
        if methodId == 0 {
            methodId = try method(localMethodPending[local], operation: r.operation)
            localMethods[local] = methodId
        }
        if !localMethodKnown[local] && r.operation != .unknown {
            try upgrade(localMethodPending[local], operation: r.operation)
            localMethodKnown[local] = true
        }
        // The row is bound and stepped through SQLite's C API: GRDB's `execute(arguments:)`
        // boxes every argument into a `DatabaseValue` array and was an eighth of the import's
        // time. The statement is still GRDB's (prepared and finalised by it), run inside
        // GRDB's transaction.
        let s = insertRPC.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, r.hash)
        sqlite3_bind_int64(s, 2, r.arrivalNs)
        sqlite3_bind_int64(s, 3, r.durationNs)
        sqlite3_bind_int64(s, 4, methodId)
        sqlite3_bind_int64(s, 5, Int64(r.operation.rawValue))
        Self.bind(s, 6, r.storage < 0 ? nil : localStorages[Int(r.storage)])
        Self.bind(s, 7, r.repository < 0 ? nil : localRepositories[Int(r.repository)])
        Self.bind(s, 8, r.client < 0 ? nil : localClients[Int(r.client)])
        sqlite3_bind_int64(s, 9, localCodes[Int(r.code)])
        Self.bind(s, 10, r.requestBytes)
        Self.bind(s, 11, r.responseBytes)
        Self.bind(s, 12, r.packBytes)
        if let cpu = r.cpuTimeMs { sqlite3_bind_double(s, 13, cpu) } else { sqlite3_bind_null(s, 13) }
        Self.bind(s, 14, r.routeNode < 0 ? nil : localStorages[Int(r.routeNode)])
        if r.secondaries >= 0 {
            sqlite3_bind_text(s, 15, secondaries[Int(r.secondaries)], -1, Self.transient)
        } else {
            sqlite3_bind_null(s, 15)
        }
        let rc = sqlite3_step(s)
        guard rc == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        if sqlite3_changes(db.sqliteConnection) == 1 { summary.inserted += 1 } else { summary.duplicates += 1 }
    }

    /// SQLite copies a text argument bound with this destructor (sqlite3.h, SQLITE_TRANSIENT).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @inline(__always) static func bind(_ s: OpaquePointer, _ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(s, index, value) } else { sqlite3_bind_null(s, index) }
    }

    /// The store's id of a method, inserted with `operation` (the op type of its first row)
    /// when the store has none.
    mutating func method(_ name: (service: String, name: String), operation: OperationType) throws -> Int64 {
        let key = MethodKey(service: name.service, name: name.name)
        if let m = methods[key] { return m.id }
        try insertMethod.execute(arguments: [name.service, name.name, operation.rawValue])
        let id = db.lastInsertedRowID
        methods[key] = (id, operation)
        return id
    }

    /// The method row keeps the first known op type; an unknown one is upgraded when a later
    /// line names it.
    mutating func upgrade(_ name: (service: String, name: String), operation: OperationType) throws {
        let key = MethodKey(service: name.service, name: name.name)
        guard let m = methods[key], m.op == .unknown else { return }
        try db.execute(sql: "UPDATE method SET operation = ? WHERE id = ?", arguments: [operation.rawValue, m.id])
        methods[key] = (m.id, operation)
    }

    func intern(_ name: String, in table: inout [String: Int64], with statement: Statement) throws -> Int64 {
        if let id = table[name] { return id }
        try statement.execute(arguments: [name])
        let id = db.lastInsertedRowID
        table[name] = id
        return id
    }

    /// Refuses the import when malformed lines exceed `ImportOptions.maxMalformedShare`.
    func checkMalformedShare() throws {
        guard let limit = options.maxMalformedShare, let first = firstMalformed,
              Double(summary.malformed) > limit * Double(summary.lines) else { return }
        throw TraceInputError.tooManyMalformed(malformed: summary.malformed, lines: summary.lines, limit: limit,
                                               first: "\(first.source):\(first.line): \(first.reason)")
    }

    mutating func finish(sources: [String]) throws {
        if summary.inserted > 0 { try ReplayChunks.invalidate(db) }
        try db.execute(sql: """
            INSERT INTO import_run (sources, lines, rpcs, inserted, duplicates, skipped, malformed)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [sources.joined(separator: "\n"), summary.lines, summary.rpcs, summary.inserted,
                             summary.duplicates, summary.skipped, summary.malformed])
    }
}

enum TraceFormat {
    case json
    case csv
}

/// A 64-bit hash of a line's bytes, for duplicate detection: eight bytes at a time through a
/// multiply-xorshift step, finished with SplitMix64's finaliser so that every input bit reaches
/// every output bit. Stable across platforms and runs (never Swift's seeded `Hasher`).
enum LineHash {
    static func of<C: Collection>(_ bytes: C) -> Int64 where C.Element == UInt8 {
        if let h = bytes.withContiguousStorageIfAvailable({ of(buffer: $0) }) { return h }
        return Array(bytes).withUnsafeBufferPointer { of(buffer: $0) }
    }

    static func of(buffer b: UnsafeBufferPointer<UInt8>) -> Int64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        var i = 0
        let n = b.count
        let raw = UnsafeRawBufferPointer(b)
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(b[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        var sm = SplitMix64(state: h)
        return Int64(bitPattern: sm.next())
    }
}


/// A line the reader could not read, for the writer's summary.
struct MalformedItem: Sendable {
    var line: Int
    var reason: String
}

/// What the reader hands the writer for a run of lines (skipped lines are only counted).
struct ParsedBatch: Sendable {
    /// Names first seen in these lines, in the order seen (`ImportNames`).
    var names: [ImportNames.Added] = []
    var rows: [ImportRow] = []
    /// Praefect's `route.secondaries` of the rows that have them (`ImportRow.secondaries`).
    var secondaries: [String] = []
    var malformed: [MalformedItem] = []
    var lines = 0
    var skipped = 0

    init() {}

    /// A batch with room for `lines` rows, so that filling it never copies them.
    init(reserving lines: Int) {
        rows.reserveCapacity(lines)
    }
}

/// The reader thread's side of an import: lines to parsed batches.
enum LineParsing {
    static let batchSize = 2048

    /// Reads and parses `path`, putting batches into `channel`, then the end, with the reader's
    /// error if there was one. The input's format is decided by its first non-blank line: a CSV
    /// header makes it CSV, anything else JSON lines.
    static func produce(path: String, source: String, into channel: ParsedBatchChannel) {
        var batch = ParsedBatch(reserving: batchSize)
        var format: TraceFormat?
        var csv = TraceCSV.Header()
        var names = ImportNames()
        do {
            try LineReader(path: path).forEachLine { line, number in
                batch.lines += 1
                if format == nil && ImportSession.isBlank(line) {
                    batch.skipped += 1
                } else if format == nil, TraceCSV.Header.isIntended(line) {
                    switch TraceCSV.Header.read(line) {
                    case .success(let header): csv = header
                    case .failure(let e): throw TraceInputError.badCSVHeader(path: source, line: number, reason: e.reason)
                    }
                    format = .csv
                    batch.skipped += 1
                } else {
                    if format == nil { format = .json }
                    switch format! {
                    case .json:
                        if ImportSession.isBlank(line) {
                            batch.skipped += 1
                            break
                        }
                        switch GitalyLogParser.scan(line: line) {
                        case .access(let access):
                            batch.rows.append(names.row(access, line: line, hash: LineHash.of(buffer: line), secondaries: &batch.secondaries))
                        case .skipped: batch.skipped += 1
                        case .malformed(let reason): batch.malformed.append(MalformedItem(line: number, reason: reason))
                        }
                    case .csv:
                        switch csv.parse(line: line) {
                        case .rpc(let record):
                            batch.rows.append(names.row(record, hash: LineHash.of(buffer: line), secondaries: &batch.secondaries))
                        case .skipped: batch.skipped += 1
                        case .malformed(let reason): batch.malformed.append(MalformedItem(line: number, reason: reason))
                        }
                    }
                }
                if batch.lines >= batchSize {
                    batch.names = names.takeAdded()
                    guard channel.put(batch) else { throw ParsedBatchChannel.Cancelled() }
                    batch = ParsedBatch(reserving: batchSize)
                }
            }
            if batch.lines > 0 {
                batch.names = names.takeAdded()
                _ = channel.put(batch)
            }
            channel.finish(error: nil)
        } catch is ParsedBatchChannel.Cancelled {
            channel.finish(error: nil)
        } catch {
            channel.finish(error: error)
        }
    }
}

/// A bounded queue of parsed batches from the reader thread to the writer, with an end marker
/// that may carry the reader's error.
final class ParsedBatchChannel: @unchecked Sendable {
    struct Cancelled: Error {}
    /// Batches in flight at most: with 2,048 lines a batch, a few megabytes.
    static let capacity = 4
    // Every field below is read and written only with `condition` locked.
    private let condition = NSCondition()
    private var batches: [ParsedBatch] = []
    private var ended = false
    private var failure: Error?
    private var cancelled = false

    /// Blocks while the queue is full; false when the writer has cancelled.
    func put(_ batch: ParsedBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= Self.capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    func finish(error: Error?) {
        condition.lock()
        ended = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, the reader's error, or nil at the end of the input.
    func take() -> Result<ParsedBatch, Error>? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !ended { condition.wait() }
        if !batches.isEmpty {
            condition.broadcast()
            return .success(batches.removeFirst())
        }
        if let failure { return .failure(failure) }
        return nil
    }

    /// Stops the reader (if it is still running) and waits until it has ended.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !ended { condition.wait() }
        condition.unlock()
    }
}
