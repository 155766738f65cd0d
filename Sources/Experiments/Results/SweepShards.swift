import Foundation
import GRDB

/// One machine's share of a sweep (`rehearse sweep --shard K/N`): the (point, replication)
/// pairs numbered g = point · R + replication (R replications per point) with g mod N = K − 1.
/// Dealing the pairs round-robin spreads every point over the shards, so shards take nearly
/// equal work whatever the grid; K counts from 1, as GitLab CI's `CI_NODE_INDEX` does.
public struct SweepShard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int
    /// Shards at most (ASSUMED: a sweep over more machines than this is a different tool's job).
    public static let maxCount = 10_000

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), (1...Self.maxCount).contains(n), (1...n).contains(k) else { return nil }
        index = k
        count = n
    }

    public var description: String { "\(index)/\(count)" }

    /// The replications of point `point` this shard runs, in order.
    public func replications(ofPoint point: Int, perPoint r: Int) -> [Int] {
        (0..<r).filter { (point * r + $0) % count == index - 1 }
    }
}

/// What a shard's database says of the sweep it holds a share of, so that a merge can check
/// that its shards belong together and that none is missing or given twice.
public struct ShardRecord: Sendable, Equatable {
    public var shard: SweepShard
    /// SHA-256 of the experiment file: shards of different experiments never merge.
    public var experimentSHA256: String
    public var points: Int
    public var replicationsPerPoint: Int
    public init(shard: SweepShard, experimentSHA256: String, points: Int, replicationsPerPoint: Int) {
        self.shard = shard
        self.experimentSHA256 = experimentSHA256
        self.points = points
        self.replicationsPerPoint = replicationsPerPoint
    }
}

public enum MergeError: Error, Equatable, CustomStringConvertible {
    case notAShard(String)
    case givenTwice(shard: String, first: String, second: String)
    case missing(shards: [String], of: Int)
    case mismatched(String, String, what: String)
    case incomplete(point: Int, missing: [Int])
    case outputExists(String)

    public var description: String {
        switch self {
        case .notAShard(let path): "\(path): not a shard of a sweep (run `rehearse sweep --shard K/N --db` to make one)"
        case .givenTwice(let shard, let first, let second): "shard \(shard) is given twice: \(first) and \(second)"
        case .missing(let shards, let n): "shard\(shards.count > 1 ? "s" : "") \(shards.joined(separator: ", ")) of \(n) missing"
        case .mismatched(let a, let b, let what): "\(a) and \(b) are shards of different sweeps (\(what) differ)"
        case .incomplete(let point, let missing): "point \(point + 1) lacks replications \(missing.map(String.init).joined(separator: ", "))"
        case .outputExists(let path): "\(path): already exists; merge writes a new results database"
        }
    }
}

extension ResultsStore {
    /// The shard record of a shard's database, or nil for a database that is no shard.
    public static func shardRecord(path: String) throws -> ShardRecord? {
        let queue = try open(path, create: false)
        return try queue.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT k, n, experiment_sha256, points, replications FROM shard") else { return nil }
            guard let shard = SweepShard("\(row[0] as Int)/\(row[1] as Int)") else { return nil }
            return ShardRecord(shard: shard, experimentSHA256: row[2], points: row[3], replicationsPerPoint: row[4])
        }
    }

    /// Marks a results database as a shard's (once, before its first run is saved).
    public static func markShard(_ record: ShardRecord, path: String) throws {
        let queue = try open(path, create: true)
        try queue.write { db in
            try db.execute(sql: "DELETE FROM shard")
            try db.execute(sql: "INSERT INTO shard (k, n, experiment_sha256, points, replications) VALUES (?, ?, ?, ?, ?)",
                           arguments: [record.shard.index, record.shard.count, record.experimentSHA256, record.points, record.replicationsPerPoint])
        }
    }

    /// Joins the shards of one sweep into a new results database: for each point, in grid
    /// order, one run holding every replication, in index order, with the rows the shards
    /// wrote (numbers and series copied as stored, bit for bit). A run's `wall_seconds` is the
    /// sum of its shards' and `threads` their total. Checks first, writes nothing on a refusal:
    /// every shard K of N exactly once, all of the same experiment file and grid, every
    /// replication of every point present.
    public static func merge(shards paths: [String], into output: String) throws -> [Int64] {
        guard !FileManager.default.fileExists(atPath: output) else { throw MergeError.outputExists(output) }
        var records: [(path: String, record: ShardRecord)] = []
        for p in paths {
            guard let r = try shardRecord(path: p) else { throw MergeError.notAShard(p) }
            if let first = records.first {
                if first.record.shard.count != r.shard.count { throw MergeError.mismatched(first.path, p, what: "shard counts") }
                if first.record.experimentSHA256 != r.experimentSHA256 { throw MergeError.mismatched(first.path, p, what: "experiment files") }
                if first.record.points != r.points || first.record.replicationsPerPoint != r.replicationsPerPoint {
                    throw MergeError.mismatched(first.path, p, what: "grids or replications")
                }
            }
            if let twin = records.first(where: { $0.record.shard.index == r.shard.index }) {
                throw MergeError.givenTwice(shard: r.shard.description, first: twin.path, second: p)
            }
            records.append((p, r))
        }
        guard let first = records.first?.record else { throw MergeError.missing(shards: ["1/1"], of: 1) }
        let n = first.shard.count
        let missing = (1...n).filter { k in !records.contains { $0.record.shard.index == k } }
        guard missing.isEmpty else { throw MergeError.missing(shards: missing.map { "\($0)/\(n)" }, of: n) }
        // Each point's rows from every shard, read before the output is made.
        var points: [[(path: String, run: Row, inputs: [Row], replications: [Row], series: [Row])]] = Array(repeating: [], count: first.points)
        for (path, _) in records {
            let queue = try open(path, create: false)
            try queue.read { db in
                for run in try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY id") {
                    guard let point: Int = run["sweep_index"], (0..<first.points).contains(point) else { continue }
                    let id: Int64 = run["id"]
                    points[point].append((path, run,
                                          try Row.fetchAll(db, sql: "SELECT * FROM input WHERE run_id = ? ORDER BY role", arguments: [id]),
                                          try Row.fetchAll(db, sql: "SELECT * FROM replication WHERE run_id = ? ORDER BY idx", arguments: [id]),
                                          try Row.fetchAll(db, sql: "SELECT * FROM series WHERE run_id = ? ORDER BY replication, name", arguments: [id])))
                }
            }
        }
        for (p, parts) in points.enumerated() {
            let have = Set(parts.flatMap { $0.replications.map { $0["idx"] as Int } })
            let lacking = (0..<first.replicationsPerPoint).filter { !have.contains($0) }
            guard lacking.isEmpty else { throw MergeError.incomplete(point: p, missing: lacking) }
        }
        let temporary = output + ".merging"
        try? FileManager.default.removeItem(atPath: temporary)
        var ids: [Int64] = []
        do {
            let queue = try open(temporary, create: true)
            try queue.write { db in
                var sweepOf: Int64?
                for parts in points {
                    let base = parts[0].run
                    let replaced: Set<String> = ["id", "replications", "wall_seconds", "threads", "sweep_of"]
                    var columns: [String] = Array(base.columnNames).filter { !replaced.contains($0) }
                    var values: [DatabaseValue] = columns.map { name in base[name] }
                    var wall = 0.0, threads = 0
                    for part in parts {
                        let w: Double = part.run["wall_seconds"], t: Int = part.run["threads"]
                        wall += w
                        threads += t
                    }
                    columns += ["replications", "wall_seconds", "threads"]
                    values += [first.replicationsPerPoint.databaseValue, wall.databaseValue, threads.databaseValue]
                    try insert(columns, values, into: "run", db)
                    let id = db.lastInsertedRowID
                    sweepOf = sweepOf ?? id
                    try db.execute(sql: "UPDATE run SET sweep_of = ? WHERE id = ?", arguments: [sweepOf, id])
                    ids.append(id)
                    try copy(parts[0].inputs, into: "input", runID: id, db)
                    let replications = parts.flatMap(\.replications).sorted { a, b in
                        let ia: Int = a["idx"], ib: Int = b["idx"]
                        return ia < ib
                    }
                    try copy(replications, into: "replication", runID: id, db)
                    let series = parts.flatMap(\.series).sorted { a, b in
                        let ra: Int = a["replication"], rb: Int = b["replication"]
                        if ra != rb { return ra < rb }
                        let na: String = a["name"], nb: String = b["name"]
                        return na < nb
                    }
                    try copy(series, into: "series", runID: id, db)
                }
            }
            try queue.close()
            try FileManager.default.moveItem(atPath: temporary, toPath: output)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        return ids
    }

    /// Inserts `rows` into `table` as they were read, with `run_id` set to `runID`.
    static func copy(_ rows: [Row], into table: String, runID: Int64, _ db: Database) throws {
        for row in rows {
            let columns = Array(row.columnNames)
            try insert(columns, columns.map { $0 == "run_id" ? runID.databaseValue : row[$0] as DatabaseValue }, into: table, db)
        }
    }

    /// One row of `values` into `table`'s `columns` (named as read from a shard).
    static func insert(_ columns: [String], _ values: [DatabaseValue], into table: String, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO \(table) (\(columns.map { "\"\($0)\"" }.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                       arguments: StatementArguments(values))
    }
}
