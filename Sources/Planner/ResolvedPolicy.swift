import SpecFiles

/// A policy with its names resolved against a fleet: storage indices instead of names, every
/// default filled in, every phase explicit. Resolution is where an unknown storage or tag in the
/// policy is caught, with its line.
struct ResolvedPolicy {
    struct Phase {
        var name: String
        var destinations: [Int]
        var weightSteps: [[(storage: Int, weight: Int)]]
        var moves: Moves
        var gate: GateSpec?
    }
    enum Moves {
        case none
        case share(Double)
        case select(kinds: [String], sources: [Int], sizeBytesMax: Double?)
        case rest
    }

    var sources: [Int]
    /// Per fleet storage: is it drained?
    var isSource: [Bool]
    /// Per fleet storage.
    var fillLimits: [Double]
    var phases: [Phase]

    init(_ policy: Policy, fleet: PlanFleet) throws {
        func fail(_ n: Named, _ message: String) -> PlanError {
            .policy(SpecError(file: policy.file, line: n.source.line, field: n.source.path, message: message))
        }
        let known = SpecError.someNames(fleet.storages.map(\.name))
        func storage(_ n: Named) throws -> Int {
            guard let i = fleet.index(of: n.name) else { throw fail(n, "unknown storage \"\(n.name)\"; the fleet has \(known)") }
            return i
        }
        /// Names and `kind:` / `site:` selectors, in fleet order without repeats.
        func selected(_ list: [Named]) throws -> [Int] {
            var chosen = [Bool](repeating: false, count: fleet.storages.count)
            for n in list {
                if let tag = Self.tag(n.name) {
                    let matches = fleet.storages.indices.filter { i in
                        tag.key == "kind" ? fleet.storages[i].kind == tag.value : fleet.storages[i].site == tag.value
                    }
                    guard !matches.isEmpty else { throw fail(n, "no storage of the fleet has \(tag.key) \"\(tag.value)\"") }
                    for i in matches { chosen[i] = true }
                } else {
                    chosen[try storage(n)] = true
                }
            }
            return chosen.indices.filter { chosen[$0] }
        }

        var sources: [Int] = []
        var isSource = [Bool](repeating: false, count: fleet.storages.count)
        for n in policy.drainFrom {
            // A selector (`kind:vm`) drains every storage it matches; a name given twice is a slip.
            let isTag = Self.tag(n.name) != nil
            for i in isTag ? try selected([n]) : [try storage(n)] {
                guard !isSource[i] || isTag else { throw fail(n, "storage \"\(n.name)\" is drained twice") }
                if !isSource[i] { isSource[i] = true; sources.append(i) }
            }
        }
        var fillLimits = [Double](repeating: policy.fillLimit, count: fleet.storages.count)
        for (n, limit) in policy.fillLimits { fillLimits[try storage(n)] = limit }

        let drainTo = try selected(policy.drainTo)
        var phases: [Phase] = []
        let specs = policy.phases.isEmpty ? [PhaseSpec(name: "drain")].map { p -> PhaseSpec in var q = p; q.moves = .rest; return q } : policy.phases
        for spec in specs {
            var to = drainTo
            if let list = spec.to { to = try selected(list) }
            if let bad = to.first(where: { isSource[$0] }) {
                let list = spec.to ?? policy.drainTo
                let n = list.first { $0.name == fleet.storages[bad].name } ?? list[0]
                throw fail(n, "storage \"\(fleet.storages[bad].name)\" is both drained and a destination")
            }
            // A selector (`kind:pod: 10`) sets every storage it matches.
            let steps = try spec.weightSteps.map { step in
                try step.flatMap { entry in try selected([entry.storage]).map { (storage: $0, weight: entry.weight) } }
            }
            let moves: Moves
            switch spec.moves {
            case .none: moves = .none
            case .rest: moves = .rest
            case .share(let s): moves = .share(s)
            case .select(let sel):
                let from = try sel.storages.map { n -> Int in
                    let i = try storage(n)
                    guard isSource[i] else { throw fail(n, "storage \"\(n.name)\" is not drained; a phase selects only from drained storages") }
                    return i
                }
                moves = .select(kinds: sel.kinds, sources: from, sizeBytesMax: sel.sizeBytesMax)
            }
            phases.append(Phase(name: spec.name, destinations: to, weightSteps: steps, moves: moves, gate: spec.gate ?? policy.gate))
        }
        self.sources = sources
        self.isSource = isSource
        self.fillLimits = fillLimits
        self.phases = phases
    }

    static func tag(_ s: String) -> (key: String, value: String)? {
        for key in ["kind", "site"] where s.hasPrefix(key + ":") { return (key, String(s.dropFirst(key.count + 1))) }
        return nil
    }
}
