/// A set of a virtual storage's members as a bit mask: bit i is member slot i. Virtual storages
/// hold at most 64 storages (checked by `Fleet.build`), so set operations on the hot path are
/// single instructions and allocate nothing.
public typealias MemberSet = UInt64

extension MemberSet {
    // Always inlined: routing and every node's answer use them, and as calls they were ~1% of
    // the RPC benchmark's instructions.
    @inline(__always) static func single(_ slot: Int) -> MemberSet { 1 << UInt64(slot) }
    @inline(__always) func contains(slot: Int) -> Bool { self & (1 << UInt64(slot)) != 0 }
    /// Member slots in ascending order, without allocating.
    public var slots: MemberSlots { MemberSlots(bits: self) }
    /// The k-th set slot (0-based) in ascending order.
    func slot(at k: Int) -> Int {
        var m = self
        for _ in 0..<k { m &= m - 1 }
        return m.trailingZeroBitCount
    }
}

/// The set bits of a `MemberSet`, lowest first.
public struct MemberSlots: Sequence, IteratorProtocol, Sendable {
    var bits: UInt64
    public mutating func next() -> Int? {
        guard bits != 0 else { return nil }
        let slot = bits.trailingZeroBitCount
        bits &= bits - 1
        return slot
    }
}

/// Praefect's metadata for one repository: the rows of `repositories`,
/// `storage_repositories` and `repository_assignments` (gitaly `datastore/repository_store.go`,
/// PRAEFECT.md §2 and §6), indexed by member slot of its virtual storage.
public struct RepositoryRecord: Sendable, Equatable {
    /// A replica that does not exist on its storage.
    public static let missing: Int64 = -1

    public var virtualStorage: Int
    /// `repositories.generation`: the latest generation of the repository.
    public private(set) var generation: Int64
    /// `storage_repositories.generation` per member slot, or `missing`.
    public private(set) var replicas: [Int64]
    /// `repository_assignments`: the storages that should hold a replica.
    public var assigned: MemberSet
    /// `repositories."primary"`: always an assigned slot.
    public private(set) var primary: Int
    public var sizeBytes: Double

    /// A repository on `assigned` with `primary`, every replica in `present` (all assigned
    /// ones by default) at `generation`: 0 for a new repository, the source's generation for a
    /// copy made by a storage move, so acknowledged writes keep their numbers.
    public init(virtualStorage: Int, members: Int, assigned: MemberSet, primary: Int, sizeBytes: Double, generation: Int64 = 0, present: MemberSet? = nil) {
        precondition(assigned.contains(slot: primary), "the primary must be assigned")
        let present = present ?? assigned
        self.virtualStorage = virtualStorage
        self.generation = generation
        replicas = (0..<members).map { present.contains(slot: $0) ? generation : Self.missing }
        self.assigned = assigned
        self.primary = primary
        self.sizeBytes = sizeBytes
        recomputeUpToDate()
    }

    public var memberCount: Int { replicas.count }

    /// Replicas at the latest generation: Praefect's "consistent" storages. Kept with the
    /// generations (every mutation recomputes it), because routing reads it on every request.
    public private(set) var upToDate: MemberSet = 0

    mutating func recomputeUpToDate() {
        var m: MemberSet = 0
        for i in replicas.indices where replicas[i] == generation { m |= 1 << UInt64(i) }
        upToDate = m
    }

    /// Replicas that exist at all (whatever their generation).
    public var existing: MemberSet {
        var m: MemberSet = 0
        for i in replicas.indices where replicas[i] != Self.missing { m |= 1 << UInt64(i) }
        return m
    }

    public func replicaGeneration(_ slot: Int) -> Int64 { replicas[slot] }

    /// `IncrementGeneration`: bumps the repository and those of `replicas` that were at the
    /// latest generation; the others stay behind (gitaly `datastore/repository_store.go`).
    /// Returns the new generation.
    @discardableResult
    public mutating func incrementGeneration(on slots: MemberSet) -> Int64 {
        let next = generation + 1
        for i in slots.slots where replicas[i] == generation { replicas[i] = next }
        generation = next
        recomputeUpToDate()
        checkInvariants()
        return next
    }

    /// A replication job finished on `target` with the source generation read at its start.
    /// A target already at or past it is left alone: the downgrade guard of gitaly
    /// `replicator.go`, which also keeps generations from ever going down.
    public mutating func replicated(to target: Int, sourceGeneration: Int64) {
        if replicas[target] < sourceGeneration { replicas[target] = sourceGeneration }
        recomputeUpToDate()
        checkInvariants()
    }

    /// The replica's data is gone (disk loss, or the metadata verifier found it missing):
    /// its row is deleted but the repository row stays, so the loss is visible
    /// (gitaly `verifier.go`, PRAEFECT.md §7).
    public mutating func replicaLost(_ slot: Int) {
        replicas[slot] = Self.missing
        recomputeUpToDate()
    }

    /// `SetAuthoritativeReplica` (accept-dataloss): the chosen replica alone moves to a new
    /// latest generation, so every other replica becomes outdated and is overwritten from it
    /// (gitaly `subcmd_accept_dataloss.go`). Returns the new generation.
    @discardableResult
    public mutating func setAuthoritative(_ slot: Int) -> Int64 {
        precondition(replicas[slot] != Self.missing, "accept-dataloss needs an existing replica")
        generation += 1
        replicas[slot] = generation
        recomputeUpToDate()
        checkInvariants()
        return generation
    }

    /// The elector picked a new primary; it must be assigned.
    public mutating func setPrimary(_ slot: Int) {
        primary = slot
        checkInvariants()
    }

    /// Checks what every transition must leave true. Always on (the cost is a few compares);
    /// a failure is a bug in the model, not an operating condition.
    public func checkInvariants() {
        precondition(assigned.contains(slot: primary), "primary \(primary) is not assigned (\(Array(assigned.slots)))")
        for g in replicas { precondition(g <= generation, "a replica at \(g) is ahead of the repository's generation \(generation)") }
        var m: MemberSet = 0
        for i in replicas.indices where replicas[i] == generation { m |= 1 << UInt64(i) }
        precondition(m == upToDate, "the cached up-to-date set is stale")
    }
}
