#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB

/// Why the trace database could not be used.
public enum TraceStoreError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notATraceDatabase(path: String, reason: String)
    case empty(path: String)
    /// SQLite failed while reading or writing the store.
    case database(path: String, message: String)
    /// A stored call a reader cannot use (a store written by another program).
    case invalidCall(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open the trace database: \(reason)"
        case .notATraceDatabase(let path, let reason): "\(path): not a Rehearse trace database: \(reason)"
        case .empty(let path): "\(path): the trace database holds no RPCs (import a log first)"
        case .database(let path, let message): "\(path): \(message)"
        case .invalidCall(let path, let reason): "\(path): not a trace Rehearse can read: \(reason)"
        }
    }
}

/// The trace store: one SQLite file holding imported RPCs, names interned to integer ids so that
/// replay reads only integers (STYLE.md, "Hot paths").
///
/// Schema (migration `v1`, never changed once shipped; later changes get new migrations):
/// - `method(id, service, name, operation)`, `storage(id, name)`, `client(id, name)`,
///   `code(id, name)`: interned names.
/// - `repository(id, storage_id, relative_path, project_path, gl_repository)`: one row per
///   (storage, relative path).
/// - `rpc(arrival_ns, line_hash, duration_ns, method_id, operation, storage_id, repository_id,
///   client_id, code_id, request_bytes, response_bytes, pack_bytes, cpu_ms, route_node_id,
///   route_secondaries)`, a WITHOUT ROWID table clustered on its primary key
///   (arrival_ns, line_hash). The key makes a second import of the same lines a no-op (a line's
///   arrival is a function of its bytes, so the pair is as unique as the hash; see
///   `TraceImporter`), and the clustering stores rows in arrival order: replay is a sequential
///   scan and an import of a log, written nearly in arrival order, appends. One B-tree instead of
///   a rowid table plus two indexes made inserts five times cheaper (Sources/Traffic/README.md, "Measurements").
/// - `replay_chunk(id, first_arrival_ns, last_arrival_ns, row_count, data)`: packed copies of the
///   rows for replay, in arrival order (a cache, see `ReplayChunks`).
/// - `import_run(id, sources, lines, rpcs, inserted, duplicates, skipped, malformed)`: one row per
///   import, as an audit trail.
public struct TraceStore {
    public let path: String
    public let queue: DatabaseQueue

    /// Refuses the paths SQLite reads as a database that vanishes when the command ends ("" and
    /// ":memory:"): an import into one would report success and keep nothing.
    public static func checkPath(_ path: String) throws {
        guard !path.isEmpty, path != ":memory:" else {
            throw TraceStoreError.cannotOpen(path: path.isEmpty ? "''" : path, reason: "a trace database must be a file (SQLite keeps this one in memory only)")
        }
    }

    /// What a command does with the store.
    public enum Access: Sendable {
        /// Import: created when missing; an existing file must be empty or a trace store.
        case create
        /// Replay: an existing trace store, written to only for its replay cache.
        case readWrite
        /// Statistics and fits: an existing trace store, never written.
        case readOnly
    }

    /// Opens the store: `create` true is `.create`, false is `.readWrite`.
    public init(path: String, create: Bool = true) throws {
        try self.init(path: path, access: create ? .create : .readWrite)
    }

    /// Opens the store. Nothing is written to a file that is not already a trace store, except
    /// a new or empty file opened with `.create`, which gets the schema.
    public init(path: String, access: Access) throws {
        self.path = path
        try Self.checkPath(path)
        var st = stat()
        let exists = stat(path, &st) == 0
        if access != .create {
            guard exists else { throw TraceStoreError.cannotOpen(path: path, reason: "no such file") }
        }
        var config = Configuration()
        config.label = "rehearse-traces"
        config.readonly = access == .readOnly
        // A second import of the same store waits for the first to commit instead of failing at
        // once (ASSUMED: a minute covers an import of a day of one node's log, Measurements).
        config.busyMode = .timeout(60)
        // The REFERENCES clauses document the schema; enforcing them would make SQLite look up
        // five parent rows per inserted call, which was a third of an import's time. The importer
        // inserts a call only with ids it has just interned, in the same transaction.
        config.foreignKeysEnabled = false
        // 64 KiB pages for a new store (SQLite ignores the setting once the file has a page, so
        // existing stores keep theirs): an import writes every page it fills at commit, one
        // `pwrite` each, and a replay chunk (256 KiB) is read as a chain of overflow pages; with
        // the default 4 KiB both were a system call per 4 KiB (issue 4).
        if access == .create { config.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = 65536") } }
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch let error as DatabaseError {
            throw TraceStoreError.cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        }
        do {
            let isStore = try queue.read { try Self.migrator.hasCompletedMigrations($0) }
            let isBlank = !exists || st.st_size == 0
            if !isStore {
                guard access == .create, isBlank else {
                    throw TraceStoreError.notATraceDatabase(path: path, reason: isBlank ? "the file is empty (import a log first)" : "it lacks Rehearse's tables; refusing to change it")
                }
                try Self.migrator.migrate(queue)
            }
        } catch let error as DatabaseError {
            throw TraceStoreError.notATraceDatabase(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE method (
                    id INTEGER PRIMARY KEY, service TEXT NOT NULL, name TEXT NOT NULL,
                    operation INTEGER NOT NULL, UNIQUE(service, name));
                CREATE TABLE storage (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                CREATE TABLE client (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                CREATE TABLE code (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                CREATE TABLE repository (
                    id INTEGER PRIMARY KEY, storage_id INTEGER NOT NULL REFERENCES storage(id),
                    relative_path TEXT NOT NULL, project_path TEXT, gl_repository TEXT,
                    UNIQUE(storage_id, relative_path));
                CREATE TABLE rpc (
                    arrival_ns INTEGER NOT NULL,
                    line_hash INTEGER NOT NULL,
                    duration_ns INTEGER NOT NULL,
                    method_id INTEGER NOT NULL REFERENCES method(id),
                    operation INTEGER NOT NULL,
                    storage_id INTEGER REFERENCES storage(id),
                    repository_id INTEGER REFERENCES repository(id),
                    client_id INTEGER REFERENCES client(id),
                    code_id INTEGER NOT NULL REFERENCES code(id),
                    request_bytes INTEGER, response_bytes INTEGER, pack_bytes INTEGER, cpu_ms REAL,
                    route_node_id INTEGER REFERENCES storage(id), route_secondaries TEXT,
                    PRIMARY KEY (arrival_ns, line_hash)) WITHOUT ROWID;
                CREATE TABLE replay_chunk (
                    id INTEGER PRIMARY KEY, first_arrival_ns INTEGER NOT NULL,
                    last_arrival_ns INTEGER NOT NULL, row_count INTEGER NOT NULL, data BLOB NOT NULL);
                CREATE TABLE import_run (
                    id INTEGER PRIMARY KEY, sources TEXT NOT NULL, lines INTEGER NOT NULL,
                    rpcs INTEGER NOT NULL, inserted INTEGER NOT NULL, duplicates INTEGER NOT NULL,
                    skipped INTEGER NOT NULL, malformed INTEGER NOT NULL);
                """)
        }
        return m
    }

    /// Names of an interned table, indexed by id (ids start at 1; index 0 is unused).
    static func names(_ db: Database, table: String) throws -> [String] {
        let rows = try Row.fetchAll(db, sql: "SELECT id, name FROM \(table) ORDER BY id")
        var out = [String](repeating: "", count: (rows.last.map { $0["id"] as Int } ?? 0) + 1)
        for r in rows { out[r["id"] as Int] = r["name"] }
        return out
    }

    /// Runs `body`, turning SQLite's errors into `TraceStoreError.database` naming this store.
    func translatingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_READONLY {
            // SQLITE_READONLY_DBMOVED among others: the file was replaced or removed under us.
            throw TraceStoreError.database(path: path, message: "cannot write the trace database: it is read-only, or was removed or replaced while in use (\(error.message ?? "SQLite error \(error.resultCode)"))")
        } catch let error as DatabaseError {
            throw TraceStoreError.database(path: path, message: error.message ?? "SQLite error \(error.resultCode)")
        } catch let error as StoredCall.Invalid {
            throw TraceStoreError.invalidCall(path: path, reason: error.reason)
        }
    }

    public func rpcCount() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rpc") ?? 0 }
    }
}
