import Testing
@testable import Migration

/// The engine's table of storage names against a plain dictionary of the same names.
@Suite struct StorageTableTests {
    /// Goal: every name added is found at the position it was first added at, a name added
    /// again keeps it, and no other name is found. Method: 3,000 names (empty, one byte, long
    /// ones past a small string's 15 bytes, non-ASCII ones, names differing in one byte) added
    /// in a scrambled order with repeats, so the table doubles from 16 slots to 16,384.
    @Test func everyNameIsFoundWhereItWasFirstAdded() {
        var names: [StorageName] = ["", "a", "é", "gitaly-pod-0001-with-a-long-name", "nfs-file01", "nfs-file10"]
        names += (0..<2_994).map { StorageName("storage-\($0 * 7919 % 2_994)") }
        var table = StorageTable()
        var reference: [StorageName: Int] = [:]
        for (k, name) in (names + names.reversed()).enumerated() {
            let expected = reference[name] ?? reference.count
            reference[name] = expected
            #expect(table.add(name) == expected, "add #\(k): \(name)")
        }
        #expect(table.names.count == reference.count)
        #expect(reference.allSatisfy { table.index(of: $0.key) == $0.value && table.names[$0.value] == $0.key })
        for absent in ["storage-2994", "nfs-file1", "nfs-file010", "A", "e", "gitaly-pod-0001-with-a-long-nam"] {
            #expect(table.index(of: StorageName(absent)) == nil, "\(absent) was never added")
        }
        #expect(StorageTable(["b", "a", "b"]).index(of: "b") == 0, "a name given twice keeps its first position")
    }
}
