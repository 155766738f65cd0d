import Testing
@testable import Inventory

@Suite struct InventoryStatsTests {
    /// A hand-computed case: ten repositories of 1…10 bytes, one network rooted at 1.
    @Test func statsOfASmallInventoryMatchHandCounts() throws {
        var b = InventoryBuilder(file: "t")
        for i in 1...10 {
            try b.add(InventoryEntry(id: RepositoryID(Int64(i)), path: "p\(i)", kind: i <= 7 ? .project : .wiki,
                                     storage: i % 2 == 0 ? "even" : "odd", sizeBytes: Int64(i),
                                     forkRoot: i == 4 || i == 6 ? RepositoryID(1) : nil), line: i + 1)
        }
        let s = InventoryStats(try b.finish())
        #expect(s.count == 10 && s.totalBytes == 55 && s.largestBytes == 10)
        // Nearest rank: p50 → the 5th of 10, p90 → the 9th, p99 and p99.9 → the 10th.
        #expect(s.sizeQuantiles.map(\.bytes) == [5, 9, 10, 10])
        #expect(s.byKind.map(\.count) == [7, 3, 0, 0] && s.byKind.map(\.bytes) == [28, 27, 0, 0])
        #expect(s.byStorage.map(\.name) == ["even", "odd"] && s.byStorage.map(\.bytes) == [30, 25])
        #expect(s.forkNetworkCount == 1)
        #expect(s.largestForkNetworks == [.init(root: RepositoryID(1), members: 3, bytes: 11)])
    }
}
