import SimKernel

/// One replica waiting for the metadata verifier.
struct VerifyEntry {
    var repository: Int32
    var slot: Int8
    var due: SimTime
}

/// The metadata verifier (gitaly `praefect/verifier.go`, PRAEFECT.md §7): every 2 s it leases
/// up to 25 due replicas on locally healthy storages, never-verified first, and calls
/// `RepositoryExists`; a replica whose data is missing loses its metadata row
/// (`delete_invalid_records`, on by default since v15.9), so the loss becomes visible and the
/// reconciler recreates it. Replicas are re-verified every `verification_interval` (7 days).
extension World {
    /// PUBLIC: gitaly `verifier.go` / `serve.go` defaults (a batch of 25 every 2 s).
    static let verifierPeriod = SimTime.seconds(2)
    static let verifierBatch = 25

    /// Every replica starts verified at a uniformly random moment of the last interval, as in a
    /// cluster that has been running, so verification load is spread evenly.
    mutating func seedVerifier() {
        guard hasPraefect else { return }
        var random = RandomStreams(seed: config.seed, replication: config.replication).stream("praefect.verifier")
        var entries: [VerifyEntry] = []
        for r in repositoriesInPlaceOrder where vsViaPraefect[repositories[r].virtualStorage] {
            for slot in repositories[r].existing.slots {
                entries.append(VerifyEntry(repository: Int32(r), slot: Int8(slot), due: SimTime(seconds: random.nextDouble() * verificationInterval.seconds)))
            }
        }
        let start = populationStart, layout = populationLayout
        let place = { (e: VerifyEntry) in World.place(of: Int(e.repository), start: start, layout: layout) }
        entries.sort { ($0.due, place($0), $0.slot) < ($1.due, place($1), $1.slot) }
        for e in entries { verifierQueue.append(e) }
    }

    mutating func enqueueVerification(_ r: Int, _ slot: Int, due: SimTime) {
        guard hasPraefect else { return }
        verifierQueue.append(VerifyEntry(repository: Int32(r), slot: Int8(slot), due: due))
    }

    /// `praefect verify --repository-id` (with `storage`, only the replica on that storage,
    /// as `--storage` narrows it): the replicas are checked before any other.
    public mutating func markUnverified(repository r: Int, storage: Int? = nil) {
        let members = fleet.virtualStorages[repositories[r].virtualStorage].members
        for slot in repositories[r].existing.slots where storage == nil || members[slot] == storage {
            verifierPriority.append(VerifyEntry(repository: Int32(r), slot: Int8(slot), due: .zero))
        }
    }

    /// Every running Praefect runs its own verifier (gitaly `verifier.go`, started by each
    /// `praefect` process); they lease from the same table, so each leases its own batch of up
    /// to 25 due replicas per period, checked against its own local health view.
    mutating func verify(_ s: inout EventScheduler<WorldEvent>) {
        s.schedule(after: Self.verifierPeriod, .verify)
        guard databaseUp else { return }
        for p in runningPraefects {
            var leased = 0
            var deferred: [VerifyEntry] = []
            while leased < Self.verifierBatch, let e = verifierPriority.popFirst() {
                if verifyOne(e, praefect: p, s.now) { leased += 1 } else { deferred.append(e) }
            }
            while leased < Self.verifierBatch, let e = verifierQueue.first, e.due <= s.now {
                verifierQueue.popFirst()
                if verifyOne(e, praefect: p, s.now) { leased += 1 } else { deferred.append(e) }
            }
            // Replicas on storages this Praefect cannot reach stay due; they go first next time.
            for e in deferred { verifierPriority.append(e) }
        }
    }

    /// Checks one replica; returns false when its storage is not locally healthy (not leased).
    mutating func verifyOne(_ e: VerifyEntry, praefect p: Int, _ now: SimTime) -> Bool {
        let r = Int(e.repository), slot = Int(e.slot)
        // A replica whose row is already gone needs no check.
        guard repositories[r].existing.contains(slot: slot) else { return true }
        let vs = repositories[r].virtualStorage
        guard vsViaPraefect[vs] else { return true }
        guard locallyHealthy(praefect: p, virtualStorage: vs).contains(slot: slot) else { return false }
        if dataPresent[r].contains(slot: slot) {
            verifierQueue.append(VerifyEntry(repository: e.repository, slot: e.slot, due: now + verificationInterval))
        } else {
            repositories[r].replicaLost(slot)
            refreshAvailability(r, now)
        }
        return true
    }
}
