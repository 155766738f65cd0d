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
        func weights(_ w: [Planner.StorageWeight]) -> [Migration.StorageWeight] {
            w.map { Migration.StorageWeight(StorageName($0.storage), $0.weight) }
        }
        let phases = plan.phases.map { p in
            let gate = p.gate.map(Self.gate)
            return MigrationPlan.Phase(
                name: p.name,
                steps: p.weightSteps.map { MigrationPlan.WeightStep(weights: weights($0.weights), gate: gate) },
                waves: p.waves.map { w in
                    MigrationPlan.Wave(moves: w.moves.map { m in
                        MigrationPlan.Move(repository: Migration.RepositoryID(m.repository), kind: Migration.RepositoryKind(rawValue: m.kind) ?? .project,
                                           source: StorageName(m.from), destination: StorageName(m.to), sizeBytes: m.bytes)
                    }, gate: gate)
                })
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
