import Inventory
import Migration
import Planner

/// The planner's plan (`plan.json`) as the engine's input: the same phases, weight steps, waves
/// and limits, in the engine's own types. The phase's gate guards each of its weight steps.
extension MigrationPlan {
    /// Recurring maintenance windows (`mon` … `sun`, `HH:MM` UTC) are laid out over `days` days
    /// from the run's start, which the simulator takes to be a Monday at 00:00 UTC (ASSUMED, as
    /// the traffic profiles' `start`).
    public init(_ plan: Plan, id: String, days: Int = 366) {
        self.init(plan, id: id, days: days) { p, w in
            plan.phases[p].waves[w].moves.map { m in
                MigrationPlan.Move(repository: Migration.RepositoryID(m.repository), kind: Migration.RepositoryKind(rawValue: m.kind) ?? .project,
                                   source: StorageName(m.from), destination: StorageName(m.to), sizeBytes: m.bytes)
            }
        }
    }

    /// The plan whose moves are in columns (`Plan.makeColumns`): the same input as from the
    /// plan with its moves (tested), built from the columns without a string a move.
    public init(_ columns: PlanColumns, id: String, days: Int = 366) {
        let names = columns.storageNames.map { StorageName($0) }
        self.init(columns.plan, id: id, days: days) { p, w in
            let c = columns.waves[p][w]
            return (0..<c.count).map { i in
                MigrationPlan.Move(repository: Migration.RepositoryID(c.repositories[i]), kind: Self.kind(c.kinds[i]),
                                   source: names[Int(c.sources[i])], destination: names[Int(c.destinations[i])], sizeBytes: c.bytes[i])
            }
        }
    }

    /// `moves(p, w)`: the moves of wave w of phase p.
    init(_ plan: Plan, id: String, days: Int, moves: (Int, Int) -> [Move]) {
        func weights(_ w: [Planner.StorageWeight]) -> [Migration.StorageWeight] {
            w.map { Migration.StorageWeight(StorageName($0.storage), $0.weight) }
        }
        let phases = plan.phases.enumerated().map { p, phase in
            let gate = phase.gate.map(Self.gate)
            return MigrationPlan.Phase(
                name: phase.name,
                steps: phase.weightSteps.map { MigrationPlan.WeightStep(weights: weights($0.weights), gate: gate) },
                waves: phase.waves.indices.map { w in MigrationPlan.Wave(moves: moves(p, w), gate: gate) })
        }
        // A plan without a timeout predates the field: gitalyctl's 1 h. Without a read-only
        // bound, the timeout is the only one.
        let timeout = plan.moveTimeoutSeconds.map(Self.duration) ?? .hours(1)
        let readOnly = plan.readOnlySecondsMax.map(Self.duration) ?? timeout
        self.init(id: id, initialWeights: weights(plan.initialWeights), phases: phases,
                  limits: ConcurrencyLimits(perSource: plan.concurrency.perSource, perDestination: plan.concurrency.perDestination, global: plan.concurrency.global),
                  readOnlyDurationMax: readOnly, moveTimeout: timeout,
                  maintenanceWindows: Self.windows(plan.maintenanceWindows, days: days))
    }

    /// The inventory's kinds are the engine's, by name.
    static func kind(_ k: WaveColumns.Kind) -> Migration.RepositoryKind {
        switch k {
        case .project: .project
        case .wiki: .wiki
        case .snippet: .snippet
        case .design: .design
        }
    }

    static func gate(_ g: GateSpec) -> Gate {
        var checks: [GateCheck] = []
        if let v = g.apdexMin { checks.append(GateCheck(.apdexMin, v)) }
        if let v = g.errorRatioMax { checks.append(GateCheck(.errorRatioMax, v)) }
        if let v = g.replicationLagSecondsMax { checks.append(GateCheck(.replicationLagSecondsMax, v)) }
        if let v = g.diskFillMax { checks.append(GateCheck(.diskFillMax, v)) }
        let onFailure: Migration.GateFailureAction
        switch g.onFailure {
        case .pause: onFailure = .pause
        case .rollback: onFailure = .rollbackWeights
        }
        return Gate(checks: checks, soak: duration(g.soakSeconds), onFailure: onFailure, window: g.windowSeconds.map(duration))
    }

    static func duration(_ seconds: Double) -> EngineDuration {
        EngineDuration(milliseconds: Int64((seconds * 1000).rounded()))
    }

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Absolute windows from recurring ones, merged where they touch, in time order.
    static func windows(_ specs: [MaintenanceWindowSpec], days: Int) -> [MaintenanceWindow] {
        var spans: [(Int64, Int64)] = []
        for s in specs {
            let parts = s.start.split(separator: ":").compactMap { Int64($0) }
            guard parts.count == 2 else { continue }
            let startMs = (parts[0] * 3600 + parts[1] * 60) * 1000
            let lengthMs = Int64((s.durationSeconds * 1000).rounded())
            guard lengthMs > 0 else { continue }
            for day in 0..<days where s.days.isEmpty || s.days.contains(dayNames[day % 7]) {
                let a = Int64(day) * 86_400_000 + startMs
                spans.append((a, a + lengthMs))
            }
        }
        spans.sort { $0 < $1 }
        var merged: [(Int64, Int64)] = []
        for s in spans {
            if let last = merged.last, s.0 <= last.1 { merged[merged.count - 1].1 = max(last.1, s.1) } else { merged.append(s) }
        }
        return merged.map { MaintenanceWindow(start: EngineInstant(milliseconds: $0.0), end: EngineInstant(milliseconds: $0.1)) }
    }
}
