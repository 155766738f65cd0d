/// Every acknowledged write, by repository and generation, so that lost writes are counted
/// exactly rather than estimated.
///
/// Each acknowledged write raises its repository's generation by one, and a replica at
/// generation g holds every write acknowledged at a generation ≤ g (replication copies the
/// source's state as of the generation it read at start). Consecutive acknowledged writes form
/// runs of generations, stored as closed ranges: memory follows the gaps (writes that were not
/// acknowledged, accept-dataloss bumps), not the number of writes.
public struct WriteLedger: Sendable {
    /// Per repository: disjoint, ascending ranges of acknowledged generations.
    var acked: [[ClosedRange<Int64>]] = []
    public private(set) var acknowledgedTotal = 0
    /// Writes discarded for good by accept-dataloss.
    public private(set) var discardedTotal = 0

    public init(repositories: Int = 0) { acked = Array(repeating: [], count: repositories) }

    public mutating func addRepository() { acked.append([]) }

    public mutating func acknowledge(repository r: Int, generation g: Int64) {
        acknowledgedTotal += 1
        if let last = acked[r].last {
            precondition(g > last.upperBound, "acknowledged generations rise: \(g) after \(last.upperBound)")
            if g == last.upperBound + 1 {
                acked[r][acked[r].count - 1] = last.lowerBound...g
                return
            }
        }
        acked[r].append(g...g)
    }

    /// Acknowledged writes of `r` at a generation above `g`: the ones a replica at `g` lacks.
    public func acknowledged(repository r: Int, above g: Int64) -> Int {
        var n: Int64 = 0
        for range in acked[r] where range.upperBound > g {
            n += range.upperBound - max(range.lowerBound, g + 1) + 1
        }
        return Int(n)
    }

    public func acknowledged(repository r: Int) -> Int { acknowledged(repository: r, above: -1) }

    /// accept-dataloss onto a replica at `g`: the writes above it are gone for good, and the
    /// new authoritative generation starts a new lineage. Returns how many were discarded.
    @discardableResult
    public mutating func discard(repository r: Int, above g: Int64) -> Int {
        let n = acknowledged(repository: r, above: g)
        acked[r] = acked[r].compactMap { range in
            range.lowerBound > g ? nil : range.lowerBound...min(range.upperBound, g)
        }
        discardedTotal += n
        return n
    }

    /// Writes of a repository that no surviving replica holds: those above the best existing
    /// replica's generation (all of them when no replica exists).
    public func lost(repository r: Int, record: RepositoryRecord) -> Int {
        let best = record.existing.slots.map { record.replicaGeneration($0) }.max() ?? -1
        return acknowledged(repository: r, above: best)
    }
}
