import Foundation
import Migration

/// The migration engine's driver for local storages: the engine's actions become calls on a
/// `LocalGitLab` (GitLab's API and its move state machine over a SQLite file), and a pool of
/// workers (Sidekiq's) carries the moves out with real git, as GitLab's move does
/// (PRAEFECT.md §8): the repository is read-only from `schedule`; the worker waits for pushes
/// in flight to end (3 polls 10 s apart, then "Timeout waiting for pushes"), copies with
/// `git clone --mirror` into a new bare repository (as `ReplicateRepository` creates one from
/// the source), compares Gitaly's checksums of both, switches the storage and sets the
/// repository writable in one transaction, then removes the source. Every failure ends where
/// GitLab's would: `failed` (writable again when it had started), `cleanup_failed`, or
/// read-only left behind when it failed before starting.
public struct LocalGitDriver: Sendable {
    public var gitlab: LocalGitLab
    public var git: Git
    /// Sidekiq threads running moves. ASSUMED default 4: a small machine's share.
    public var workers: Int
    /// PUBLIC: Rails reads the push counter 3 times, 10 s apart (update_repository_storage_methods.rb).
    public var pushWaitPolls = 3
    public var pushWaitInterval: Duration = .seconds(10)
    /// Where the driver says what happens (progress on stderr in the CLI).
    public var log: @Sendable (String) -> Void
    /// Faults to inject into the moves (tests, the GitLab stand-in): each strikes the first
    /// move of its repository only.
    public var faults = MoveFaults()

    public init(gitlab: LocalGitLab, git: Git = Git(), workers: Int = 4, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.gitlab = gitlab
        self.git = git
        self.workers = workers
        self.log = log
    }

    /// How a run ended.
    public enum Ending: Equatable, Sendable {
        case finished(aborted: Bool)
        /// Paused (a failed gate, an operator) with nothing outstanding: a resume goes on.
        case paused(String)
    }

    /// Runs the engine until it finishes or pauses with nothing left in flight. `now` is the
    /// wall clock as the engine's time. First the moves a previous process left are settled:
    /// queued ones are run, interrupted ones failed, replicated ones cleaned up.
    /// `commands` (an operator's abort, say) are delivered right after the start.
    public func run(_ engine: inout JournalledEngine, commands: [OperatorCommand] = [], now: @Sendable () -> EngineInstant = LocalGitDriver.wallClock) async throws -> Ending {
        let queue = MoveQueue()
        let recovered = try gitlab.recover()
        for m in recovered.replicated { await cleanUp(m) }
        for m in recovered.scheduled { await queue.push(m) }
        let ending: Ending = try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, workers) {
                group.addTask { while let m = await queue.next() { await self.execute(m) } }
            }
            defer { group.cancelAll() }
            let ending = try await loop(&engine, queue: queue, commands: commands, now: now)
            await queue.close()
            return ending
        }
        return ending
    }

    func loop(_ engine: inout JournalledEngine, queue: MoveQueue, commands: [OperatorCommand], now: @Sendable () -> EngineInstant) async throws -> Ending {
        var actions = try engine.receive(.start, at: now())
        var inbox: [EngineInput] = commands.map { .operatorCommand($0) }
        var aborted = false, pausedBecause: String?
        while true {
            var wake: EngineInstant?
            for action in actions {
                switch action {
                case .wait(let until): wake = until
                case .notice(let n):
                    note(n)
                    if case .finished(let a) = n { aborted = a }
                    if case .paused(let why) = n { pausedBecause = why }
                case .lookUpMoves, .scheduleMove, .pollMove, .setWeights, .failMove, .clearReadOnly:
                    inbox.append(try await perform(action, queue: queue))
                }
            }
            if engine.engine.isFinished { return .finished(aborted: aborted) }
            if !inbox.isEmpty {
                actions = try engine.receive(inbox.removeFirst(), at: now())
                continue
            }
            guard let wake else {
                // Nothing asked, nothing to wait for: only an operator can move it on.
                return .paused(engine.engine.isPaused ? pausedBecause ?? "paused" : "the engine waits for nothing")
            }
            let delay = wake.milliseconds - now().milliseconds
            if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
            actions = try engine.receive(.tick, at: now())
        }
    }

    /// One engine action against the local GitLab; its answer at once (no network).
    func perform(_ action: EngineAction, queue: MoveQueue) async throws -> EngineInput {
        switch action {
        case .lookUpMoves(let r):
            guard let found = try gitlab.lookUp(r) else { return .apiError(.lookUpMoves(r), .permanent("404 Project Not Found")) }
            return .existingMoves(r, found)
        case .scheduleMove(let r, _, let destination):
            switch try gitlab.schedule(r, destination: destination) {
            case .success(let id):
                await queue.push(id)
                return .moveScheduled(r, id)
            case .failure(let refusal):
                return .scheduleRefused(r, refusal)
            }
        case .pollMove(let id):
            guard let state = try gitlab.state(of: id) else { return .apiError(.pollMove(id), .permanent("404 Not found")) }
            return .moveStatus(id, state)
        case .failMove(let id):
            guard let state = try gitlab.doFail(id) else { return .apiError(.failMove(id), .permanent("404 Not found")) }
            return .moveStatus(id, state)
        case .clearReadOnly(let r):
            return try gitlab.clearReadOnly(r) ? .readOnlyCleared(r) : .apiError(.clearReadOnly(r), .permanent("404 Project Not Found"))
        case .setWeights(let w):
            if let refusal = try gitlab.setWeights(w) { return .apiError(.setWeights, .permanent(refusal)) }
            return .weightsApplied
        case .wait, .notice:
            preconditionFailure("\(action) has no outside effect")
        }
    }

    func note(_ n: EngineNotice) {
        switch n {
        case .moveFinished(let r, let m): log("\(m) of repository \(r.value) finished")
        case .moveFailed(let r, let m, let attempt): log("\(m) of repository \(r.value) failed (attempt \(attempt))")
        case .givenUp(let r, let why): log("repository \(r.value) given up: \(why)")
        case .phaseStarted(let p): log("phase \(p) started")
        case .phaseEnded(let p): log("phase \(p) ended")
        case .paused(let why): log("paused: \(why)")
        case .finished(let aborted): log(aborted ? "aborted" : "finished")
        case .leftReadOnly(let r): log("repository \(r.value) left read-only: clear it by hand")
        case .sourceLeftBehind(let r, let m): log("\(m) of repository \(r.value): cleanup failed, the source copy remains")
        case .stepApplied, .gatePassed, .gateFailed, .moveTimedOut, .alreadyMoved, .resumed, .aborting, .weightsNotRolledBack, .ignored: break
        }
    }

    /// One move, from `start!` to `finish_cleanup!`; any error fails it as `do_fail!` does.
    func execute(_ m: MoveID) async {
        let work: LocalGitLab.MoveWork
        do {
            // A stuck worker never gets to `start!`: the move stays scheduled, read-only.
            if let r = try gitlab.repository(of: m), await faults.strike(.stuck, r) { return }
            guard let w = try gitlab.start(m) else { return }
            work = w
        } catch {
            log("\(m): cannot start: \(error)")
            return
        }
        let copy = work.destinationPath + ".move-\(m.value)"
        do {
            try await waitForPushes(work.repository)
            let files = FileManager.default
            try? files.removeItem(atPath: copy)
            // A folder at the destination path belongs to no repository the state knows (an
            // earlier attempt that died between its rename and its switch): it goes.
            if files.fileExists(atPath: work.destinationPath) { try files.removeItem(atPath: work.destinationPath) }
            try files.createDirectory(atPath: (work.destinationPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try await git.run(Self.copyArguments(from: work.sourcePath, to: copy))
            if await faults.strike(.corruptCopy, work.repository) {
                // The copy gains a ref the source lacks, as a bad transfer would differ.
                try await git.run(["--git-dir", copy, "update-ref", "refs/heads/corrupted-in-transfer", "HEAD"])
            }
            let source = try await git.checksum(of: work.sourcePath)
            let destination = try await git.checksum(of: copy)
            guard source == destination else {
                throw LocalMoveError("checksum mismatch: source \(source), destination \(destination)")
            }
            try files.moveItem(atPath: copy, toPath: work.destinationPath)
            guard try gitlab.finishReplication(m) else {
                // Failed meanwhile (the operator's do_fail!): the copy goes, the source stays.
                try? files.removeItem(atPath: work.destinationPath)
                return
            }
        } catch {
            try? FileManager.default.removeItem(atPath: copy)
            if (try? gitlab.state(of: m)) == .started { try? FileManager.default.removeItem(atPath: work.destinationPath) }
            try? gitlab.fail(m, reason: "\(error)")
            log("\(m) of repository \(work.repository.value): \(error)")
            return
        }
        await cleanUp(m)
    }

    /// The copy: a new bare repository with every ref of the source, made through git's own
    /// transport (`--no-local`: a pack, not hard links), so it costs what a copy to another
    /// server costs.
    static func copyArguments(from source: String, to copy: String) -> [String] {
        ["clone", "--mirror", "--no-local", "--quiet", source, copy]
    }

    /// GitLab waits for the push counter to reach 0 before it copies.
    func waitForPushes(_ r: RepositoryID) async throws {
        for poll in 1...max(1, pushWaitPolls) {
            if try gitlab.pushesInFlight(r) == 0 { return }
            if poll < pushWaitPolls { try await Task.sleep(for: pushWaitInterval) }
        }
        throw LocalMoveError("Timeout waiting for project repository pushes")
    }

    /// Removes a replicated move's source; `cleanup_failed` when it cannot.
    func cleanUp(_ m: MoveID) async {
        do {
            guard let source = try gitlab.sourcePath(of: m) else { return }
            if let r = try gitlab.repository(of: m), await faults.strike(.failCleanup, r) { throw LocalMoveError("removing \(source): injected failure") }
            if FileManager.default.fileExists(atPath: source) { try FileManager.default.removeItem(atPath: source) }
            try gitlab.finishCleanup(m)
        } catch {
            try? gitlab.fail(m, reason: "cleanup: \(error)")
        }
    }

    /// Milliseconds since the Unix epoch: a clock that goes on across a restart.
    public static let wallClock: @Sendable () -> EngineInstant = { EngineInstant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) }
}

struct LocalMoveError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Moves waiting for a worker, first come first served.
actor MoveQueue {
    var pending: [MoveID] = []
    var waiting: [CheckedContinuation<MoveID?, Never>] = []
    var closed = false

    func push(_ m: MoveID) {
        if !waiting.isEmpty { waiting.removeFirst().resume(returning: m) } else { pending.append(m) }
    }

    func next() async -> MoveID? {
        if !pending.isEmpty { return pending.removeFirst() }
        if closed { return nil }
        return await withCheckedContinuation { waiting.append($0) }
    }

    func close() {
        closed = true
        for w in waiting { w.resume(returning: nil) }
        waiting = []
    }
}

/// Faults injected into local moves, each once per repository: a worker that never starts the
/// move (it stays `scheduled` and read-only until the engine's timeout fails it, gitlab#385309),
/// a copy whose checksum differs (the move fails and its copy goes), a source that cannot be
/// removed (`cleanup_failed`).
public actor MoveFaults {
    public enum Kind: Sendable { case stuck, corruptCopy, failCleanup }
    var pending: [Kind: Set<RepositoryID>] = [:]

    public init(stuck: Set<RepositoryID> = [], corruptCopy: Set<RepositoryID> = [], failCleanup: Set<RepositoryID> = []) {
        pending = [.stuck: stuck, .corruptCopy: corruptCopy, .failCleanup: failCleanup]
    }

    /// Whether the fault strikes this repository now; it strikes once.
    func strike(_ kind: Kind, _ r: RepositoryID) -> Bool { pending[kind]?.remove(r) != nil }
}
