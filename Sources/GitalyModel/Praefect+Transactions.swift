/// Praefect's transaction arithmetic: who votes, the quorum, and what the finalizer records.
public enum Transactions {
    /// Votes needed for a transaction with `secondaries` voters besides the primary. The primary
    /// holds S+1 votes and each secondary one; the threshold is S+1, plus ⌈S/2⌉ when S > 1
    /// (gitaly `praefect/coordinator.go`, `registerTransaction`; majority-wins since v13.4,
    /// gitaly#3004). So the primary alone decides for S ≤ 1, and never loses a vote.
    public static func threshold(secondaries s: Int) -> Int {
        precondition(s >= 0)
        return s > 1 ? s + 1 + (s + 1) / 2 : s + 1
    }

    /// Whether a transaction commits when the primary votes yes and `agreeing` of its
    /// `secondaries` vote the same way.
    public static func quorumReached(secondaries s: Int, agreeing k: Int) -> Bool {
        precondition(k >= 0 && k <= s)
        return (s + 1) + k >= threshold(secondaries: s)
    }
}

/// Where a mutator goes: the primary, the secondaries that get the RPC live and vote, and the
/// replication targets that get a replication job afterwards (gitaly `router_per_repository.go`).
public struct MutatorRoute: Equatable, Sendable {
    public var primary: Int
    public var secondaries: MemberSet
    public var replicationTargets: MemberSet
}

/// What happened on the nodes that ran a mutator.
public struct MutatorOutcome: Equatable, Sendable {
    /// The primary finished the RPC and committed its vote.
    public var primaryCommitted: Bool
    /// Secondaries that committed the same update as the primary.
    public var secondariesCommitted: MemberSet
    /// The primary failed (a crash, a SIGTERM) after it had voted: a subtransaction committed,
    /// so its replica may hold the update (`DidCommitAnySubtransaction`).
    public var primaryVoted: Bool
    public init(primaryCommitted: Bool, secondariesCommitted: MemberSet, primaryVoted: Bool = false) {
        self.primaryCommitted = primaryCommitted
        self.secondariesCommitted = secondariesCommitted
        self.primaryVoted = primaryVoted
    }
}

/// What the finalizer did with a mutator (gitaly `coordinator.go`, `newRequestFinalizer` and
/// `getUpdatedAndOutdatedSecondaries`).
public struct FinalizerResult: Equatable, Sendable {
    /// The client got OK: the write is acknowledged at `generation`.
    public var acknowledged: Bool
    public var generation: Int64?
    /// Replicas bumped to the new generation.
    public var updated: MemberSet
    /// Replicas that get a replication job from the primary.
    public var outdated: MemberSet
}

extension Praefect {
    /// Runs the finalizer for a mutator routed with `route` in `mode`, given what the nodes did.
    ///
    /// Strong mode: the transaction commits when the quorum is reached; the primary and the
    /// secondaries that committed are updated, every other assigned replica is outdated.
    /// A transaction without quorum still dirties the primary: its generation goes up and all
    /// secondaries are outdated, and the client gets an error. A primary that failed before
    /// voting changes nothing. A primary that failed after it voted is dirtied as well
    /// (gitaly `coordinator.go`, `getUpdatedAndOutdatedSecondaries`: with a committed
    /// subtransaction the primary counts as changed, and an error on the primary outdates every
    /// secondary; `IncrementGeneration` then bumps the primary alone): it is left the only
    /// up-to-date replica, so the repository is unavailable until it returns. Eventual mode: the primary alone takes the write and every other
    /// assigned replica gets a job.
    public static func finalize(_ record: inout RepositoryRecord, route: MutatorRoute, mode: ConsistencyMode, outcome: MutatorOutcome) -> FinalizerResult {
        let primary = MemberSet.single(route.primary)
        switch mode {
        case .eventual:
            guard outcome.primaryCommitted else { return FinalizerResult(acknowledged: false, generation: nil, updated: 0, outdated: 0) }
            let others = record.assigned & ~primary
            let g = record.incrementGeneration(on: primary)
            return FinalizerResult(acknowledged: true, generation: g, updated: primary, outdated: others)
        case .strong:
            guard outcome.primaryCommitted else {
                guard outcome.primaryVoted else { return FinalizerResult(acknowledged: false, generation: nil, updated: 0, outdated: 0) }
                record.incrementGeneration(on: primary)
                return FinalizerResult(acknowledged: false, generation: nil, updated: primary, outdated: record.assigned & ~primary)
            }
            let s = route.secondaries.nonzeroBitCount
            let agreeing = outcome.secondariesCommitted & route.secondaries
            let others = record.assigned & ~primary
            if Transactions.quorumReached(secondaries: s, agreeing: agreeing.nonzeroBitCount) {
                let updated = primary | agreeing
                let g = record.incrementGeneration(on: updated)
                return FinalizerResult(acknowledged: true, generation: g, updated: updated, outdated: others & ~agreeing)
            }
            // No quorum: the primary aborted its update, yet the finalizer treats it as
            // dirtied and outdates every secondary (getUpdatedAndOutdatedSecondaries).
            record.incrementGeneration(on: primary)
            return FinalizerResult(acknowledged: false, generation: nil, updated: primary, outdated: others)
        }
    }
}
