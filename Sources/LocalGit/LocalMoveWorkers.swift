import Foundation
import Migration

/// GitLab's Sidekiq workers for local storages: each move is carried out as GitLab's move does
/// (PRAEFECT.md §8) with real git. Shared by the local-git driver and the GitLab stand-in,
/// which schedule moves through the same `LocalGitLab` and hand them to `serve`'s queue.
public struct LocalMoveWorkers: Sendable {
    public var gitlab: LocalGitLab
    public var git: Git
    /// Sidekiq threads running moves.
    public var count: Int
    public var pushWaitPolls: Int
    public var pushWaitInterval: Duration
    public var faults: MoveFaults
    public var log: @Sendable (String) -> Void

    public init(gitlab: LocalGitLab, git: Git, count: Int, pushWaitPolls: Int, pushWaitInterval: Duration, faults: MoveFaults, log: @escaping @Sendable (String) -> Void) {
        self.gitlab = gitlab
        self.git = git
        self.count = count
        self.pushWaitPolls = pushWaitPolls
        self.pushWaitInterval = pushWaitInterval
        self.faults = faults
        self.log = log
    }

    /// Runs `body` with the workers serving `queue`. First the moves a previous process left
    /// are settled: queued ones are run, interrupted ones failed, replicated ones cleaned up.
    /// The workers stop when `body` returns; a move they had started is settled by the next
    /// process, as a Sidekiq restart leaves it.
    public func serve<T: Sendable>(queue: MoveQueue = MoveQueue(), _ body: (MoveQueue) async throws -> T) async throws -> T {
        let recovered = try gitlab.recover()
        for m in recovered.replicated { await cleanUp(m) }
        for m in recovered.scheduled { await queue.push(m) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, count) {
                group.addTask { while let m = await queue.next() { await self.execute(m) } }
            }
            defer { group.cancelAll() }
            let result = try await body(queue)
            await queue.close()
            return result
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
        if work.sourcePath == work.destinationPath {
            // Onto the storage it is on: nothing to copy and nothing to remove (GitLab's
            // `same_filesystem?`, PRAEFECT.md §8).
            do {
                if try gitlab.finishReplication(m) { try gitlab.finishCleanup(m) }
            } catch {
                try? gitlab.fail(m, reason: "\(error)")
            }
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
            if let move = try gitlab.move(m), move.source == move.destination {
                try gitlab.finishCleanup(m)
                return
            }
            if let r = try gitlab.repository(of: m), await faults.strike(.failCleanup, r) { throw LocalMoveError("removing \(source): injected failure") }
            if FileManager.default.fileExists(atPath: source) { try FileManager.default.removeItem(atPath: source) }
            try gitlab.finishCleanup(m)
        } catch {
            try? gitlab.fail(m, reason: "cleanup: \(error)")
        }
    }

}

struct LocalMoveError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Moves waiting for a worker, first come first served.
public actor MoveQueue {
    public init() {}
    var pending: [MoveID] = []
    var waiting: [CheckedContinuation<MoveID?, Never>] = []
    var closed = false

    public func push(_ m: MoveID) {
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
