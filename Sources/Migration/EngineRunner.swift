import Foundation

/// The loop every real driver runs around a `JournalledEngine` (README, "A driver's loop"):
/// the engine's effectful actions go to `perform`, up to `concurrency` at once, and each
/// answer comes back as the engine's next input, journalled before anything else happens; a
/// `wait(until:)` becomes a `tick` when nothing answers first. The driver says only how one
/// action is carried out (a SQLite transaction, an HTTP request), so that every driver runs the
/// engine the same way. An error thrown by `perform` stops the run: the journal holds every
/// answer received, and a resume asks again what was unanswered.
public struct EngineRunner: Sendable {
    public typealias Perform = @Sendable (EngineAction) async throws -> EngineInput

    /// How a run ended.
    public enum Ending: Equatable, Sendable {
        case finished(aborted: Bool)
        /// Paused (a failed gate, an operator) with nothing outstanding: a resume goes on.
        case paused(String)
    }

    public var perform: Perform
    /// Requests in flight at once.
    public var concurrency: Int
    /// The engine's clock: milliseconds since the Unix epoch, so that it goes on across a restart.
    public var now: @Sendable () -> EngineInstant
    /// Where the run says what happens (progress on stderr in the CLI).
    public var log: @Sendable (String) -> Void

    public init(concurrency: Int = 1, now: @escaping @Sendable () -> EngineInstant = EngineRunner.wallClock,
                log: @escaping @Sendable (String) -> Void = { _ in }, perform: @escaping Perform) {
        self.perform = perform
        self.concurrency = max(1, concurrency)
        self.now = now
        self.log = log
    }

    /// Runs the engine until it finishes, or pauses with nothing in flight. `commands` (an
    /// operator's abort, say) are delivered right after the start.
    public func run(_ engine: inout JournalledEngine, commands: [OperatorCommand] = []) async throws -> Ending {
        let answers = Mailbox()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            var actions = try engine.receive(.start, at: now())
            var commands = commands.map { EngineInput.operatorCommand($0) }
            var unsent: [EngineAction] = []
            var inFlight = 0
            var aborted = false, pausedBecause: String?
            while true {
                var wake: EngineInstant?
                for action in actions {
                    switch action {
                    case .wait(let until): wake = until
                    case .notice(let n):
                        log(Self.describe(n))
                        if case .finished(let a) = n { aborted = a }
                        if case .paused(let why) = n { pausedBecause = why }
                    case .lookUpMoves, .scheduleMove, .pollMove, .setWeights, .failMove, .clearReadOnly:
                        unsent.append(action)
                    }
                }
                if engine.engine.isFinished { return .finished(aborted: aborted) }
                while inFlight < concurrency, !unsent.isEmpty {
                    let action = unsent.removeFirst()
                    inFlight += 1
                    group.addTask {
                        do { await answers.put(.success(try await perform(action))) } catch { await answers.put(.failure(error)) }
                    }
                }
                if !commands.isEmpty {
                    actions = try engine.receive(commands.removeFirst(), at: now())
                    continue
                }
                if inFlight == 0, wake == nil {
                    // Nothing asked, nothing to wait for: only an operator can move it on.
                    return .paused(engine.engine.isPaused ? pausedBecause ?? "paused" : "the engine waits for nothing")
                }
                let deadline = wake.map { ContinuousClock.now + .milliseconds($0.milliseconds - now().milliseconds) }
                if let answer = await answers.take(before: deadline) {
                    inFlight -= 1
                    actions = try engine.receive(try answer.get(), at: now())
                } else {
                    actions = try engine.receive(.tick, at: now())
                }
            }
        }
    }

    /// The line a notice is logged as.
    public static func describe(_ n: EngineNotice) -> String {
        switch n {
        case .moveFinished(let r, let m): "\(m) of repository \(r.value) finished"
        case .moveFailed(let r, let m, let attempt): "\(m) of repository \(r.value) failed (attempt \(attempt))"
        case .moveTimedOut(let r, let m): "\(m) of repository \(r.value) passed its timeout"
        case .givenUp(let r, let why): "repository \(r.value) given up: \(why)"
        case .phaseStarted(let p): "phase \(p) started"
        case .phaseEnded(let p): "phase \(p) ended"
        case .stepApplied(let p, let step): "phase \(p): weights of step \(step) applied"
        case .gatePassed(let p, let step): "phase \(p): gate of step \(step) passed"
        case .gateFailed(let p, let step, let metric, let value): "phase \(p): gate of step \(step) failed on \(metric) (\(value.map { "\($0)" } ?? "no sample"))"
        case .waveGatePassed(let p, let wave): "phase \(p): gate after wave \(wave) passed"
        case .waveGateFailed(let p, let wave, let metric, let value): "phase \(p): gate after wave \(wave) failed on \(metric) (\(value.map { "\($0)" } ?? "no sample"))"
        case .paused(let why): "paused: \(why)"
        case .resumed: "resumed"
        case .aborting: "aborting: moves in flight end, then the weights go back"
        case .finished(let aborted): aborted ? "aborted" : "finished"
        case .leftReadOnly(let r): "repository \(r.value) left read-only: clear it by hand"
        case .sourceLeftBehind(let r, let m): "\(m) of repository \(r.value): cleanup failed, the source copy remains"
        case .alreadyMoved(let r): "repository \(r.value) is already on its destination"
        case .weightsNotRolledBack(let why): "the weights could not be set back: \(why)"
        case .ignored(let why): "ignored: \(why)"
        }
    }

    /// Milliseconds since the Unix epoch: a clock that goes on across a restart.
    public static let wallClock: @Sendable () -> EngineInstant = {
        EngineInstant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// Answers arriving from requests in flight, taken one at a time by the run's loop, which
/// also wakes at its next deadline when none comes.
actor Mailbox {
    typealias Answer = Result<EngineInput, any Error>
    private var answers: [Answer] = []
    private var waiting: CheckedContinuation<Answer?, Never>?
    private var timer: Task<Void, Never>?
    private var generation = 0

    func put(_ answer: Answer) {
        if let w = waiting {
            waiting = nil
            timer?.cancel()
            w.resume(returning: answer)
        } else {
            answers.append(answer)
        }
    }

    /// The next answer, or nil once `deadline` passes first.
    func take(before deadline: ContinuousClock.Instant?) async -> Answer? {
        if !answers.isEmpty { return answers.removeFirst() }
        if let deadline, deadline <= .now { return nil }
        generation += 1
        let mine = generation
        return await withCheckedContinuation { c in
            waiting = c
            if let deadline {
                timer = Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    self.expire(mine)   // the task runs on this actor (it captures self)
                }
            }
        }
    }

    private func expire(_ g: Int) {
        guard g == generation, let w = waiting else { return }
        waiting = nil
        w.resume(returning: nil)
    }
}
