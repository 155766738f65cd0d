import Foundation
import SpecFiles
import Testing
@testable import Inventory

/// Reading and writing inventories: round trips through both formats, and every reader error
/// naming its file, line and field exactly.
@Suite struct InventoryFileTests {
    static let header = Inventory.csvHeader

    func csv(_ rows: [String]) -> [UInt8] { Array(([Self.header] + rows).joined(separator: "\n").utf8) + [10] }

    func parseError(_ rows: [String], known: [String]? = nil) -> SpecError? {
        do {
            _ = try Inventory.parseCSV(csv(rows), file: "inv.csv", knownStorages: known)
            return nil
        } catch let e as SpecError { return e } catch { return nil }
    }

    @Test func generatedInventoryRoundTripsThroughCSVAndJSON() throws {
        let storages = [InventoryGenerator.Storage(name: "s1", shareWeight: 3), .init(name: "s,2", shareWeight: 1)]
        let inv = try InventoryGenerator().generate(count: 3000, storages: storages, seed: 11)
        let fromCSV = try Inventory.parseCSV(inv.csv(), file: "x.csv")
        #expect(fromCSV.entries == inv.entries)
        let fromJSON = try Inventory.parseJSON(inv.json(), file: "x.json")
        #expect(fromJSON.entries == inv.entries)
        // Writing what was read gives the same bytes again.
        #expect(fromCSV.csv() == inv.csv())
    }

    @Test func quotedPathsAndEmptyForkRootReadBack() throws {
        let inv = try Inventory.parseCSV(csv([
            "1,\"a,b \"\"q\"\"\",project,s1,10,,1.5,0",
            "2,c/d,wiki,s1,0,1,0,0.25",
        ]), file: "inv.csv")
        #expect(inv.entry(0) == InventoryEntry(id: RepositoryID(1), path: "a,b \"q\"", kind: .project, storage: "s1", sizeBytes: 10, readsPerDay: 1.5))
        #expect(inv.entry(1).forkRoot == RepositoryID(1))
        #expect(try Inventory.parseCSV(inv.csv(), file: "again.csv").entries == inv.entries)
    }

    @Test func negativeSizeNamesLineAndField() {
        let e = parseError(["1,a,project,s1,10,,0,0", "2,b,project,s1,-5,,0,0"])
        #expect(e == SpecError(file: "inv.csv", line: 3, field: "size_bytes", message: "a size is at least 0 bytes, got -5"))
        #expect(e?.description == "inv.csv:3: size_bytes: a size is at least 0 bytes, got -5")
    }

    @Test func unknownStorageIsAnErrorOnlyWhenAFleetIsGiven() {
        let rows = ["1,a,project,s1,10,,0,0", "2,b,project,s9,10,,0,0"]
        #expect(parseError(rows) == nil)
        let e = parseError(rows, known: ["s1", "s2"])
        #expect(e?.line == 3 && e?.field == "storage")
        #expect(e?.message == "unknown storage \"s9\"; the fleet has s1, s2")
    }

    @Test func duplicateIDBadKindAndMissingForkRootNameTheirLines() {
        let dup = parseError(["7,a,project,s1,10,,0,0", "8,b,project,s1,10,,0,0", "7,c,project,s1,10,,0,0"])
        #expect(dup == SpecError(file: "inv.csv", line: 4, field: "id", message: "duplicate repository id 7 (first given in row 1)"))
        let kind = parseError(["1,a,issue,s1,10,,0,0"])
        #expect(kind?.line == 2 && kind?.field == "kind")
        let root = parseError(["1,a,project,s1,10,,0,0", "2,b,project,s1,10,99,0,0"])
        #expect(root == SpecError(file: "inv.csv", line: 3, field: "fork_root", message: "fork root 99 is not a repository of this inventory"))
        let chain = parseError(["1,a,project,s1,10,,0,0", "2,b,project,s1,10,1,0,0", "3,c,project,s1,10,2,0,0"])
        #expect(chain?.line == 4 && chain?.field == "fork_root")
    }

    /// Rows are found by id whether the ids count the rows (1, 2, 3 …, looked up without a
    /// table) or leave that order part way through (then every row is indexed), and a repeated
    /// id is caught either side of the switch.
    @Test func rowsAreFoundByIDInAndOutOfStep() throws {
        let inStep = try Inventory.parseCSV(csv(["1,a,project,s1,10,,0,0", "2,b,project,s1,10,1,0,0", "3,c,project,s1,10,,0,0"]), file: "inv.csv")
        #expect((0...4).map { inStep.row(of: RepositoryID(Int64($0))) } == [nil, 0, 1, 2, nil])
        #expect(inStep.forkRootRow(1) == 0)
        let outOfStep = try Inventory.parseCSV(csv(["1,a,project,s1,10,,0,0", "2,b,project,s1,10,,0,0", "9,c,project,s1,10,2,0,0", "3,d,project,s1,10,1,0,0"]), file: "inv.csv")
        #expect([1, 2, 3, 4, 9].map { outOfStep.row(of: RepositoryID(Int64($0))) } == [0, 1, 3, nil, 2])
        #expect(outOfStep.forkRootRow(2) == 1 && outOfStep.forkRootRow(3) == 0)
        let repeatedAfterSwitch = parseError(["1,a,project,s1,10,,0,0", "5,b,project,s1,10,,0,0", "1,c,project,s1,10,,0,0"])
        #expect(repeatedAfterSwitch == SpecError(file: "inv.csv", line: 4, field: "id", message: "duplicate repository id 1 (first given in row 1)"))
        let repeatedAtSwitch = parseError(["1,a,project,s1,10,,0,0", "2,b,project,s1,10,,0,0", "2,c,project,s1,10,,0,0"])
        #expect(repeatedAtSwitch == SpecError(file: "inv.csv", line: 4, field: "id", message: "duplicate repository id 2 (first given in row 2)"))
    }

    @Test func wrongHeaderAndFieldCountAreRejected() {
        do {
            _ = try Inventory.parseCSV(Array("id,path,kind\n1,a,project\n".utf8), file: "h.csv")
            Issue.record("accepted a wrong header")
        } catch let e as SpecError {
            #expect(e.line == 1 && e.field == "header")
        } catch { Issue.record("\(error)") }
        let short = parseError(["1,a,project,s1,10,,0"])
        #expect(short?.line == 2 && short?.message == "expected 8 fields, got 7")
    }

    @Test func jsonReaderNamesRowAndField() {
        let text = """
            {"repositories": [
            {"id": 1, "path": "a", "kind": "project", "storage": "s1", "size_bytes": 5, "fork_root": null, "reads_per_day": 0, "writes_per_day": 0},
            {"id": 2, "path": "b", "kind": "project", "storage": "s1", "size_bytes": -1, "fork_root": null, "reads_per_day": 0, "writes_per_day": 0}
            ]}
            """
        do {
            _ = try Inventory.parseJSON(text, file: "inv.json")
            Issue.record("accepted a negative size")
        } catch let e as SpecError {
            #expect(e == SpecError(file: "inv.json", line: 3, field: "repositories[1].size_bytes", message: "a size is at least 0 bytes, got -1"))
        } catch { Issue.record("\(error)") }
        do {
            _ = try Inventory.parseJSON("{\"repositories\": [{\"id\": 1, \"colour\": 2}]}", file: "u.json")
            Issue.record("accepted an unknown field")
        } catch let e as SpecError {
            #expect(e.field == "repositories[0].colour" && e.line == 1)
        } catch { Issue.record("\(error)") }
    }
}
