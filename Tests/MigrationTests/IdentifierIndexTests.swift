import Testing
@testable import Migration

/// The open-addressing id index against a plain dictionary built from the same ids.
@Suite struct IdentifierIndexTests {
    /// Goal: every id maps to its position, ids never added map to nil, and a repeated id is
    /// refused naming it. Method: 50,000 ids spread over the whole Int64 range (negative, zero,
    /// the extremes, and runs of consecutive ids that crowd the same slots) looked up against a
    /// `Dictionary` of the same pairs, then 50,000 ids not added.
    @Test func everyIdFindsItsPositionAndNoOtherIdIsFound() throws {
        var rng = LCGSequence(state: 7)
        var ids: [RepositoryID] = [RepositoryID(0), RepositoryID(.min), RepositoryID(.max), RepositoryID(-1)]
        ids += (1...20_000).map { RepositoryID($0) }                       // consecutive: the simulator's ids
        ids += (1..<20_000).map { RepositoryID(Int64($0) << 40) }          // equal low bits
        var seen = Set(ids)
        while ids.count < 50_000 {
            let id = RepositoryID(Int64(bitPattern: rng.next()))
            if seen.insert(id).inserted { ids.append(id) }
        }
        let index = try IdentifierIndex(ids)
        let reference = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        #expect(index.count == ids.count)
        #expect(ids.allSatisfy { index[$0] == reference[$0] })
        var absent = 0, found = 0
        while absent < 50_000 {
            let id = RepositoryID(Int64(bitPattern: rng.next()))
            if seen.contains(id) { continue }
            absent += 1
            if index[id] != nil { found += 1 }
        }
        #expect(found == 0, "\(found) ids never added were found")
        #expect(throws: IdentifierIndex<RepositoryTag>.Repeated.self) { _ = try IdentifierIndex([RepositoryID(3), RepositoryID(9), RepositoryID(3)]) }
        do { _ = try IdentifierIndex([RepositoryID(3), RepositoryID(9), RepositoryID(3)]) } catch { #expect(error.id == RepositoryID(3)) }
        #expect(try IdentifierIndex([RepositoryID]())[RepositoryID(1)] == nil)
    }

    /// Goal: ids close together (an inventory's or a plan's) are indexed directly and answer as
    /// the hashed table would. Method: 30,000 ids from 10⁹ on, both ends of a span of 90,000
    /// (3 times their count) and the rest drawn without repeats inside it, in random order: the
    /// table is direct, each id finds its position as in a `Dictionary`; ids in the gaps, just
    /// outside the span and at Int64's extremes are not found; a repeat is refused naming it.
    /// With a span one wider the table is hashed, and the same checks hold there.
    @Test func closeIdsAreIndexedDirectlyAndAnswerAsTheHashedTable() throws {
        var rng = LCGSequence(state: 11)
        let base: Int64 = 1_000_000_000
        for (count, span) in [(30_000, Int64(90_000)), (30_000, Int64(90_001))] {
            var seen: Set<Int64> = [base + span - 1, base]
            var ids = [RepositoryID(base + span - 1), RepositoryID(base)]
            while ids.count < count {
                let id = base + Int64(rng.next() % UInt64(span))
                if seen.insert(id).inserted { ids.append(RepositoryID(id)) }
            }
            let index = try IdentifierIndex(ids)
            let low = seen.min()!, high = seen.max()!
            #expect(index.isDirect == (span <= 3 * Int64(count)), "span \(span) for \(count) ids")
            let reference = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            #expect(ids.allSatisfy { index[$0] == reference[$0] })
            let gaps = (low...high).filter { !seen.contains($0) }
            #expect(!gaps.isEmpty && gaps.allSatisfy { index[RepositoryID($0)] == nil })
            for id in [low - 1, high + 1, 0, .min, .max] { #expect(index[RepositoryID(id)] == nil, "id \(id)") }
            var repeated = ids
            repeated.append(ids[count / 2])
            do { _ = try IdentifierIndex(repeated); Issue.record("a repeated id was taken") } catch { #expect(error.id == ids[count / 2]) }
        }
        #expect(try IdentifierIndex([RepositoryID(.max), RepositoryID(.min)]).isDirect == false)
        #expect(try IdentifierIndex([RepositoryID(5)]).isDirect && IdentifierIndex([RepositoryID(5)])[RepositoryID(5)] == 0)
    }
}

/// Knuth's MMIX linear congruential generator with its high bits folded down: a fixed
/// sequence of 64-bit values for this test alone.
struct LCGSequence {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state ^ (state >> 29)
    }
}

/// The engine's table of the repositories it last asked about.
@Suite struct RecentPositionsTests {
    /// Goal: a look-up finds an id's last noted position or nothing, never another id's or an
    /// older one. Method: 100,000 notes of ids crowded onto few slots (ids a multiple of the
    /// table's size apart, negative ones and the extremes among them), each followed by look-ups
    /// of a few ids checked against a dictionary of every id's last position.
    @Test func anIdIsFoundAtItsLastPositionOrNotAtAll() {
        var rng = LCGSequence(state: 11)
        let slots = Int64(RecentPositions.slots)
        let ids: [Int64] = (0..<64).map { Int64($0 % 8) + slots * Int64($0 / 8) } + [.min, .max, -1, -slots, 0 - slots + 3]
        var recent = RecentPositions()
        var last: [Int64: Int] = [:]
        var hits = 0
        for step in 0..<100_000 {
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            recent.note(RepositoryID(id), at: step)
            last[id] = step
            for _ in 0..<3 {
                let asked = ids[Int(rng.next() % UInt64(ids.count))]
                if let p = recent.position(of: RepositoryID(asked)) {
                    hits += 1
                    #expect(p == last[asked], "id \(asked) found at \(p), last noted at \(last[asked] ?? -1)")
                }
            }
        }
        #expect(hits > 10_000, "the table keeps what it was told")
        #expect(RecentPositions().position(of: RepositoryID(0)) == nil, "an empty table knows nothing, id 0 included")
    }
}
