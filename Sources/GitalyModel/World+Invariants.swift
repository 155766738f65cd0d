import SimKernel

extension World {
    /// The invariants every transition must keep (STYLE.md "Assertions"): generations never
    /// exceed the repository's (checked in `RepositoryRecord`), the primary is assigned, a
    /// repository is authoritative on exactly one GitLab storage outside a move, and no storage
    /// is over its capacity. Generations never decreasing is enforced where they change.
    public func checkInvariants() {
        for r in repositories.indices {
            repositories[r].checkInvariants()
            let vs = repositories[r].virtualStorage
            precondition(repositoriesByStorage[vs].contains(r), "repository \(r) is not listed on its storage \(vs)")
        }
        precondition(repositoriesByStorage.map(\.count).reduce(0, +) == repositories.count, "a repository is listed on two storages")
        for m in moves where m.step != .done {
            let r = m.move.repository
            let expected = m.move.state == .replicated ? m.move.destinationStorage : m.move.sourceStorage
            precondition(repositories[r].virtualStorage == expected, "move \(m.move.id): repository \(r) is authoritative on the wrong storage")
        }
        for s in fleet.storages.indices {
            precondition(storageUsedBytes[s] <= fleet.storages[s].capacityBytes * (1 + 1e-9) + 1, "storage \(fleet.storages[s].name) is over its capacity")
            precondition(storageUsedBytes[s] >= -1, "storage \(fleet.storages[s].name) has negative use")
        }
        // An RPC a limiter admitted is on a core or queued for one, so it is counted there.
        var held = 0
        for n in nodes { held += n.cpu.busy + n.cpu.queueLength + n.limiters.values.reduce(0) { $0 + $1.queueLength } }
        precondition(held == inflightHeld, "\(inflightHeld) RPC slots are held but nodes account for \(held)")
    }
}
