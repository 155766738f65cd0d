/// Every acknowledged write, by repository and generation, so that lost writes are counted
/// exactly rather than estimated.
///
/// Each acknowledged write raises its repository's generation by one, and a replica at
/// generation g holds every write acknowledged at a generation ≤ g (replication copies the
/// source's state as of the generation it read at start). Consecutive acknowledged writes form
/// runs of generations, stored as closed ranges: memory follows the gaps (writes that were not
/// acknowledged, accept-dataloss bumps), not the number of writes.
public struct WriteLedger: Sendable {
    /// Per repository: disjoint, ascending ranges of acknowledged generations, except the
    /// newest run.
    var acked: [[ClosedRange<Int64>]] = []
    /// Per repository: the newest run of acknowledged generations, kept flat because every
    /// acknowledged write extends it (`runLower > runUpper` when there is none).
    var runLower: [Int64] = []
    var runUpper: [Int64] = []
    public private(set) var acknowledgedTotal = 0
    /// Writes discarded for good by accept-dataloss.
    public private(set) var discardedTotal = 0

    public init(repositories: Int = 0) {
        addRepositories(repositories)
    }

    /// Makes room for `count` repositories in all.
    mutating func reserveRepositories(_ count: Int) {
        acked.reserveCapacity(count); runLower.reserveCapacity(count); runUpper.reserveCapacity(count)
    }

    public mutating func addRepository() { addRepositories(1) }

    /// `count` repositories with no write yet.
    public mutating func addRepositories(_ count: Int) {
        acked.append(contentsOf: repeatElement([], count: count))
        runLower.append(contentsOf: repeatElement(0, count: count))
        runUpper.append(contentsOf: repeatElement(-1, count: count))
    }

    public mutating func acknowledge(repository r: Int, generation g: Int64) {
        acknowledgedTotal += 1
        let upper = runUpper[r]
        if runLower[r] <= upper {
            precondition(g > upper, "acknowledged generations rise: \(g) after \(upper)")
            if g == upper + 1 {
                runUpper[r] = g
                return
            }
            acked[r].append(runLower[r]...upper)
        }
        runLower[r] = g
        runUpper[r] = g
    }

    /// Every run of a repository, oldest first.
    func runs(_ r: Int) -> [ClosedRange<Int64>] {
        runLower[r] <= runUpper[r] ? acked[r] + [runLower[r]...runUpper[r]] : acked[r]
    }

    /// Acknowledged writes of `r` at a generation above `g`: the ones a replica at `g` lacks.
    public func acknowledged(repository r: Int, above g: Int64) -> Int {
        var n: Int64 = 0
        for range in runs(r) where range.upperBound > g {
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
        var kept = runs(r).compactMap { range in
            range.lowerBound > g ? nil : range.lowerBound...min(range.upperBound, g)
        }
        if let last = kept.popLast() {
            runLower[r] = last.lowerBound
            runUpper[r] = last.upperBound
        } else {
            runLower[r] = 0
            runUpper[r] = -1
        }
        acked[r] = kept
        discardedTotal += n
        return n
    }

    /// Writes of a repository that no surviving replica holds: those above the best existing
    /// replica's generation (all of them when no replica exists). `holding` limits the
    /// replicas to those whose data is really there.
    public func lost(repository r: Int, record: RepositoryRecord, holding: MemberSet = ~0) -> Int {
        let best = (record.existing & holding).slots.map { record.replicaGeneration($0) }.max() ?? -1
        return acknowledged(repository: r, above: best)
    }
}
