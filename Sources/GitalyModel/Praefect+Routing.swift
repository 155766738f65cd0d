import SimKernel

/// Why Praefect refused to route a request (gitaly `praefect/router_per_repository.go`,
/// `nodes/per_repository.go`).
public enum RouteError: Error, Equatable, Sendable {
    /// No replica is both healthy in this Praefect's view and up to date (`ErrNoSuitableNode`).
    case noSuitableNode
    /// The primary is not healthy in this Praefect's local view (`ErrPrimaryNotHealthy`).
    case primaryNotHealthy
    /// The primary is healthy but outdated, with no up-to-date replica to fail over to
    /// (`ErrRepositoryReadOnly`).
    case repositoryReadOnly
}

extension Praefect {
    /// Routes an accessor (a read): uniformly at random among the replicas that are healthy in
    /// the local view and at the latest generation, with no load awareness
    /// (gitaly `router_per_repository.go`, `NewLockedRandom`; PRAEFECT.md §3).
    public static func routeAccessor(_ record: RepositoryRecord, locallyHealthy: MemberSet, random: inout RandomStream) -> Result<Int, RouteError> {
        let candidates = record.upToDate & locallyHealthy
        let n = candidates.nonzeroBitCount
        guard n > 0 else { return .failure(.noSuitableNode) }
        return .success(candidates.slot(at: n == 1 ? 0 : random.below(n)))
    }

    /// Routes a mutator (a write) to the current primary. The primary must be locally healthy
    /// and up to date. Strong mode: assigned replicas that are locally healthy and up to date are
    /// secondaries and vote; the other assigned replicas are replication targets. Eventual mode:
    /// the primary alone, every other assigned replica a replication target.
    public static func routeMutator(_ record: RepositoryRecord, locallyHealthy: MemberSet, mode: ConsistencyMode) -> Result<MutatorRoute, RouteError> {
        let p = record.primary
        guard locallyHealthy.contains(slot: p) else { return .failure(.primaryNotHealthy) }
        let upToDate = record.upToDate
        guard upToDate.contains(slot: p) else { return .failure(.repositoryReadOnly) }
        let others = record.assigned & ~MemberSet.single(p)
        switch mode {
        case .strong:
            let secondaries = others & locallyHealthy & upToDate
            return .success(MutatorRoute(primary: p, secondaries: secondaries, replicationTargets: others & ~secondaries))
        case .eventual:
            return .success(MutatorRoute(primary: p, secondaries: 0, replicationTargets: others))
        }
    }

    /// Picks the primary and secondaries for a new repository: a random healthy storage as
    /// primary plus RF−1 random others; unhealthy picks become replication targets
    /// (gitaly `router_per_repository.go`, `RouteRepositoryCreation`). Returns the assigned set
    /// and the primary, or nil when no member is healthy.
    public static func placeNewRepository(members: Int, replicationFactor: Int, locallyHealthy: MemberSet, random: inout RandomStream) -> (assigned: MemberSet, primary: Int)? {
        let all: MemberSet = members == 64 ? ~0 : (1 << UInt64(members)) - 1
        let healthy = all & locallyHealthy
        guard healthy != 0 else { return nil }
        let primary = healthy.slot(at: random.below(healthy.nonzeroBitCount))
        var assigned = MemberSet.single(primary)
        var rest = all & ~assigned
        for _ in 1..<max(1, replicationFactor) {
            let pick = rest.slot(at: random.below(rest.nonzeroBitCount))
            assigned |= .single(pick)
            rest &= ~MemberSet.single(pick)
        }
        return (assigned, primary)
    }
}
