import Foundation
import GRDB
import Migration

/// What a local migration moves: bare repositories in storage folders, with GitLab's metadata
/// kept in one SQLite file (WAL; the migration and the push workload share it): where each
/// repository lives, whether it is read-only, how many pushes are in flight (Rails' push
/// counter, a Redis key in GitLab), the moves with GitLab's states, and the storage weights.
/// Every change is one transaction, so a process killed at any point leaves a state GitLab
/// could be in.
public struct LocalGitLab: Sendable {
    public struct Storage: Sendable, Equatable {
        public var name: String
        public var directory: String
        public init(name: String, directory: String) {
            self.name = name
            self.directory = directory
        }
    }

    /// A repository found on disk: its storage, its path in the storage, its size, and the
    /// kind of container GitLab moves it as.
    public struct Repository: Sendable, Equatable {
        public var id: RepositoryID
        public var storage: String
        public var relativePath: String
        public var sizeBytes: Int64
        public var kind: RepositoryKind
        public init(id: RepositoryID, storage: String, relativePath: String, sizeBytes: Int64, kind: RepositoryKind = .project) {
            self.id = id
            self.storage = storage
            self.relativePath = relativePath
            self.sizeBytes = sizeBytes
            self.kind = kind
        }
    }

    /// A move as GitLab's API shows it.
    public struct Move: Sendable, Equatable {
        public var id: MoveID
        public var repository: RepositoryID
        public var source: String
        public var destination: String
        public var state: MoveState
        /// ISO 8601, UTC, milliseconds.
        public var createdAt: String
    }

    /// A move a worker carries out: where from and to, on disk.
    public struct MoveWork: Sendable, Equatable {
        public var id: MoveID
        public var repository: RepositoryID
        public var sourcePath: String
        public var destinationPath: String
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case exists(String)
        case noState(String)
        case broken(String, String)
        public var description: String {
            switch self {
            case .exists(let p): return "\(p): a local GitLab state is already there; remove it to start again"
            case .noState(let p): return "\(p): no local GitLab state; `rehearse inventory scan --storage NAME=DIR... --state \(p)` creates one"
            case .broken(let p, let why): return "\(p): \(why)"
            }
        }
    }

    public let path: String
    let queue: DatabaseQueue

    /// Creates the state for `storages` and their `repositories`; refuses an existing file.
    public static func create(path: String, storages: [Storage], repositories: [Repository]) throws -> LocalGitLab {
        guard !FileManager.default.fileExists(atPath: path) else { throw Failure.exists(path) }
        // Written under a temporary name and renamed: a crash leaves no half-made state.
        let temporary = path + ".creating"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            let q = try DatabaseQueue(path: temporary)
            try q.write { db in
                try db.execute(sql: """
                    CREATE TABLE storage (name TEXT PRIMARY KEY, directory TEXT NOT NULL, weight INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE repository (id INTEGER PRIMARY KEY, storage TEXT NOT NULL REFERENCES storage(name), relative_path TEXT NOT NULL,
                        size_bytes INTEGER NOT NULL, read_only INTEGER NOT NULL DEFAULT 0, pushes_in_flight INTEGER NOT NULL DEFAULT 0,
                        kind TEXT NOT NULL DEFAULT 'project');
                    CREATE INDEX repository_storage ON repository(storage, id);
                    CREATE TABLE move (id INTEGER PRIMARY KEY AUTOINCREMENT, repository INTEGER NOT NULL REFERENCES repository(id),
                        source TEXT NOT NULL, destination TEXT NOT NULL, state INTEGER NOT NULL, reason TEXT,
                        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
                    CREATE INDEX move_repository ON move(repository);
                    """)
                for s in storages { try db.execute(sql: "INSERT INTO storage (name, directory) VALUES (?, ?)", arguments: [s.name, s.directory]) }
                for r in repositories {
                    try db.execute(sql: "INSERT INTO repository (id, storage, relative_path, size_bytes, kind) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [r.id.value, r.storage, r.relativePath, r.sizeBytes, r.kind.rawValue])
                }
            }
            try q.close()
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        return try LocalGitLab(path: path)
    }

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure.noState(path) }
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.label = "local-gitlab"
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            try queue.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM move") }
        } catch {
            throw Failure.broken(path, "not a local GitLab state (\(error))")
        }
        self.path = path
    }

    public func storages() throws -> [Storage] {
        try queue.read { db in try Row.fetchAll(db, sql: "SELECT name, directory FROM storage ORDER BY name").map { Storage(name: $0[0], directory: $0[1]) } }
    }

    public func repositories() throws -> [Repository] {
        try queue.read { db in try Row.fetchAll(db, sql: "SELECT \(Self.repositoryColumns) FROM repository ORDER BY id").map(Self.repository) }
    }

    /// A page of the repositories of one kind, on `storage` when given, by id after `after`
    /// (keyset pagination, as `GET /projects?pagination=keyset&order_by=id` pages).
    public func repositories(kind: RepositoryKind, storage: String?, after: RepositoryID?, limit: Int) throws -> [Repository] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.repositoryColumns) FROM repository WHERE kind = ? AND (? IS NULL OR storage = ?) AND id > ? ORDER BY id LIMIT ?
                """, arguments: [kind.rawValue, storage, storage, after?.value ?? 0, limit]).map(Self.repository)
        }
    }

    public func repository(_ r: RepositoryID) throws -> Repository? {
        try queue.read { db in try Row.fetchOne(db, sql: "SELECT \(Self.repositoryColumns) FROM repository WHERE id = ?", arguments: [r.value]).map(Self.repository) }
    }

    static let repositoryColumns = "id, storage, relative_path, size_bytes, kind"
    static func repository(_ row: Row) -> Repository {
        Repository(id: RepositoryID(row[0]), storage: row[1], relativePath: row[2], sizeBytes: row[3], kind: RepositoryKind(rawValue: row[4]) ?? .project)
    }

    public func move(_ m: MoveID) throws -> Move? {
        try queue.read { db in try Row.fetchOne(db, sql: "SELECT \(Self.moveColumns) FROM move WHERE id = ?", arguments: [m.value]).map(Self.move) }
    }

    /// A repository's moves, the most recent first (as GitLab lists them).
    public func moves(of r: RepositoryID) throws -> [Move] {
        try queue.read { db in try Row.fetchAll(db, sql: "SELECT \(Self.moveColumns) FROM move WHERE repository = ? ORDER BY id DESC", arguments: [r.value]).map(Self.move) }
    }

    static let moveColumns = "id, repository, source, destination, state, created_at"
    static func move(_ row: Row) -> Move {
        Move(id: MoveID(row[0]), repository: RepositoryID(row[1]), source: row[2], destination: row[3], state: MoveState(rawValue: row[4]) ?? .failed, createdAt: row[5])
    }

    /// Every storage's weight (`repository_storages_weighted`).
    public func weights() throws -> [String: Int] {
        try queue.read { db in Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT name, weight FROM storage").map { ($0[0] as String, $0[1] as Int) }) }
    }

    /// Where the repository is now, on disk.
    public func location(of r: RepositoryID) throws -> (path: String, readOnly: Bool)? {
        try queue.read { db in
            try Row.fetchOne(db, sql: """
                SELECT s.directory, r.relative_path, r.read_only FROM repository r JOIN storage s ON s.name = r.storage WHERE r.id = ?
                """, arguments: [r.value]).map { ("\($0[0] as String)/\($0[1] as String)", $0[2]) }
        }
    }

    // MARK: GitLab's API, as the engine's actions use it

    public func lookUp(_ r: RepositoryID) throws -> RepositoryLookup? {
        try queue.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT storage, read_only FROM repository WHERE id = ?", arguments: [r.value]) else { return nil }
            let moves = try Row.fetchAll(db, sql: "SELECT id, state FROM move WHERE repository = ? ORDER BY id", arguments: [r.value]).map {
                ExistingMove(id: MoveID($0[0]), state: MoveState(rawValue: $0[1]) ?? .failed)
            }
            return RepositoryLookup(storage: StorageName(row[0] as String), readOnly: row[1], moves: moves)
        }
    }

    /// `POST /projects/:id/repository_storage_moves`: validation, then `schedule` (the
    /// repository turns read-only) in one transaction. Without a destination the weights pick:
    /// the highest weight other than the source (ties by name; GitLab draws at random).
    public func schedule(_ r: RepositoryID, destination: StorageName?) throws -> Result<MoveID, ScheduleRefusal> {
        try queue.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT storage, read_only FROM repository WHERE id = ?", arguments: [r.value]) else {
                return .failure(.rejected("404 Project Not Found"))
            }
            let source: String = row[0]
            if row[1] as Bool { return .failure(.repositoryReadOnly) }
            let target: String
            if let d = destination {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM storage WHERE name = ?", arguments: [d.name]) == true else {
                    return .failure(.rejected("400 destination_storage_name is not a storage: \(d.name)"))
                }
                target = d.name
            } else {
                guard let pick = try String.fetchOne(db, sql: "SELECT name FROM storage WHERE name != ? AND weight > 0 ORDER BY weight DESC, name LIMIT 1", arguments: [source]) else {
                    return .failure(.rejected("400 no storage with a weight to move to"))
                }
                target = pick
            }
            // A move onto the storage it is on is accepted; its worker copies nothing (GitLab
            // skips the copy when both storages share a filesystem, PRAEFECT.md §8).
            try db.execute(sql: "INSERT INTO move (repository, source, destination, state) VALUES (?, ?, ?, ?)",
                           arguments: [r.value, source, target, MoveState.scheduled.rawValue])
            let id = db.lastInsertedRowID
            try db.execute(sql: "UPDATE repository SET read_only = 1 WHERE id = ?", arguments: [r.value])
            return .success(MoveID(id))
        }
    }

    public func state(of m: MoveID) throws -> MoveState? {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT state FROM move WHERE id = ?", arguments: [m.value]).flatMap(MoveState.init(rawValue:)) }
    }

    /// The operator's `do_fail!`: initial, scheduled and started go to failed (only started
    /// sets the repository writable again, gitlab#385309), replicated to cleanup_failed.
    @discardableResult
    public func doFail(_ m: MoveID, reason: String = "failed by the operator") throws -> MoveState? {
        try queue.write { db in try Self.fail(db, m, reason: reason) }
    }

    static func fail(_ db: Database, _ m: MoveID, reason: String) throws -> MoveState? {
        guard let row = try Row.fetchOne(db, sql: "SELECT repository, state FROM move WHERE id = ?", arguments: [m.value]),
              let state = MoveState(rawValue: row[1]) else { return nil }
        let next: MoveState
        switch state {
        case .initial, .scheduled: next = .failed
        case .started:
            next = .failed
            try db.execute(sql: "UPDATE repository SET read_only = 0 WHERE id = ?", arguments: [row[0] as Int64])
        case .replicated: next = .cleanupFailed
        case .finished, .failed, .cleanupFailed: return state
        }
        try db.execute(sql: "UPDATE move SET state = ?, reason = ? WHERE id = ?", arguments: [next.rawValue, reason, m.value])
        return next
    }

    public func clearReadOnly(_ r: RepositoryID) throws -> Bool {
        try queue.write { db in
            try db.execute(sql: "UPDATE repository SET read_only = 0 WHERE id = ?", arguments: [r.value])
            return db.changesCount == 1
        }
    }

    /// `PUT /application/settings` with `repository_storages_weighted`: every storage it does
    /// not name keeps its weight. An unknown storage refuses the whole request.
    public func setWeights(_ weights: [Migration.StorageWeight]) throws -> String? {
        try queue.write { db in
            for w in weights where try Bool.fetchOne(db, sql: "SELECT 1 FROM storage WHERE name = ?", arguments: [w.storage.name]) != true {
                return "400 repository_storages_weighted: unknown storage \(w.storage.name)"
            }
            for w in weights { try db.execute(sql: "UPDATE storage SET weight = ? WHERE name = ?", arguments: [w.weight, w.storage.name]) }
            return nil
        }
    }

    // MARK: The move worker's steps (gitlab `update_repository_storage_methods.rb`)

    /// `start!`, only from `scheduled`: the work, or nil when the move was failed meanwhile.
    func start(_ m: MoveID) throws -> MoveWork? {
        try queue.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT m.repository, m.state, src.directory, dst.directory, r.relative_path FROM move m JOIN repository r ON r.id = m.repository
                JOIN storage src ON src.name = m.source JOIN storage dst ON dst.name = m.destination WHERE m.id = ?
                """, arguments: [m.value]), MoveState(rawValue: row[1]) == .scheduled else { return nil }
            try db.execute(sql: "UPDATE move SET state = ? WHERE id = ?", arguments: [MoveState.started.rawValue, m.value])
            let relative: String = row[4]
            return MoveWork(id: m, repository: RepositoryID(row[0]), sourcePath: "\(row[2] as String)/\(relative)", destinationPath: "\(row[3] as String)/\(relative)")
        }
    }

    func pushesInFlight(_ r: RepositoryID) throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT pushes_in_flight FROM repository WHERE id = ?", arguments: [r.value]) ?? 0 }
    }

    /// `finish_replication!`: writable again and on its destination, in one transaction;
    /// false when the move is no longer `started` (failed meanwhile).
    func finishReplication(_ m: MoveID) throws -> Bool {
        try queue.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT repository, destination, state FROM move WHERE id = ?", arguments: [m.value]),
                  MoveState(rawValue: row[2]) == .started else { return false }
            try db.execute(sql: "UPDATE repository SET storage = ?, read_only = 0 WHERE id = ?", arguments: [row[1] as String, row[0] as Int64])
            try db.execute(sql: "UPDATE move SET state = ? WHERE id = ?", arguments: [MoveState.replicated.rawValue, m.value])
            return true
        }
    }

    func finishCleanup(_ m: MoveID) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE move SET state = ? WHERE id = ? AND state = ?", arguments: [MoveState.finished.rawValue, m.value, MoveState.replicated.rawValue])
        }
    }

    /// Any exception in the worker calls `do_fail!`.
    func fail(_ m: MoveID, reason: String) throws {
        _ = try queue.write { db in try Self.fail(db, m, reason: reason) }
    }

    /// After the process that ran the workers died: a `started` move's worker is gone (its
    /// copy may be half made), so it is failed as `do_fail!` would, writable again; moves still
    /// `scheduled` are queued again, as Sidekiq keeps its queue; `replicated` ones still have
    /// their cleanup to do. Returns those two lists.
    func recover() throws -> (scheduled: [MoveID], replicated: [MoveID]) {
        try queue.write { db in
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM move WHERE state = ?", arguments: [MoveState.started.rawValue]) {
                _ = try Self.fail(db, MoveID(id), reason: "worker interrupted (the process running it stopped)")
            }
            let scheduled = try Int64.fetchAll(db, sql: "SELECT id FROM move WHERE state = ? ORDER BY id", arguments: [MoveState.scheduled.rawValue]).map(MoveID.init)
            let replicated = try Int64.fetchAll(db, sql: "SELECT id FROM move WHERE state = ? ORDER BY id", arguments: [MoveState.replicated.rawValue]).map(MoveID.init)
            return (scheduled, replicated)
        }
    }

    func repository(of m: MoveID) throws -> RepositoryID? {
        try queue.read { db in try Int64.fetchOne(db, sql: "SELECT repository FROM move WHERE id = ?", arguments: [m.value]).map(RepositoryID.init) }
    }

    /// The source folder of a replicated move, to remove.
    func sourcePath(of m: MoveID) throws -> String? {
        try queue.read { db in
            try Row.fetchOne(db, sql: """
                SELECT s.directory, r.relative_path FROM move m JOIN repository r ON r.id = m.repository JOIN storage s ON s.name = m.source WHERE m.id = ?
                """, arguments: [m.value]).map { "\($0[0] as String)/\($0[1] as String)" }
        }
    }

    // MARK: Pushes (the workload), against Rails' push counter

    /// Rails allows a push only to a writable repository and raises its push counter
    /// (gitlab `lib/gitlab/reference_counter.rb`): the repository's path, or nil when read-only.
    public func beginPush(_ r: RepositoryID) throws -> String? {
        try queue.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.directory, r.relative_path, r.read_only FROM repository r JOIN storage s ON s.name = r.storage WHERE r.id = ?
                """, arguments: [r.value]), !(row[2] as Bool) else { return nil }
            try db.execute(sql: "UPDATE repository SET pushes_in_flight = pushes_in_flight + 1 WHERE id = ?", arguments: [r.value])
            return "\(row[0] as String)/\(row[1] as String)"
        }
    }

    public func endPush(_ r: RepositoryID) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE repository SET pushes_in_flight = max(0, pushes_in_flight - 1) WHERE id = ?", arguments: [r.value])
        }
    }
}
