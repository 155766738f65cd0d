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

    public typealias Ending = EngineRunner.Ending

    /// GitLab's Sidekiq side: the pool that carries the moves out.
    public var movers: LocalMoveWorkers {
        LocalMoveWorkers(gitlab: gitlab, git: git, count: workers, pushWaitPolls: pushWaitPolls, pushWaitInterval: pushWaitInterval, faults: faults, log: log)
    }

    /// Runs the engine until it finishes or pauses with nothing left in flight. `now` is the
    /// wall clock as the engine's time. First the moves a previous process left are settled
    /// (`LocalMoveWorkers.serve`). `commands` (an operator's abort, say) are delivered right
    /// after the start.
    public func run(_ engine: inout JournalledEngine, commands: [OperatorCommand] = [], now: @escaping @Sendable () -> EngineInstant = EngineRunner.wallClock) async throws -> Ending {
        try await movers.serve { queue in
            // One request at a time: each is a SQLite transaction, answered at once.
            let runner = EngineRunner(concurrency: 1, now: now, log: log) { action in try await self.perform(action, queue: queue) }
            return try await runner.run(&engine, commands: commands)
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
}
