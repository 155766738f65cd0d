import Inventory
import SpecFiles

/// Planning: inventory + fleet + policy → plan. Pure and deterministic: no I/O, no clock, no
/// randomness, no dictionary order in the output.
///
/// 1. Resolve the policy's names against the fleet (`ResolvedPolicy`).
/// 2. Group the drained repositories into units (`MoveUnits`): fork networks stay together
///    unless the policy says otherwise (production#17004: about 5 TB of fork-network
///    repositories followed their roots onto nearly full storages).
/// 3. Give each phase its units, in the policy's order (a share, a selection, or the rest).
/// 4. Pack each phase's units onto its destinations, largest first, each onto the destination
///    with the most room below its fill limit (worst-fit decreasing: O(n log n) for the sort,
///    O(log d) a unit). A unit whose network stays on one destination joins it.
/// 5. Cut each phase's moves, in the policy's order, into waves and estimate each wave.
extension Plan {
    public static func make(inventory inv: Inventory, fleet: PlanFleet, policy: Policy) throws -> Plan {
        try make(inventory: inv, fleet: fleet, policy: policy, columns: false).plan
    }

    /// The same plan with its moves in columns (`PlanColumns`): for a plan that only becomes an
    /// engine's input, which names repositories by id and needs neither paths nor reasons.
    public static func makeColumns(inventory inv: Inventory, fleet: PlanFleet, policy: Policy) throws -> PlanColumns {
        let (plan, waves) = try make(inventory: inv, fleet: fleet, policy: policy, columns: true)
        return PlanColumns(plan: plan, waves: waves, storageNames: fleet.storages.map(\.name))
    }

    static func make(inventory inv: Inventory, fleet: PlanFleet, policy: Policy, columns: Bool) throws -> (plan: Plan, waves: [[WaveColumns]]) {
        let resolved = try ResolvedPolicy(policy, fleet: fleet)
        let storageOfRow = try fleetStorages(of: inv, fleet: fleet, policy: policy)
        let units = MoveUnits(inventory: inv, storageOfRow: storageOfRow, policy: resolved, together: policy.forkNetworksTogether)
        let ordered = units.ordered(policy.order)
        let phaseOfUnit = try assignPhases(units: units, ordered: ordered, inventory: inv, storageOfRow: storageOfRow, policy: resolved)

        // Room below each storage's fill limit. A storage is at least as full as the fleet says
        // and as the inventory's repositories on it add up to, whichever is more.
        var inventoryBytes = [Int64](repeating: 0, count: fleet.storages.count)
        for row in 0..<inv.count where storageOfRow[row] >= 0 { inventoryBytes[Int(storageOfRow[row])] += inv.sizeBytes[row] }
        let usedBefore = fleet.storages.indices.map { max(fleet.storages[$0].usedBytes, Double(inventoryBytes[$0])) }
        var used = usedBefore
        var rooms = fleet.storages.indices.map { Int64((resolved.fillLimits[$0] * fleet.storages[$0].capacityBytes).rounded(.down) - usedBefore[$0].rounded(.up)) }

        var packing = Packing(units: units, inventory: inv, fleet: fleet, limits: resolved.fillLimits)
        var weights = fleet.storages.map(\.weight)
        var phases: [PlanPhase] = []
        var phaseColumns: [[WaveColumns]] = []
        for (p, phase) in resolved.phases.enumerated() {
            let mine = ordered.filter { phaseOfUnit[Int($0)] == Int16(p) }
            try packing.pack(mine, in: policy.order, phase: p, phase, phaseOfUnit: phaseOfUnit, rooms: &rooms, used: &used, storageOfRow: storageOfRow)
            var steps: [WeightStep] = []
            for step in phase.weightSteps {
                let before = weights
                for (s, w) in step { weights[s] = w }
                steps.append(WeightStep(weights: Self.weightList(weights, fleet), rollbackWeights: Self.weightList(before, fleet)))
            }
            let (waves, waveColumns) = try packing.waves(mine, phase: phase, policy: policy, storageOfRow: storageOfRow, columns: columns)
            phaseColumns.append(waveColumns)
            let soak = phase.gate?.soakSeconds ?? 0
            phases.append(PlanPhase(
                name: phase.name, destinations: phase.destinations.map { fleet.storages[$0].name }, gate: phase.gate,
                weightSteps: steps, waves: waves, moves: columns ? waveColumns.reduce(0) { $0 + $1.count } : waves.reduce(0) { $0 + $1.moves.count },
                bytes: waves.reduce(0) { $0 + $1.bytes },
                estimatedSeconds: waves.reduce(0) { $0 + $1.estimatedSeconds } + soak * Double(steps.count + waves.count)))
        }

        var touched = [StorageRole?](repeating: nil, count: fleet.storages.count)
        for s in resolved.sources { touched[s] = .source }
        for phase in resolved.phases { for d in phase.destinations { touched[d] = .destination } }
        let fills = fleet.storages.indices.compactMap { i -> PlanStorageFill? in
            guard let role = touched[i] else { return nil }
            let s = fleet.storages[i]
            return PlanStorageFill(name: s.name, role: role, capacityBytes: s.capacityBytes, usedBytesBefore: usedBefore[i],
                                   usedBytesAfter: used[i], fillLimit: resolved.fillLimits[i])
        }.sorted { $0.name < $1.name }

        let plan = Plan(
            schemaVersion: currentSchemaVersion, order: policy.order, forkNetworksTogether: policy.forkNetworksTogether,
            concurrency: PlanConcurrency(perSource: policy.concurrency.perSource, perDestination: policy.concurrency.perDestination,
                                         global: policy.concurrency.global),
            bandwidthBytesPerSecond: policy.bandwidthBytesPerSecond, copyBytesPerSecond: policy.copyBytesPerSecond,
            moveOverheadSeconds: policy.moveOverheadSeconds, readOnlySecondsMax: policy.readOnlySecondsMax,
            moveTimeoutSeconds: policy.moveTimeoutSeconds,
            maintenanceWindows: policy.maintenanceWindows, initialWeights: weightList(fleet.storages.map(\.weight), fleet),
            storages: fills, phases: phases,
            totals: PlanTotals(moves: phases.reduce(0) { $0 + $1.moves }, bytes: phases.reduce(0) { $0 + $1.bytes },
                               estimatedSeconds: phases.reduce(0) { $0 + $1.estimatedSeconds }))
        return (plan, phaseColumns)
    }

    static func weightList(_ weights: [Int], _ fleet: PlanFleet) -> [StorageWeight] {
        fleet.storages.indices.map { StorageWeight(storage: fleet.storages[$0].name, weight: weights[$0]) }.sorted { $0.storage < $1.storage }
    }

    /// The fleet storage of every row; a row on a storage the fleet lacks is an error.
    static func fleetStorages(of inv: Inventory, fleet: PlanFleet, policy: Policy) throws -> [Int32] {
        let map = inv.storageNames.names.map { fleet.index(of: $0).map(Int32.init) ?? -1 }
        var out = [Int32](repeating: -1, count: inv.count)
        for row in 0..<inv.count {
            let s = map[Int(inv.storages[row].rawValue)]
            guard s >= 0 else {
                throw PlanError.policy(SpecError(file: "inventory", line: nil, field: "repository \(inv.ids[row])",
                                                 message: "storage \"\(inv.storageName(row))\" is not in the fleet"))
            }
            out[row] = s
        }
        return out
    }

    /// The phase of every unit (-1: none), taking units in the policy's order.
    static func assignPhases(units: MoveUnits, ordered: [Int32], inventory inv: Inventory, storageOfRow: [Int32],
                             policy: ResolvedPolicy) throws -> [Int16] {
        var phaseOf = [Int16](repeating: -1, count: units.count)
        var left = units.count
        var cursor = 0
        for (p, phase) in policy.phases.enumerated() {
            switch phase.moves {
            case .none: break
            case .share(let share):
                var take = min(left, Int((share * Double(units.count)).rounded(.up)))
                while take > 0 {
                    let u = Int(ordered[cursor]); cursor += 1
                    if phaseOf[u] >= 0 { continue }
                    phaseOf[u] = Int16(p); take -= 1; left -= 1
                }
            case .rest:
                for u in 0..<units.count where phaseOf[u] < 0 { phaseOf[u] = Int16(p); left -= 1 }
            case .select(let kinds, let sources, let sizeMax):
                for u in 0..<units.count where phaseOf[u] < 0 {
                    let members = units.members(u)
                    if let m = sizeMax, Double(units.bytes[u]) > m { continue }
                    if !kinds.isEmpty, !members.allSatisfy({ kinds.contains(inv.kinds[Int(units.rows[$0])].name) }) { continue }
                    if !sources.isEmpty, !members.allSatisfy({ sources.contains(Int(storageOfRow[Int(units.rows[$0])])) }) { continue }
                    phaseOf[u] = Int16(p); left -= 1
                }
            }
        }
        guard left == 0 else {
            let moved = units.count - left
            throw PlanError.infeasible(Infeasibility(
                kind: .unplanned, phase: policy.phases.last?.name ?? "", neededBytes: 0, availableBytes: 0, fillLimit: 0,
                message: "the phases move \(moved) of the drain's \(units.count) units (repositories or fork networks); end with a phase whose moves are rest"))
        }
        return phaseOf
    }
}
