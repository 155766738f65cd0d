import SimKernel

extension Praefect {
    /// `valid_primaries`: replicas that are consensus-healthy, at the latest generation and
    /// assigned; unassigned ones count only when no assigned replica qualifies
    /// (gitaly `nodes/per_repository.go`, migration `20211018142158`; PRAEFECT.md §4).
    /// Replicas pending `delete_replica` are never assigned in this model, so that clause of
    /// the view needs no separate check.
    public static func validPrimaries(_ record: RepositoryRecord, consensusHealthy: MemberSet) -> MemberSet {
        validPrimaries(upToDate: record.upToDate, assigned: record.assigned, consensusHealthy: consensusHealthy)
    }

    static func validPrimaries(upToDate: MemberSet, assigned: MemberSet, consensusHealthy: MemberSet) -> MemberSet {
        let candidates = upToDate & consensusHealthy
        let onAssigned = candidates & assigned
        return onAssigned != 0 ? onAssigned : candidates
    }

    /// The lazy per-repository election (`PerRepositoryElector.GetPrimary`, lazy since v14.1):
    /// a still-valid primary is kept (no failback, gitaly#3765); otherwise a new one is drawn
    /// uniformly (`ORDER BY random()`) from the valid primaries. With none, the old primary
    /// stays and the request fails on it. An elected unassigned replica becomes assigned, as
    /// Praefect's assignment of the primary does. Returns whether the primary changed.
    @discardableResult
    public static func electPrimary(_ record: inout RepositoryRecord, consensusHealthy: MemberSet, random: inout RandomStream) -> Bool {
        let valid = validPrimaries(record, consensusHealthy: consensusHealthy)
        if valid.contains(slot: record.primary) || valid == 0 { return false }
        let pick = valid.slot(at: random.below(valid.nonzeroBitCount))
        record.assigned |= .single(pick)
        record.setPrimary(pick)
        return true
    }

    /// A repository is unavailable when no replica is a valid primary: reads and writes fail
    /// (`gitaly_praefect_unavailable_repositories`, gitaly `datastore/collector.go`).
    public static func isUnavailable(_ record: RepositoryRecord, consensusHealthy: MemberSet) -> Bool {
        validPrimaries(record, consensusHealthy: consensusHealthy) == 0
    }

    /// Partially unavailable: some assigned replica is not a valid primary (the
    /// `-partially-unavailable` flag of `praefect dataloss`).
    public static func isPartiallyUnavailable(_ record: RepositoryRecord, consensusHealthy: MemberSet) -> Bool {
        record.assigned & ~(record.upToDate & consensusHealthy) != 0
    }
}

/// One line of `praefect dataloss` output (gitaly `internal/cli/praefect/subcmd_dataloss.go`).
public struct DatalossEntry: Equatable, Sendable, CustomStringConvertible {
    public var repository: Int
    public var relativePath: String
    public var virtualStorage: String
    public var primary: String
    public var inSync: [String]
    public var outdated: [String]
    public var unavailable: Bool

    public var description: String {
        "\(virtualStorage)/\(relativePath): primary \(primary)\(unavailable ? " (unavailable)" : ""), in sync: \(inSync.joined(separator: ", ")), outdated: \(outdated.joined(separator: ", "))"
    }
}

extension Praefect {
    /// `praefect set-replication-factor`: the primary stays assigned; other storages are added
    /// or removed at random until `factor` are assigned; the reconciler then creates or deletes
    /// replicas (gitaly `datastore/assignment.go`, `subcmd_set_replication_factor.go`).
    public static func setReplicationFactor(_ record: inout RepositoryRecord, factor: Int, random: inout RandomStream) {
        precondition(factor >= 1 && factor <= record.memberCount, "replication factor \(factor) outside 1...\(record.memberCount)")
        let all: MemberSet = record.memberCount == 64 ? ~0 : (1 << UInt64(record.memberCount)) - 1
        while record.assigned.nonzeroBitCount > factor {
            let removable = record.assigned & ~MemberSet.single(record.primary)
            record.assigned &= ~MemberSet.single(removable.slot(at: random.below(removable.nonzeroBitCount)))
        }
        while record.assigned.nonzeroBitCount < factor {
            let free = all & ~record.assigned
            record.assigned |= .single(free.slot(at: random.below(free.nonzeroBitCount)))
        }
        record.checkInvariants()
    }
}
