import Foundation
import GRDB
import SpecFiles

/// A run read back from a results database: enough to recompute its predictions, judge its
/// claims and draw its report without the files it came from.
public struct StoredRun: Sendable {
    public var id: Int64
    public var experiment: String
    public var experimentFile: String
    public var description: String
    public var seed: UInt64
    public var hours: Double
    public var threads: Int
    public var wallSeconds: Double
    public var claims: [Claim]
    public var metrics: [ReplicationMetrics]
    public var phases: [[PhaseTiming]]
    /// Series by replication index.
    public var series: [[SampleSeries]]
    public var inputs: [(role: String, path: String, sha256: String)]
    public var control: Bool
    /// A sweep's point: its parameters in the sweep's order (nil for a plain run).
    public var sweepPoint: [SweepValue]? = nil
    /// How the run's traffic was simulated (`Experiment.TrafficFidelity.description`), empty
    /// for a run without traffic.
    public var trafficFidelity: String = ""

    public var prediction: Prediction { Prediction(metrics, claims: claims, seed: seed) }
    public var events: Int { metrics.reduce(0) { $0 + $1.events } }
}

public enum ResultsStoreError: Error, CustomStringConvertible {
    case notAResultsDatabase(path: String, reason: String)
    case noRun(path: String, id: Int64?)
    case broken(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAResultsDatabase(let path, let reason): return "\(path): not a Rehearse results database: \(reason)"
        case .noRun(let path, let id): return id.map { "\(path): no run \($0)" } ?? "\(path): holds no run yet"
        case .broken(let path, let reason): return "\(path): \(reason)"
        }
    }
}

/// The results database (SQLite through GRDB, versioned migrations): each run with its exact
/// inputs (paths, SHA-256 and contents), every replication's metrics and phases, and each
/// replication's monitoring series. A run is written in one transaction: a crash while writing
/// leaves the database as it was. Nothing in it depends on the clock, so the same run gives
/// the same rows.
public enum ResultsStore {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY, experiment TEXT NOT NULL, experiment_file TEXT NOT NULL,
                    description TEXT NOT NULL, seed TEXT NOT NULL, hours REAL NOT NULL,
                    replications INTEGER NOT NULL, threads INTEGER NOT NULL, wall_seconds REAL NOT NULL,
                    claims TEXT NOT NULL, control INTEGER NOT NULL);
                CREATE TABLE input (
                    run_id INTEGER NOT NULL REFERENCES run(id), role TEXT NOT NULL, path TEXT NOT NULL,
                    sha256 TEXT NOT NULL, content BLOB NOT NULL, PRIMARY KEY (run_id, role));
                CREATE TABLE replication (
                    run_id INTEGER NOT NULL REFERENCES run(id), idx INTEGER NOT NULL,
                    duration_hours REAL NOT NULL, finished INTEGER NOT NULL,
                    write_unavailable_repository_seconds REAL NOT NULL, max_read_only_seconds REAL NOT NULL,
                    acknowledged_writes INTEGER NOT NULL, lost_writes INTEGER NOT NULL,
                    moves_finished INTEGER NOT NULL, moves_failed INTEGER NOT NULL,
                    repositories_left_read_only INTEGER NOT NULL, bytes_moved INTEGER NOT NULL,
                    peak_fill REAL NOT NULL, events INTEGER NOT NULL, phases TEXT NOT NULL,
                    PRIMARY KEY (run_id, idx));
                CREATE TABLE series (
                    run_id INTEGER NOT NULL REFERENCES run(id), replication INTEGER NOT NULL, name TEXT NOT NULL,
                    times BLOB NOT NULL, "values" BLOB NOT NULL, PRIMARY KEY (run_id, replication, name));
                """)
        }
        // Importance sampling: each replication's random faults and likelihood ratio, and the
        // run's sampling scale of fault rates.
        m.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN fault_rate_scale REAL NOT NULL DEFAULT 1;
                ALTER TABLE replication ADD COLUMN random_faults INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE replication ADD COLUMN likelihood_ratio REAL NOT NULL DEFAULT 1;
                """)
        }
        // Service levels: each replication's worst monitoring window.
        m.registerMigration("v3") { db in
            try db.execute(sql: """
                ALTER TABLE replication ADD COLUMN min_apdex REAL NOT NULL DEFAULT 1;
                ALTER TABLE replication ADD COLUMN max_error_ratio REAL NOT NULL DEFAULT 0;
                """)
        }
        // Releases: the nodes a rolling update left on a bad release. Sweeps: the points of one
        // sweep share `sweep_of` (its first point's run id) and each names its parameters.
        m.registerMigration("v4") { db in
            try db.execute(sql: """
                ALTER TABLE replication ADD COLUMN bad_release_nodes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE replication ADD COLUMN bad_release_peak INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE run ADD COLUMN sweep_of INTEGER;
                ALTER TABLE run ADD COLUMN sweep_point TEXT;
                """)
        }
        // Sharded sweeps: each point's place in its grid, and a shard's record of its share.
        m.registerMigration("v5") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN sweep_index INTEGER;
                CREATE TABLE shard (k INTEGER NOT NULL, n INTEGER NOT NULL, experiment_sha256 TEXT NOT NULL,
                    points INTEGER NOT NULL, replications INTEGER NOT NULL);
                """)
        }
        // Hybrid fidelity: how the run's traffic was simulated ('' without traffic).
        m.registerMigration("v6") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN traffic_fidelity TEXT NOT NULL DEFAULT ''")
        }
        return m
    }

    /// JSON cells with their keys sorted: a plain encoder writes a struct's keys in an order
    /// that changes from process to process, and the same run must give the same bytes.
    static let jsonEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// Opens (creating when asked) a results database; refuses another program's file.
    static func open(_ path: String, create: Bool) throws -> DatabaseQueue {
        guard path != ":memory:", !path.isEmpty else { throw ResultsStoreError.broken(path: path, reason: "give a file path for the results database") }
        let exists = FileManager.default.fileExists(atPath: path)
        guard exists || create else { throw ResultsStoreError.broken(path: path, reason: "no such results database") }
        var config = Configuration()
        config.label = "rehearse-results"
        config.readonly = !create
        config.busyMode = .timeout(60)
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: config) } catch let e as DatabaseError {
            throw ResultsStoreError.notAResultsDatabase(path: path, reason: e.message ?? "\(e.resultCode)")
        }
        do {
            // A newer Rehearse's schema: its rows may mean what this version cannot know.
            if try queue.read({ try migrator.hasBeenSuperseded($0) }) {
                let unknown = try queue.read { try Set(migrator.appliedIdentifiers($0)).subtracting(migrator.migrations).sorted() }
                throw ResultsStoreError.notAResultsDatabase(path: path, reason: "it was written by a newer Rehearse (schema \(unknown.joined(separator: ", "))); use that version")
            }
            let migrated = try queue.read { try migrator.hasCompletedMigrations($0) }
            // A database of an older schema is brought up to date when written to.
            let applied = try queue.read { try migrator.appliedMigrations($0) }
            let older = !migrated && !applied.isEmpty
            if older, create {
                try migrator.migrate(queue)
            } else if older {
                throw ResultsStoreError.notAResultsDatabase(path: path, reason: "it was written by an older Rehearse; run once with --db to bring it up to date")
            } else if !migrated {
                let blank = try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_master") ?? 0 } == 0
                guard create, blank else {
                    throw ResultsStoreError.notAResultsDatabase(path: path, reason: blank ? "it is empty" : "it lacks Rehearse's results tables; refusing to change it")
                }
                try migrator.migrate(queue)
            }
        } catch let e as DatabaseError {
            throw ResultsStoreError.notAResultsDatabase(path: path, reason: e.message ?? "\(e.resultCode)")
        }
        return queue
    }

    /// Stores a run with its inputs as it read them, and returns its id; with `sweep`, as a
    /// point of a sweep whose first point is run `of` (nil: this run is the first).
    @discardableResult
    public static func save(_ r: ExperimentResults, to path: String, sweep: (of: Int64?, point: [SweepValue], index: Int)? = nil) throws -> Int64 {
        let queue = try open(path, create: true)
        let e = r.experiment
        return try queue.write { db in
            try db.execute(sql: """
                INSERT INTO run (experiment, experiment_file, description, seed, hours, replications, threads, wall_seconds, claims, control, fault_rate_scale, traffic_fidelity)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [e.name, e.file, e.description, String(r.seed), r.hours, r.replications.count, r.threads, r.wallSeconds,
                                 e.claims.map(\.statement).joined(separator: "\n"), e.control, e.faultRateScale,
                                 e.trafficProfile == nil ? "" : e.trafficFidelity.description])
            let id = db.lastInsertedRowID
            if let sweep {
                let point = String(decoding: try jsonEncoder.encode(sweep.point), as: UTF8.self)
                try db.execute(sql: "UPDATE run SET sweep_of = ?, sweep_point = ?, sweep_index = ? WHERE id = ?", arguments: [sweep.of ?? id, point, sweep.index, id])
            }
            for input in r.inputs {
                try db.execute(sql: "INSERT INTO input (run_id, role, path, sha256, content) VALUES (?, ?, ?, ?, ?)",
                               arguments: [id, input.role, input.path, SHA256.hex([UInt8](input.content)), input.content])
            }
            for rep in r.replications {
                let m = rep.metrics
                let phases = String(decoding: try jsonEncoder.encode(rep.phases), as: UTF8.self)
                try db.execute(sql: """
                    INSERT INTO replication VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, rep.index, m.durationHours, m.finished, m.writeUnavailableRepositorySeconds, m.maxReadOnlySeconds,
                                     m.acknowledgedWrites, m.lostWrites, m.movesFinished, m.movesFailed, m.repositoriesLeftReadOnly,
                                     m.bytesMoved, m.peakFill, m.events, phases, m.randomFaults, m.likelihoodRatio,
                                     m.minApdex, m.maxErrorRatio, m.badReleaseNodes, m.badReleasePeak])
                for s in rep.series {
                    try db.execute(sql: "INSERT INTO series VALUES (?, ?, ?, ?, ?)",
                                   arguments: [id, rep.index, s.name, pack(s.timesSeconds), pack(s.values)])
                }
            }
            return id
        }
    }

    /// The runs in a database: id, experiment name, replications.
    public static func runs(path: String) throws -> [(id: Int64, experiment: String, replications: Int)] {
        let queue = try open(path, create: false)
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, experiment, replications FROM run ORDER BY id").map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Reads run `id`, or the latest run.
    public static func load(path: String, run id: Int64? = nil) throws -> StoredRun {
        let queue = try open(path, create: false)
        return try queue.read { db in
            let sql = "SELECT id, experiment, experiment_file, description, seed, hours, threads, wall_seconds, claims, control, sweep_point, traffic_fidelity FROM run "
                + (id == nil ? "ORDER BY id DESC LIMIT 1" : "WHERE id = ?")
            guard let row = try Row.fetchOne(db, sql: sql, arguments: id.map { [$0] } ?? []) else { throw ResultsStoreError.noRun(path: path, id: id) }
            let runID: Int64 = row[0]
            let file: String = row[2]
            let claimText: String = row[8]
            let claims = try claimText.split(separator: "\n").map { line in
                try Claim.parse(String(line)) { SpecError(file: path, line: nil, field: "run \(runID) claims", message: $0) }
            }
            guard let seed = UInt64(row[4] as String) else { throw ResultsStoreError.broken(path: path, reason: "run \(runID): seed is not a number") }
            var metrics: [ReplicationMetrics] = []
            var phases: [[PhaseTiming]] = []
            for r in try Row.fetchAll(db, sql: "SELECT * FROM replication WHERE run_id = ? ORDER BY idx", arguments: [runID]) {
                metrics.append(ReplicationMetrics(
                    durationHours: r["duration_hours"], finished: r["finished"], writeUnavailableRepositorySeconds: r["write_unavailable_repository_seconds"],
                    maxReadOnlySeconds: r["max_read_only_seconds"], acknowledgedWrites: r["acknowledged_writes"], lostWrites: r["lost_writes"],
                    movesFinished: r["moves_finished"], movesFailed: r["moves_failed"], repositoriesLeftReadOnly: r["repositories_left_read_only"],
                    bytesMoved: r["bytes_moved"], peakFill: r["peak_fill"], events: r["events"],
                    randomFaults: r["random_faults"], likelihoodRatio: r["likelihood_ratio"],
                    minApdex: r["min_apdex"], maxErrorRatio: r["max_error_ratio"], badReleaseNodes: r["bad_release_nodes"], badReleasePeak: r["bad_release_peak"]))
                phases.append((try? JSONDecoder().decode([PhaseTiming].self, from: Data((r["phases"] as String).utf8))) ?? [])
            }
            guard !metrics.isEmpty else { throw ResultsStoreError.broken(path: path, reason: "run \(runID) has no replication") }
            var series = [[SampleSeries]](repeating: [], count: metrics.count)
            for r in try Row.fetchAll(db, sql: "SELECT replication, name, times, \"values\" FROM series WHERE run_id = ? ORDER BY replication, rowid", arguments: [runID]) {
                let i: Int = r[0]
                guard i >= 0, i < series.count else { continue }
                series[i].append(SampleSeries(name: r[1], timesSeconds: unpack(r[2]), values: unpack(r[3])))
            }
            let inputs = try Row.fetchAll(db, sql: "SELECT role, path, sha256 FROM input WHERE run_id = ? ORDER BY rowid", arguments: [runID])
                .map { (role: $0[0] as String, path: $0[1] as String, sha256: $0[2] as String) }
            var point: [SweepValue]?
            if let text = row[10] as String? {
                guard let p = try? JSONDecoder().decode([SweepValue].self, from: Data(text.utf8)) else {
                    throw ResultsStoreError.broken(path: path, reason: "run \(runID): its sweep point is not readable")
                }
                point = p
            }
            return StoredRun(id: runID, experiment: row[1], experimentFile: file, description: row[3], seed: seed, hours: row[5], threads: row[6],
                             wallSeconds: row[7], claims: claims, metrics: metrics, phases: phases, series: series, inputs: inputs, control: row[9],
                             sweepPoint: point, trafficFidelity: row[11])
        }
    }

    /// The runs of a sweep, in the order they were stored: the sweep that run `id` belongs to,
    /// or the latest sweep.
    public static func loadSweep(path: String, containing id: Int64? = nil) throws -> [StoredRun] {
        let queue = try open(path, create: false)
        let ids: [Int64] = try queue.read { db in
            let first: Int64?
            if let id {
                guard let row = try Row.fetchOne(db, sql: "SELECT sweep_of FROM run WHERE id = ?", arguments: [id]) else { throw ResultsStoreError.noRun(path: path, id: id) }
                guard let of = row[0] as Int64? else { throw ResultsStoreError.broken(path: path, reason: "run \(id) is not a point of a sweep") }
                first = of
            } else {
                first = try Int64.fetchOne(db, sql: "SELECT MAX(sweep_of) FROM run")
            }
            guard let first else { throw ResultsStoreError.broken(path: path, reason: "no sweep stored; `rehearse sweep EXPERIMENT --db FILE` stores one") }
            return try Int64.fetchAll(db, sql: "SELECT id FROM run WHERE sweep_of = ? ORDER BY id", arguments: [first])
        }
        return try ids.map { try load(path: path, run: $0) }
    }

    /// Doubles as little-endian IEEE 754 bytes (exact, and compact for a few hundred points).
    static func pack(_ xs: [Double]) -> Data {
        var d = Data(capacity: xs.count * 8)
        for x in xs { withUnsafeBytes(of: x.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    static func unpack(_ d: Data) -> [Double] {
        let bytes = [UInt8](d)
        return stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).map { i in
            var bits: UInt64 = 0
            for j in 0..<8 { bits |= UInt64(bytes[i + j]) << (8 * UInt64(j)) }
            return Double(bitPattern: bits)
        }
    }
}
