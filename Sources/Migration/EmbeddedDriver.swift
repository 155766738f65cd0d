/// A deterministic driver for tests, in the style of SwiftNIO's `EmbeddedEventLoop`: a fake
/// GitLab (`FakeGitLab`) on a fake clock that moves only from one input to the next. Actions are
/// performed at once; their answers arrive `apiLatency` later. Inputs due at the same instant come
/// in the order they were queued; the engine's wake-up comes after them.
///
/// It ships in the module, not in the tests, so that drivers and tools built on the engine can
/// test against the same fake GitLab the engine's own tests use.
public struct EmbeddedDriver: Sendable {
    public var gitlab: FakeGitLab
    public private(set) var now: EngineInstant
    /// ASSUMED: 200 ms per API call, test-sized.
    public var apiLatency: EngineDuration = EngineDuration(milliseconds: 200)
    /// Inputs due, sorted by (instant, order queued).
    var queue: [(at: EngineInstant, order: Int, input: EngineInput)] = []
    var queued = 0
    /// The engine's last `wait(until:)`.
    public private(set) var wakeUp: EngineInstant?
    /// Everything the engine said, in order.
    public private(set) var notices: [EngineNotice] = []
    /// Every action performed on the fake GitLab, with its instant, in order.
    public private(set) var performed: [PerformedAction] = []

    public init(gitlab: FakeGitLab, start: EngineInstant = EngineInstant(milliseconds: 0)) {
        self.gitlab = gitlab
        self.now = start
    }

    /// Queues an input from outside GitLab (a metric sample, an operator's command) at `at`.
    public mutating func inject(_ input: EngineInput, at: EngineInstant) {
        precondition(at >= now, "an input cannot be injected in the past")
        var lo = 0, hi = queue.count
        while lo < hi { let mid = (lo + hi) / 2; if queue[mid].at <= at { lo = mid + 1 } else { hi = mid } }
        queue.insert((at, queued, input), at: lo)
        queued += 1
    }

    /// Performs the engine's actions in order (only the first `limit` with an outside effect,
    /// when given: a process dying half-way), queueing GitLab's answers.
    public mutating func perform(_ actions: [EngineAction], limit: Int? = nil) {
        var done = 0
        wakeUp = nil
        for action in actions {
            switch action {
            case .wait(let until): wakeUp = until
            case .notice(let n): notices.append(n)
            case .lookUpMoves, .scheduleMove, .pollMove, .setWeights, .failMove, .clearReadOnly:
                if let limit, done >= limit { continue }
                done += 1
                performed.append(PerformedAction(at: now, action: action))
                if let answer = gitlab.perform(action) { inject(answer, at: now + apiLatency) }
            }
        }
    }

    /// The next input and its instant, moving the clock and GitLab to it; nil when nothing is
    /// queued and the engine waits for nothing.
    public mutating func nextInput() -> (EngineInput, EngineInstant)? {
        let input: EngineInput
        if let first = queue.first, wakeUp.map({ first.at <= $0 }) ?? true {
            queue.removeFirst()
            now = max(now, first.at)
            input = first.input
        } else if let t = wakeUp {
            wakeUp = nil
            now = max(now, t)
            input = .tick
        } else {
            return nil
        }
        gitlab.advance(to: now)
        return (input, now)
    }

    /// The process running the engine dies: answers on their way and the wake-up are lost;
    /// GitLab keeps its state and its moves go on.
    public mutating func crash() {
        queue.removeAll { input in
            switch input.input {
            case .metricSample, .operatorCommand: false
            case .tick, .start, .moveScheduled, .scheduleRefused, .moveStatus, .existingMoves, .readOnlyCleared,
                 .weightsApplied, .apiError: true
            }
        }
        wakeUp = nil
    }

    /// Starts `engine` and runs it until it finishes, nothing is left to deliver, or
    /// `inputsMax` inputs. Returns the inputs delivered.
    @discardableResult
    public mutating func run(_ engine: inout MigrationEngine, inputsMax: Int = 1_000_000) -> Int {
        perform(engine.receive(.start, at: now))
        var delivered = 1
        while !engine.isFinished, delivered < inputsMax, let (input, t) = nextInput() {
            perform(engine.receive(input, at: t))
            delivered += 1
        }
        return delivered
    }
}

public struct PerformedAction: Sendable, Equatable {
    public var at: EngineInstant
    public var action: EngineAction
}
