import Foundation
import GRDB

/// Why a journal cannot be used.
public enum MigrationJournalError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// The journal was started for another plan (or another version of it).
    case otherPlan(path: String, journalled: String, given: String)
    /// Replaying the journal did not give the actions it recorded: the engine or the plan
    /// changed since it was written.
    case divergentReplay(path: String, sequence: Int64, recorded: String, replayed: String)
    case corrupt(path: String, sequence: Int64, reason: String)
    case database(path: String, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open the migration journal: \(reason)"
        case .otherPlan(let path, let journalled, let given):
            "\(path): the journal belongs to plan \(journalled), not \(given); resume with that plan or start a new journal"
        case .divergentReplay(let path, let sequence, let recorded, let replayed):
            "\(path): input \(sequence) replays to \(replayed), but the journal recorded \(recorded); was it written by another version of rehearse?"
        case .corrupt(let path, let sequence, let reason): "\(path): input \(sequence): \(reason)"
        case .database(let path, let message): "\(path): \(message)"
        }
    }
}

/// One journalled input and the intents it produced.
public struct JournalEntry: Equatable, Sendable {
    public var sequence: Int64
    public var at: EngineInstant
    public var input: EngineInput
    /// The actions with an outside effect, in the order the engine emitted them.
    public var intents: [EngineAction]
}

/// The engine's write-ahead journal, one SQLite file (WAL) through GRDB.
///
/// The rule: for each input, the driver hands it to the engine, then commits the input together
/// with the intents of every action with an outside effect in ONE transaction, and only then
/// performs those actions. So nothing is ever done that the journal does not hold, and an answer
/// the journal does not hold counts as never received. Replaying the inputs through a fresh
/// engine rebuilds its state exactly (the engine is deterministic); the `start` input that opens
/// every resumed run then asks again whatever was awaiting an answer, turning an unanswered
/// `scheduleMove` into a look-up, so a move the crash hid is found, not scheduled twice.
///
/// Schema (migration `v1`, never changed once shipped; later changes get new migrations):
/// - `plan(singleton, identity, plan_json)`: the plan this journal belongs to.
/// - `input(sequence, at_ms, input_json)`: every input, in order.
/// - `intent(sequence, ordinal, action_json)`: the effectful actions of input `sequence`.
public struct MigrationJournal: Sendable {
    public let path: String
    let pool: DatabasePool
    let encoder = MigrationJournal.makeEncoder()

    /// Sorted keys: the same value always encodes to the same bytes.
    static func makeEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }

    /// Opens the journal at `path`, creating it for `plan` when it does not exist, and refuses a
    /// journal of another plan. `durable` commits with `synchronous = FULL` (an intent survives
    /// a power cut before the action is performed); tests may turn it off for speed.
    public init(path: String, plan: MigrationPlan, durable: Bool = true) throws(MigrationJournalError) {
        self.path = path
        // A new journal is made whole under a temporary name and renamed into place, so that a
        // process killed while making it leaves no journal rather than one without its plan.
        if !FileManager.default.fileExists(atPath: path) { try Self.create(path: path, plan: plan) }
        var config = Configuration()
        config.label = "rehearse-migration-journal"
        let synchronous = durable ? "FULL" : "OFF"
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw .cannotOpen(path: path, reason: Self.message(error))
        }
        do {
            try Self.migrator.migrate(pool)
        } catch {
            throw .cannotOpen(path: path, reason: "not a migration journal: \(Self.message(error))")
        }
        let identity = plan.identity
        let planJSON = String(decoding: (try? encoder.encode(plan)) ?? Data(), as: UTF8.self)
        let journalled: String
        do {
            journalled = try pool.write { db in
                if let existing = try String.fetchOne(db, sql: "SELECT identity FROM plan") { return existing }
                try db.execute(sql: "INSERT INTO plan (singleton, identity, plan_json) VALUES (1, ?, ?)", arguments: [identity, planJSON])
                return identity
            }
        } catch {
            throw .database(path: path, message: Self.message(error))
        }
        if journalled != identity { throw .otherPlan(path: path, journalled: journalled, given: identity) }
    }

    static func create(path: String, plan: MigrationPlan) throws(MigrationJournalError) {
        let temporary = path + ".creating"
        func removeTemporary() { for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) } }
        removeTemporary()
        do {
            let queue = try DatabaseQueue(path: temporary)
            // In WAL mode from the start: the pool that opens it would otherwise switch it in
            // place, in a transaction of SQLite's rollback journal, and a process killed during
            // that switch leaves a hot journal beside the file.
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try migrator.migrate(queue)
            let planJSON = String(decoding: try makeEncoder().encode(plan), as: UTF8.self)
            try queue.write { db in
                try db.execute(sql: "INSERT INTO plan (singleton, identity, plan_json) VALUES (1, ?, ?)", arguments: [plan.identity, planJSON])
            }
            try queue.close()
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            removeTemporary()
            throw .cannotOpen(path: path, reason: Self.message(error))
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE plan (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    identity TEXT NOT NULL, plan_json TEXT NOT NULL);
                CREATE TABLE input (
                    sequence INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, input_json TEXT NOT NULL);
                CREATE TABLE intent (
                    sequence INTEGER NOT NULL REFERENCES input(sequence), ordinal INTEGER NOT NULL,
                    action_json TEXT NOT NULL, PRIMARY KEY (sequence, ordinal)) WITHOUT ROWID;
                """)
        }
        return m
    }

    static func message(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "SQLite error \(e.resultCode)" }
        return "\(error)"
    }

    /// The plan a journal was started with (for `migrate status` and `resume`, which have only
    /// the file). Opened for writing, though it only reads: what a process killed in a write
    /// left (a hot rollback journal, a write-ahead log's index to rebuild) is recovered only by
    /// a connection that may write; a read-only one refused the journal for good ("attempt to
    /// write a readonly database", SQLite's SQLITE_READONLY_ROLLBACK, https://sqlite.org/rescode.html).
    public static func plan(inJournalAt path: String) throws(MigrationJournalError) -> MigrationPlan {
        guard FileManager.default.fileExists(atPath: path) else { throw .cannotOpen(path: path, reason: "no such file") }
        let json: String?
        do {
            let queue = try DatabaseQueue(path: path)
            json = try queue.read { db in try String.fetchOne(db, sql: "SELECT plan_json FROM plan") }
        } catch {
            throw .cannotOpen(path: path, reason: "not a migration journal: \(message(error))")
        }
        guard let json else { throw .cannotOpen(path: path, reason: "the journal holds no plan") }
        do {
            return try JSONDecoder().decode(MigrationPlan.self, from: Data(json.utf8))
        } catch {
            throw .corrupt(path: path, sequence: 0, reason: "its plan cannot be read: \(error)")
        }
    }

    /// Commits `input` and the intents among `actions` in one transaction. Call it after the
    /// engine returned `actions` and before performing any of them.
    public func record(_ input: EngineInput, at: EngineInstant, actions: [EngineAction]) throws(MigrationJournalError) {
        do {
            let inputJSON = String(decoding: try encoder.encode(input), as: UTF8.self)
            let intents = try actions.filter(\.hasOutsideEffect).map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            try pool.write { db in
                try db.execute(sql: "INSERT INTO input (at_ms, input_json) VALUES (?, ?)", arguments: [at.milliseconds, inputJSON])
                let sequence = db.lastInsertedRowID
                for (ordinal, json) in intents.enumerated() {
                    try db.execute(sql: "INSERT INTO intent (sequence, ordinal, action_json) VALUES (?, ?, ?)",
                                   arguments: [sequence, ordinal, json])
                }
            }
        } catch {
            throw .database(path: path, message: Self.message(error))
        }
    }

    /// Every journalled input with its intents, in order.
    public func entries() throws(MigrationJournalError) -> [JournalEntry] {
        let decoder = JSONDecoder()
        let rows: [Row]
        let intentRows: [Row]
        do {
            (rows, intentRows) = try pool.read { db in
                (try Row.fetchAll(db, sql: "SELECT sequence, at_ms, input_json FROM input ORDER BY sequence"),
                 try Row.fetchAll(db, sql: "SELECT sequence, action_json FROM intent ORDER BY sequence, ordinal"))
            }
        } catch {
            throw .database(path: path, message: Self.message(error))
        }
        var entries: [JournalEntry] = []
        entries.reserveCapacity(rows.count)
        var next = 0
        for row in rows {
            let sequence: Int64 = row["sequence"]
            var entry: JournalEntry
            do {
                let input = try decoder.decode(EngineInput.self, from: Data((row["input_json"] as String).utf8))
                entry = JournalEntry(sequence: sequence, at: EngineInstant(milliseconds: row["at_ms"]), input: input, intents: [])
                while next < intentRows.count, (intentRows[next]["sequence"] as Int64) == sequence {
                    entry.intents.append(try decoder.decode(EngineAction.self, from: Data((intentRows[next]["action_json"] as String).utf8)))
                    next += 1
                }
            } catch {
                throw .corrupt(path: path, sequence: sequence, reason: "\(error)")
            }
            entries.append(entry)
        }
        return entries
    }

    /// Rebuilds the engine by replaying every journalled input, checking that each gives the
    /// intents it recorded. The driver then sends `start` (through `JournalledEngine`).
    public func replay(plan: MigrationPlan) throws(MigrationJournalError) -> MigrationEngine {
        var engine: MigrationEngine
        do {
            engine = try MigrationEngine(plan: plan)
        } catch {
            throw .corrupt(path: path, sequence: 0, reason: "the plan cannot run: \(error)")
        }
        for entry in try entries() {
            let intents = engine.receive(entry.input, at: entry.at).filter(\.hasOutsideEffect)
            if intents != entry.intents {
                throw .divergentReplay(path: path, sequence: entry.sequence, recorded: "\(entry.intents)", replayed: "\(intents)")
            }
        }
        return engine
    }
}

/// The engine with its journal: every input goes through `receive`, which journals the input and
/// its intents before returning the actions to perform.
public struct JournalledEngine: Sendable {
    public private(set) var engine: MigrationEngine
    public let journal: MigrationJournal

    /// Opens (or creates) the journal at `path` for `plan` and rebuilds the engine from it.
    public init(path: String, plan: MigrationPlan, durable: Bool = true) throws(MigrationJournalError) {
        journal = try MigrationJournal(path: path, plan: plan, durable: durable)
        engine = try journal.replay(plan: plan)
    }

    /// The engine's actions for `input`, journalled: perform them only after this returns. When
    /// it throws, the engine in memory is ahead of the journal: stop, and reopen from the file.
    public mutating func receive(_ input: EngineInput, at now: EngineInstant) throws(MigrationJournalError) -> [EngineAction] {
        let actions = engine.receive(input, at: now)
        try journal.record(input, at: now, actions: actions)
        return actions
    }
}
