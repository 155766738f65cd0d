import SimKernel
import Testing
@testable import GitalyModel

/// The record as Praefect's tables read: a generation per replica (`missing` where none), the
/// repository's generation, written the obvious way to check the record's compact one.
struct ReferenceRecord {
    var generation: Int64
    var replicas: [Int64]

    mutating func increment(on slots: MemberSet) {
        for i in replicas.indices where slots.contains(slot: i) && replicas[i] == generation { replicas[i] = generation + 1 }
        generation += 1
    }

    mutating func replicated(to t: Int, sourceGeneration g: Int64) { if replicas[t] < g { replicas[t] = g } }

    mutating func setAuthoritative(_ slot: Int) {
        generation += 1
        replicas[slot] = generation
    }
}

/// Goal: the record keeps every replica's generation as Praefect's rows would, though it keeps
/// a list only for replicas that lag. Method: 200 random histories of 300 steps each on 1 to 5
/// members (writes reaching random subsets, replications to random targets from random
/// generations, replicas lost, accept-dataloss on an existing replica) applied to the record
/// and to `ReferenceRecord`; after every step each replica's generation, the up-to-date and
/// existing sets agree, and the record's invariants hold (they trap). A record with no lagging
/// replica owns no list: it equals a fresh record with the same replicas.
@Test func recordAgreesWithAGenerationPerReplica() {
    var random = RandomStreams(seed: 3).stream("record")
    for _ in 0..<200 {
        let members = 1 + random.below(5)
        let all: MemberSet = (1 << UInt64(members)) - 1
        var r = RepositoryRecord(virtualStorage: 0, members: members, assigned: all, primary: 0, sizeBytes: 1)
        var ref = ReferenceRecord(generation: 0, replicas: [Int64](repeating: 0, count: members))
        for _ in 0..<300 {
            switch random.below(4) {
            case 0:
                let slots = MemberSet(random.below(1 << members))
                r.incrementGeneration(on: slots)
                ref.increment(on: slots)
            case 1:
                let t = random.below(members)
                let g = Int64(random.below(Int(ref.generation) + 1))
                r.replicated(to: t, sourceGeneration: g)
                ref.replicated(to: t, sourceGeneration: g)
            case 2:
                let slot = random.below(members)
                r.replicaLost(slot)
                ref.replicas[slot] = RepositoryRecord.missing
            default:
                let existing = ref.replicas.indices.filter { ref.replicas[$0] != RepositoryRecord.missing }
                guard !existing.isEmpty else { continue }
                let slot = existing[random.below(existing.count)]
                r.setAuthoritative(slot)
                ref.setAuthoritative(slot)
            }
            r.checkInvariants()
            #expect(r.generation == ref.generation)
            #expect((0..<members).map { r.replicaGeneration($0) } == ref.replicas)
            let upToDate = ref.replicas.indices.reduce(MemberSet(0)) { ref.replicas[$1] == ref.generation ? $0 | .single($1) : $0 }
            let existing = ref.replicas.indices.reduce(MemberSet(0)) { ref.replicas[$1] != RepositoryRecord.missing ? $0 | .single($1) : $0 }
            #expect(r.upToDate == upToDate && r.existing == existing)
            if existing & ~upToDate == 0 {
                #expect(r == RepositoryRecord(virtualStorage: 0, members: members, assigned: all, primary: 0, sizeBytes: 1, generation: r.generation, present: existing))
            }
        }
    }
}
