/// Where the run is: steps and their gates, waves, abort's rollback, the end.
enum RunStage: Equatable, Sendable {
    case notStarted
    case step(phase: Int, step: Int, StepProgress)
    case waves(phase: Int, wave: Int)
    /// The wave settled at `since`; its gate's samples are gathered before the next wave.
    case waveSoaking(phase: Int, wave: Int, since: EngineInstant)
    /// Aborted: restoring the initial weights before finishing.
    case abortRollingBack(Outstanding)
    case finished(aborted: Bool)
}

enum StepProgress: Equatable, Sendable {
    /// `setWeights` with the step's weights.
    case applying(Outstanding)
    /// Weights applied at `since`; the gate's samples are gathered.
    case soaking(since: EngineInstant)
    /// The gate failed with `rollbackWeights`: the previous weights go back (nil once applied);
    /// the engine is paused and a resume applies the step again.
    case rollingBack(Outstanding?)
}

enum GateVerdict {
    case holding
    case passed
    case failed(MetricKind, Double?)
}

/// The run: phases, weight steps, gates, waves, operator commands, deadlines.
extension MigrationEngine {
    /// New moves start only when not paused, not aborting, and inside a maintenance window (when
    /// the plan has any). Inlined, as `backoff`: a call from a mutating method copied the whole
    /// engine to hand it over.
    @inline(__always)
    var mayStartMoves: Bool { pauseReason == nil && !aborting && inMaintenanceWindow }

    @inline(__always)
    var inMaintenanceWindow: Bool {
        let now = now
        return plan.maintenanceWindows.isEmpty || plan.maintenanceWindows.contains { $0.start <= now && now < $0.end }
    }

    mutating func start() {
        switch run {
        case .notStarted:
            // Aborted before it began: nothing to undo.
            if aborting { finish(aborted: true) } else { enterPhase(0) }
        case .step(let p, let s, let progress):
            reissueOutstanding()
            switch progress {
            case .applying(.awaiting): emit(.setWeights(plan.phases[p].steps[s].weights))
            case .rollingBack(.awaiting?): emit(.setWeights(weightsBefore(phase: p, step: s)))
            case .applying(.retryAt), .rollingBack, .soaking: break
            }
        case .abortRollingBack(let outstanding):
            reissueOutstanding()
            if outstanding == .awaiting { emit(.setWeights(plan.initialWeights)) }
        case .waves:
            reissueOutstanding()
        case .waveSoaking, .finished:
            break
        }
    }

    mutating func enterPhase(_ p: Int) {
        guard p < plan.phases.count else { return finish(aborted: false) }
        notice(.phaseStarted(plan.phases[p].name))
        if plan.phases[p].steps.isEmpty {
            enterWave(p, 0)
        } else {
            applyStep(p, 0)
        }
    }

    mutating func applyStep(_ p: Int, _ s: Int) {
        run = .step(phase: p, step: s, .applying(.awaiting))
        emit(.setWeights(plan.phases[p].steps[s].weights))
    }

    mutating func enterWave(_ p: Int, _ w: Int) {
        guard w < plan.phases[p].waves.count else {
            notice(.phaseEnded(plan.phases[p].name))
            return enterPhase(p + 1)
        }
        let range = waveRanges[p][w]
        pending = PendingQueues(storages: storageNames.count, sources: range.map { (repository: $0, source: repositories[$0].source) })
        unsettledInWave = range.count
        run = .waves(phase: p, wave: w)
    }

    mutating func finish(aborted: Bool) {
        run = .finished(aborted: aborted)
        notice(.finished(aborted: aborted))
    }

    /// The weights in force before step `s` of phase `p`: the previous step's, else the last
    /// step of an earlier phase, else the plan's initial weights.
    func weightsBefore(phase p: Int, step s: Int) -> [StorageWeight] {
        if s > 0 { return plan.phases[p].steps[s - 1].weights }
        for earlier in stride(from: p - 1, through: 0, by: -1) {
            if let last = plan.phases[earlier].steps.last { return last.weights }
        }
        return plan.initialWeights
    }

    /// Moves the run forward as far as the inputs so far allow. Each pass either returns or
    /// enters a later step, wave or phase, so the loop ends (bounded below).
    mutating func advance() {
        let passesMax = 4 + plan.phases.reduce(0) { $0 + 2 + $1.steps.count + 2 * $1.waves.count }
        for _ in 0..<passesMax {
            if aborting && abortMayProceed() {
                switch plan.onAbort {
                case .rollbackWeights:
                    run = .abortRollingBack(.awaiting)
                    emit(.setWeights(plan.initialWeights))
                case .keepWeights:
                    finish(aborted: true)
                }
                return
            }
            switch run {
            case .notStarted, .finished, .abortRollingBack:
                return
            case .step(let p, let s, let progress):
                switch progress {
                case .applying:
                    return
                case .rollingBack(let outstanding):
                    if outstanding == nil && pauseReason == nil { applyStep(p, s) }
                    return
                case .soaking(let since):
                    if pauseReason != nil { return }
                    switch evaluateGate(plan.phases[p].steps[s].gate, since: since) {
                    case .holding:
                        return
                    case .failed(let metric, let value):
                        return gateFailed(p, s, metric, value)
                    case .passed:
                        notice(.gatePassed(phase: plan.phases[p].name, step: s))
                        if s + 1 < plan.phases[p].steps.count { applyStep(p, s + 1); return }
                        enterWave(p, 0)
                    }
                }
            case .waves(let p, let w):
                if unsettledInWave == 0 {
                    if plan.phases[p].waves[w].gate != nil {
                        run = .waveSoaking(phase: p, wave: w, since: now)
                        samples = []
                    } else {
                        enterWave(p, w + 1)
                    }
                    continue
                }
                if mayStartMoves { startRepositories() }
                return
            case .waveSoaking(let p, let w, let since):
                if pauseReason != nil { return }
                switch evaluateGate(plan.phases[p].waves[w].gate, since: since) {
                case .holding:
                    return
                case .failed(let metric, let value):
                    // The wave's moves are done; nothing to undo: the run pauses before the next.
                    notice(.waveGateFailed(phase: plan.phases[p].name, wave: w, metric: metric, value: value))
                    pause("gate after wave \(w) of phase \(plan.phases[p].name) failed on \(metric.rawValue)")
                    return
                case .passed:
                    notice(.waveGatePassed(phase: plan.phases[p].name, wave: w))
                    enterWave(p, w + 1)
                }
            }
        }
        preconditionFailure("the run did not settle within \(passesMax) passes")
    }

    /// An abort proceeds to its rollback once no request is outstanding: no move in flight, no
    /// look-up, schedule or clear unanswered, no weights unanswered.
    func abortMayProceed() -> Bool {
        switch run {
        case .notStarted, .finished, .abortRollingBack: return false
        case .step(_, _, .applying(.awaiting)), .step(_, _, .rollingBack(.awaiting?)): return false
        case .step, .waves: return !active.contains { repositories[$0].stage.isBusy }
        case .waveSoaking: return true
        }
    }

    /// Every check must hold on every sample measured in [since, since + soak] (a ratio with a
    /// window: on every full trailing window there, see `Gate`), and each check needs one
    /// sample (one full window) there at least; a violation fails the gate at once.
    func evaluateGate(_ gate: Gate?, since: EngineInstant) -> GateVerdict {
        guard let gate else { return .passed }
        let end = since + gate.soak
        let judged = gate.checks.map { judgedValues($0.metric, window: $0.metric.isRatio ? gate.window : nil, from: since, to: end, ended: now >= end) }
        for (check, values) in zip(gate.checks, judged) {
            if let bad = values.first(where: { !check.metric.holds($0, limit: check.limit) }) { return .failed(check.metric, bad) }
        }
        if now < end { return .holding }
        if let i = judged.firstIndex(where: \.isEmpty) { return .failed(gate.checks[i].metric, nil) }
        return .passed
    }

    /// The values a check judges: each sample of `metric` measured in [from, to], or with a
    /// window each full trailing window's count-weighted mean, ending at each such sample at
    /// or after from + window, and once the soak has `ended` the window ending at `to` (so a
    /// soak as long as its window, whose samples fall between the instants, is judged once).
    /// Two pointers over the samples in time order: O(n log n).
    func judgedValues(_ metric: MetricKind, window: EngineDuration?, from: EngineInstant, to: EngineInstant, ended: Bool) -> [Double] {
        let inSoak = samples.filter { $0.metric == metric && $0.measuredAt >= from && $0.measuredAt <= to }
        guard let window else { return inSoak.map(\.value) }
        let ordered = inSoak.enumerated().sorted { ($0.element.measuredAt, $0.offset) < ($1.element.measuredAt, $1.offset) }.map(\.element)
        var judged: [Double] = []
        var first = 0
        var weighted = 0.0, weight = 0.0
        for (i, s) in ordered.enumerated() {
            let w = s.count ?? 1
            weighted += s.value * w
            weight += w
            // The window is (t − window, t]: samples at or before t − window leave it.
            while ordered[first].measuredAt + window <= s.measuredAt {
                let old = ordered[first].count ?? 1
                weighted -= ordered[first].value * old
                weight -= old
                first += 1
            }
            // Judged once a full window has passed since the step, and only at the last of
            // samples measured at one instant.
            let last = i + 1 == ordered.count || ordered[i + 1].measuredAt != s.measuredAt
            if last && s.measuredAt >= from + window && weight > 0 { judged.append(weighted / weight) }
        }
        if ended {
            let last = ordered.filter { $0.measuredAt + window > to }
            let weight = last.reduce(0) { $0 + ($1.count ?? 1) }
            if weight > 0 { judged.append(last.reduce(0) { $0 + $1.value * ($1.count ?? 1) } / weight) }
        }
        return judged
    }

    mutating func gateFailed(_ p: Int, _ s: Int, _ metric: MetricKind, _ value: Double?) {
        let phase = plan.phases[p].name
        notice(.gateFailed(phase: phase, step: s, metric: metric, value: value))
        let reason = "gate after step \(s) of phase \(phase) failed on \(metric.rawValue)"
        switch plan.phases[p].steps[s].gate!.onFailure {
        case .pause:
            break
        case .rollbackWeights:
            run = .step(phase: p, step: s, .rollingBack(.awaiting))
            emit(.setWeights(weightsBefore(phase: p, step: s)))
        }
        pause(reason)
    }

    mutating func pause(_ reason: String) {
        pauseReason = reason
        notice(.paused(reason))
    }

    mutating func recordSample(_ sample: MetricSample) {
        // Only a soaking gate reads samples; keeping others would grow without bound.
        switch run {
        case .step(_, _, .soaking), .waveSoaking: break
        case .notStarted, .step, .waves, .abortRollingBack, .finished: return
        }
        samples.append(sample)
    }

    mutating func weightsApplied() {
        weightErrors = 0
        switch run {
        case .step(let p, let s, .applying(.awaiting)):
            run = .step(phase: p, step: s, .soaking(since: now))
            samples = []
            notice(.stepApplied(phase: plan.phases[p].name, step: s))
        case .step(let p, let s, .rollingBack(.awaiting?)):
            run = .step(phase: p, step: s, .rollingBack(nil))
        case .abortRollingBack(.awaiting):
            finish(aborted: true)
        case .notStarted, .step, .waves, .waveSoaking, .abortRollingBack, .finished:
            ignored("weightsApplied answers no setWeights")
        }
    }

    mutating func weightsError(_ kind: APIErrorKind) {
        let retry: Outstanding
        switch kind {
        case .transient(let retryAfter):
            weightErrors += 1
            retry = .retryAt(now + (retryAfter ?? backoff(afterFailures: weightErrors)))
        case .permanent:
            retry = .retryAt(now)
        }
        switch run {
        case .step(let p, let s, .applying(.awaiting)):
            run = .step(phase: p, step: s, .applying(retry))
            // A refusal needs a person: pause; a resume tries again.
            if case .permanent(let reason) = kind { pause("setWeights refused: \(reason)") }
        case .step(let p, let s, .rollingBack(.awaiting?)):
            if case .permanent(let reason) = kind {
                notice(.weightsNotRolledBack(reason))
                run = .step(phase: p, step: s, .rollingBack(nil))
            } else {
                run = .step(phase: p, step: s, .rollingBack(retry))
            }
        case .abortRollingBack(.awaiting):
            if case .permanent(let reason) = kind {
                notice(.weightsNotRolledBack(reason))
                finish(aborted: true)
            } else {
                run = .abortRollingBack(retry)
            }
        case .notStarted, .step, .waves, .waveSoaking, .abortRollingBack, .finished:
            ignored("weights error answers no setWeights")
        }
    }

    /// Sends the run's `setWeights` again when its retry is due (a step's only when not paused).
    mutating func fireDueWeights() {
        switch run {
        case .step(let p, let s, .applying(.retryAt(let t))) where t <= now && pauseReason == nil:
            applyStep(p, s)
        case .step(let p, let s, .rollingBack(.retryAt(let t)?)) where t <= now:
            run = .step(phase: p, step: s, .rollingBack(.awaiting))
            emit(.setWeights(weightsBefore(phase: p, step: s)))
        case .abortRollingBack(.retryAt(let t)) where t <= now:
            run = .abortRollingBack(.awaiting)
            emit(.setWeights(plan.initialWeights))
        case .notStarted, .step, .waves, .waveSoaking, .abortRollingBack, .finished:
            break
        }
    }

    mutating func operatorCommand(_ command: OperatorCommand) {
        if isFinished { return ignored("\(command.rawValue) after the run finished") }
        switch command {
        case .pause:
            pause("operator")
        case .resume:
            guard pauseReason != nil else { return ignored("resume while running") }
            pauseReason = nil
            notice(.resumed)
            // A step resumed after a pause is applied and soaked afresh; a wave's gate soaks afresh.
            if case .step(let p, let s, .soaking) = run { applyStep(p, s) }
            if case .waveSoaking(let p, let w, _) = run {
                run = .waveSoaking(phase: p, wave: w, since: now)
                samples = []
            }
        case .abort:
            guard !aborting else { return ignored("abort while aborting") }
            aborting = true
            notice(.aborting)
        }
    }

    /// The earliest instant after `now` the engine waits for. Drops the timers whose stage
    /// moved on; keeps those already due for the next answer's pass (`overdue`).
    mutating func nextDeadline() -> EngineInstant? {
        var next: EngineInstant?
        func consider(_ t: EngineInstant) { if t > now, next.map({ t < $0 }) ?? true { next = t } }
        while let top = requestTimers.top {
            guard repositories[top.repository].stage.awaitsRequest(at: top.at) else { requestTimers.pop(); continue }
            guard top.at > now else { requestTimers.pop(); overdue.append(top.repository); continue }
            consider(top.at)
            break
        }
        let startsWaiting = waitingCount > 0 && !mayStartMoves
        if mayStartMoves {
            takeEndedWaits()
            while let top = waitTimers.top, repositories[top.repository].stage.waitsUntil != top.at { waitTimers.pop() }
            if let top = waitTimers.top { consider(top.at) }
        }
        switch run {
        case .step(let p, let s, .soaking(let since)) where pauseReason == nil:
            if let gate = plan.phases[p].steps[s].gate { consider(since + gate.soak) }
        case .waveSoaking(let p, let w, let since) where pauseReason == nil:
            if let gate = plan.phases[p].waves[w].gate { consider(since + gate.soak) }
        case .step(_, _, .applying(.retryAt(let t))) where pauseReason == nil: consider(t)
        case .step(_, _, .rollingBack(.retryAt(let t)?)), .abortRollingBack(.retryAt(let t)): consider(t)
        case .waves:
            // The queues are scanned last: outside a maintenance window only.
            if pauseReason == nil && !aborting && !inMaintenanceWindow
                && (startsWaiting || pending.hasPending) {
                for w in plan.maintenanceWindows { consider(w.start) }
            }
        case .notStarted, .step, .waveSoaking, .abortRollingBack, .finished: break
        }
        return next
    }
}
