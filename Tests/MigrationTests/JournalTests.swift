import Foundation
import GRDB
import Testing
@testable import Migration

@Test func journalOfAnotherPlanIsRefusedNamingTheFile() throws {
    let path = temporaryJournalPath("other-plan")
    let planA = drainPlan(count: 2)
    var planB = planA
    planB.limits = ConcurrencyLimits(perSource: 3)
    _ = try JournalledEngine(path: path, plan: planA, durable: false)
    #expect(planA.identity != planB.identity && planA.id == planB.id)
    #expect(throws: MigrationJournalError.otherPlan(path: path, journalled: planA.identity, given: planB.identity)) {
        _ = try JournalledEngine(path: path, plan: planB, durable: false)
    }
    do {
        _ = try MigrationJournal(path: path, plan: planB, durable: false)
        Issue.record("another plan's journal was accepted")
    } catch {
        #expect(error.description.hasPrefix("\(path): the journal belongs to plan drain-nfs-01@"))
    }
    // The plan it belongs to still opens it.
    _ = try MigrationJournal(path: path, plan: planA, durable: false)
}

@Test func fileThatIsNotAJournalIsRefused() throws {
    let path = temporaryJournalPath("not-a-journal")
    try Data("not sqlite at all, just text".utf8).write(to: URL(fileURLWithPath: path))
    #expect(throws: MigrationJournalError.self) { _ = try MigrationJournal(path: path, plan: drainPlan(count: 1), durable: false) }
}

/// Goal: a journal exists only whole. Method: what a process killed while making one leaves
/// (a half-made file under the temporary name) is neither taken for the journal nor in the
/// way: the next start makes the journal anew, with its plan, and no temporary file remains.
@Test func aJournalIsMadeWholeOrNotAtAll() throws {
    let path = temporaryJournalPath("made-whole")
    try Data("SQLite format 3\0 cut short".utf8).write(to: URL(fileURLWithPath: path + ".creating"))
    #expect(!FileManager.default.fileExists(atPath: path))
    let plan = drainPlan(count: 2)
    _ = try MigrationJournal(path: path, plan: plan, durable: false)
    #expect(try MigrationJournal.plan(inJournalAt: path) == plan)
    #expect(!FileManager.default.fileExists(atPath: path + ".creating"))
}

@Test func planIdentityIsStableAndSeesEveryField() {
    let plan = drainPlan(count: 3)
    #expect(plan.identity == drainPlan(count: 3).identity)
    var changed = plan
    changed.moveTimeout = .minutes(59)
    #expect(changed.identity != plan.identity)
    changed = plan
    changed.phases[0].waves[0].moves[2].sizeBytes += 1
    #expect(changed.identity != plan.identity)
}

@Test func journalHoldsEachInputWithTheIntentsItProduced() throws {
    let path = temporaryJournalPath("entries")
    let plan = drainPlan(count: 1)
    // The default: durable commits, in WAL mode.
    var journalled = try JournalledEngine(path: path, plan: plan)
    #expect(try journalled.journal.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    #expect(try journalled.journal.pool.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2, "FULL")
    let first = try journalled.receive(.start, at: ms(0))
    let lookup = RepositoryLookup(storage: "nfs-01", readOnly: false, moves: [])
    let second = try journalled.receive(.existingMoves(RepositoryID(1), lookup), at: ms(200))
    let entries = try journalled.journal.entries()
    #expect(entries.map(\.input) == [.start, .existingMoves(RepositoryID(1), lookup)])
    #expect(entries.map(\.at) == [ms(0), ms(200)])
    #expect(entries[0].intents == effects(first) && entries[0].intents == [.lookUpMoves(RepositoryID(1))])
    #expect(entries[1].intents == effects(second))
    #expect(entries[1].intents == [.scheduleMove(RepositoryID(1), source: "nfs-01", destination: "gitaly-01")])
}

@Test func unansweredScheduleIsLookedUpFirstAfterResume() throws {
    // Goal: the write-ahead rule's hard case. The intent to schedule is journalled, the process
    // dies before the answer is: on resume the repository is looked up before anything else,
    // and the move found is followed, not scheduled again.
    let path = temporaryJournalPath("unanswered")
    let plan = drainPlan(count: 1)
    var journalled = try JournalledEngine(path: path, plan: plan, durable: false)
    _ = try journalled.receive(.start, at: ms(0))
    _ = try journalled.receive(.existingMoves(RepositoryID(1), RepositoryLookup(storage: "nfs-01", readOnly: false, moves: [])), at: ms(200))
    // Crash: the schedule may or may not have reached GitLab.
    var resumed = try JournalledEngine(path: path, plan: plan, durable: false)
    #expect(resumed.engine.movesInFlight == 1)
    #expect(effects(try resumed.receive(.start, at: ms(5000))) == [.lookUpMoves(RepositoryID(1))])
    let found = RepositoryLookup(storage: "nfs-01", readOnly: true, moves: [ExistingMove(id: MoveID(7), state: .started)])
    let follow = try resumed.receive(.existingMoves(RepositoryID(1), found), at: ms(5200))
    #expect(effects(follow).isEmpty)
    #expect(effects(try resumed.receive(.tick, at: ms(15_200))) == [.pollMove(MoveID(7))])
    // A second crash replays the first resume too, and lands in the same state.
    var again = try JournalledEngine(path: path, plan: plan, durable: false)
    #expect(effects(try again.receive(.start, at: ms(16_000))) == [.pollMove(MoveID(7))])
}

@Test func replayThatDoesNotGiveTheRecordedIntentsIsRefused() throws {
    // A journal written by an engine that acted differently (simulated by recording an intent
    // this engine would not emit) is not trusted.
    let path = temporaryJournalPath("divergent")
    let plan = drainPlan(count: 1)
    let journal = try MigrationJournal(path: path, plan: plan, durable: false)
    try journal.record(.start, at: ms(0), actions: [.scheduleMove(RepositoryID(1), source: "nfs-01", destination: "gitaly-01")])
    #expect {
        _ = try JournalledEngine(path: path, plan: plan, durable: false)
    } throws: { error in
        guard case .divergentReplay(let p, let sequence, _, _) = error as? MigrationJournalError else { return false }
        return p == path && sequence == 1
    }
}

@Test func journalGivesBackItsPlanForStatus() throws {
    // `migrate status --journal FILE` has only the file: the plan comes back from it, with the
    // same identity, and replays to the engine's state.
    let path = temporaryJournalPath("status")
    var plan = drainPlan(count: 2, steps: [.init(weights: after, gate: Gate(checks: [GateCheck(.apdexMin, 0.925)], soak: .minutes(3), onFailure: .pause))])
    plan.maintenanceWindows = [MaintenanceWindow(start: ms(0), end: ms(86_400_000))]
    var journalled = try JournalledEngine(path: path, plan: plan, durable: false)
    _ = try journalled.receive(.start, at: ms(0))
    let stored = try MigrationJournal.plan(inJournalAt: path)
    #expect(stored == plan && stored.identity == plan.identity)
    let engine = try MigrationJournal(path: path, plan: stored, durable: false).replay(plan: stored)
    #expect(engine.tally == StatusTally(pending: 2))
    #expect(throws: MigrationJournalError.cannotOpen(path: path + ".missing", reason: "no such file")) {
        _ = try MigrationJournal.plan(inJournalAt: path + ".missing")
    }
}

/// Goal: a journal left by a process killed in the middle of a write still gives back its plan
/// and resumes. Method: a journal with inputs in it, switched to SQLite's rollback journal and
/// copied, with that rollback journal, while a write of two thousand rows holds it (a cache of
/// one page spills them to the file): the copy is what a SIGKILL at that instant leaves (a hot
/// journal). Its plan comes back equal, the journal opens, and it replays to the original's
/// state. It fails with the plan read by a read-only connection (tried: "attempt to write a
/// readonly database"). And a new journal is in WAL mode from its first byte on disk (the
/// header's read and write versions, bytes 18 and 19, are 2), so no in-place switch can be cut
/// short; that check fails for a journal made in SQLite's default mode (tried).
@Test func aJournalKilledInAWriteGivesBackItsPlanAndResumes() throws {
    let path = temporaryJournalPath("killed-in-a-write")
    let plan = drainPlan(count: 3)
    do {
        // Closed at the block's end: the switch below needs the file to itself.
        var journalled = try JournalledEngine(path: path, plan: plan, durable: false)
        _ = try journalled.receive(.start, at: ms(0))
        _ = try journalled.receive(.tick, at: ms(1_000))
    }
    // Made (`create`), not yet opened by a pool: already in WAL mode.
    let made = temporaryJournalPath("made-in-wal-mode")
    try MigrationJournal.create(path: made, plan: plan)
    let header = try Data(contentsOf: URL(fileURLWithPath: made)).prefix(20)
    #expect(header[18] == 2 && header[19] == 2, "a new journal is not in WAL mode")
    let expected = try MigrationJournal(path: path, plan: plan, durable: false).replay(plan: plan).tally
    let copy = temporaryJournalPath("killed-in-a-write-copy")
    let queue = try DatabaseQueue(path: path)
    try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
    try queue.inDatabase { db in
        try db.execute(sql: "PRAGMA cache_size = 1")
        try db.execute(sql: "BEGIN IMMEDIATE")
        try db.execute(sql: "CREATE TABLE scratch (x BLOB)")
        for _ in 0..<2_000 { try db.execute(sql: "INSERT INTO scratch VALUES (zeroblob(500))") }
        #expect(FileManager.default.fileExists(atPath: path + "-journal"), "the write did not spill to a rollback journal")
        for suffix in ["", "-journal"] { try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix) }
        try db.execute(sql: "ROLLBACK")
    }
    let stored = try MigrationJournal.plan(inJournalAt: copy)
    #expect(stored == plan)
    #expect(try MigrationJournal(path: copy, plan: stored, durable: false).replay(plan: stored).tally == expected)
    #expect(!FileManager.default.fileExists(atPath: copy + "-journal"), "the hot journal was not rolled back")
}

@Test func journalledInputsAreCompactJSON() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = String(decoding: try encoder.encode(EngineInput.moveStatus(MoveID(42), .cleanupFailed)), as: UTF8.self)
    #expect(json == #"{"moveStatus":{"_0":42,"_1":7}}"#)
    let action = EngineAction.scheduleMove(RepositoryID(3), source: "nfs-01", destination: nil)
    let back = try JSONDecoder().decode(EngineAction.self, from: try encoder.encode(action))
    #expect(back == action)
}
