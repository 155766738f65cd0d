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
///
/// The world keeps one per repository (ten million at GitLab.com's scale) and copies it on
/// most events, so a replica's generation is kept as which replicas exist and which are at
/// the latest generation; only the generations of replicas that lag behind need a list, and a
/// record holds one only while some replica lags (never on a plain storage, whose one replica
/// is the repository). No heap array to allocate, count references to or chase for the rest.
public struct RepositoryRecord: Sendable, Equatable {
    /// A replica that does not exist on its storage.
    public static let missing: Int64 = -1

    /// `repositories.generation`: the latest generation of the repository.
    public private(set) var generation: Int64
    /// `repository_assignments`: the storages that should hold a replica.
    public var assigned: MemberSet
    public var sizeBytes: Double
    /// Replicas at the latest generation: Praefect's "consistent" storages. Routing reads it on
    /// every request.
    public private(set) var upToDate: MemberSet = 0
    /// Replicas that exist at all (`storage_repositories` rows), whatever their generation.
    public private(set) var existing: MemberSet = 0
    /// `storage_repositories.generation` of each replica that exists but lags, by member slot
    /// (0 for the others); empty while none lags.
    private var lagging: [Int64] = []
    private var storageIndex: Int32
    private var primarySlot: Int8
    private var members: Int8

    public var virtualStorage: Int {
        get { Int(storageIndex) }
        set { storageIndex = Int32(newValue) }
    }
    /// `repositories."primary"`: always an assigned slot.
    public var primary: Int { Int(primarySlot) }
    public var memberCount: Int { Int(members) }

    /// A repository on `assigned` with `primary`, every replica in `present` (all assigned
    /// ones by default) at `generation`: 0 for a new repository, the source's generation for a
    /// copy made by a storage move, so acknowledged writes keep their numbers.
    public init(virtualStorage: Int, members: Int, assigned: MemberSet, primary: Int, sizeBytes: Double, generation: Int64 = 0, present: MemberSet? = nil) {
        precondition(assigned.contains(slot: primary), "the primary must be assigned")
        precondition((1...64).contains(members), "a virtual storage has 1 to 64 members, not \(members)")
        let all: MemberSet = members == 64 ? ~0 : (1 << UInt64(members)) - 1
        storageIndex = Int32(virtualStorage)
        self.generation = generation
        self.members = Int8(members)
        self.assigned = assigned
        primarySlot = Int8(primary)
        self.sizeBytes = sizeBytes
        existing = (present ?? assigned) & all
        upToDate = existing
    }

    /// `storage_repositories.generation` of the replica at `slot`, or `missing`.
    public func replicaGeneration(_ slot: Int) -> Int64 {
        if upToDate.contains(slot: slot) { return generation }
        return existing.contains(slot: slot) ? lagging[slot] : Self.missing
    }

    /// Sets the generation of the replica at `slot` (`missing`: it has none).
    mutating func setReplica(_ slot: Int, _ g: Int64) {
        let bit = MemberSet.single(slot)
        if g == Self.missing {
            existing &= ~bit
            upToDate &= ~bit
        } else if g == generation {
            existing |= bit
            upToDate |= bit
        } else {
            if lagging.isEmpty { lagging = [Int64](repeating: 0, count: memberCount) }
            existing |= bit
            upToDate &= ~bit
            lagging[slot] = g
            return
        }
        if !lagging.isEmpty { lagging[slot] = 0 }
        releaseLaggingIfNone()
    }

    /// Gives the list back once no replica lags, so a record in step holds none.
    mutating func releaseLaggingIfNone() {
        if !lagging.isEmpty && existing & ~upToDate == 0 { lagging = [] }
    }

    /// The replicas now at the latest generation fall behind it, at it: before a bump.
    mutating func keepBehind(_ slots: MemberSet) {
        guard slots != 0 else { return }
        if lagging.isEmpty { lagging = [Int64](repeating: 0, count: memberCount) }
        for i in slots.slots { lagging[i] = generation }
    }

    /// `IncrementGeneration`: bumps the repository and those of `replicas` that were at the
    /// latest generation; the others stay behind (gitaly `datastore/repository_store.go`).
    /// Returns the new generation.
    @discardableResult
    public mutating func incrementGeneration(on slots: MemberSet) -> Int64 {
        keepBehind(upToDate & ~slots)
        generation += 1
        upToDate &= slots
        checkInvariants()
        return generation
    }

    /// A replication job finished on `target` with the source generation read at its start.
    /// A target already at or past it is left alone: the downgrade guard of gitaly
    /// `replicator.go`, which also keeps generations from ever going down.
    public mutating func replicated(to target: Int, sourceGeneration: Int64) {
        if replicaGeneration(target) < sourceGeneration { setReplica(target, sourceGeneration) }
        checkInvariants()
    }

    /// The replica's data is gone (disk loss, or the metadata verifier found it missing):
    /// its row is deleted but the repository row stays, so the loss is visible
    /// (gitaly `verifier.go`, PRAEFECT.md §7).
    public mutating func replicaLost(_ slot: Int) {
        setReplica(slot, Self.missing)
    }

    /// `SetAuthoritativeReplica` (accept-dataloss): the chosen replica alone moves to a new
    /// latest generation, so every other replica becomes outdated and is overwritten from it
    /// (gitaly `subcmd_accept_dataloss.go`). Returns the new generation.
    @discardableResult
    public mutating func setAuthoritative(_ slot: Int) -> Int64 {
        precondition(existing.contains(slot: slot), "accept-dataloss needs an existing replica")
        keepBehind(upToDate & ~MemberSet.single(slot))
        generation += 1
        upToDate = 0
        setReplica(slot, generation)
        checkInvariants()
        return generation
    }

    /// The elector picked a new primary; it must be assigned.
    public mutating func setPrimary(_ slot: Int) {
        primarySlot = Int8(slot)
        checkInvariants()
    }

    /// Checks what every transition must leave true. Always on (the cost is a few compares);
    /// a failure is a bug in the model, not an operating condition.
    public func checkInvariants() {
        precondition(assigned.contains(slot: primary), "primary \(primary) is not assigned (\(Array(assigned.slots)))")
        precondition(upToDate & ~existing == 0, "a replica is up to date but does not exist")
        let behind = existing & ~upToDate
        precondition(behind == 0 ? lagging.isEmpty : lagging.count == memberCount, "replicas lag (\(Array(behind.slots))) but \(lagging.count) lagging generations are kept")
        for i in lagging.indices {
            if behind.contains(slot: i) {
                precondition(lagging[i] >= 0 && lagging[i] < generation, "a lagging replica at \(lagging[i]) is not behind the repository's generation \(generation)")
            } else {
                precondition(lagging[i] == 0, "replica \(i) does not lag but keeps a generation")
            }
        }
    }
}
