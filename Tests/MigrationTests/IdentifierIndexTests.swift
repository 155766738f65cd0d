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
