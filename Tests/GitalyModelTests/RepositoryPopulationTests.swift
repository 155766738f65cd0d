import SimKernel
import SpecFiles
import Testing
@testable import GitalyModel

/// A population in columns places repositories exactly as the same repositories written as
/// `RepositorySpec`s do: the same records (storage, replicas drawn from the same stream,
/// primary, size), paths and storage fill. Method: 40 repositories of mixed sizes on the
/// three-node cluster and a plain storage beside it, once as specs and once as 5 specs then a
/// population of 35 (whose paths the world shares with the fleet); then a repository created
/// in each world: its path follows the others.
@Test func aPopulationPlacesRepositoriesAsTheirSpecsWould() throws {
    let yaml = clusterYAML.replacingOccurrences(of: "    storages: [{name: s3, capacity: 1TB}]", with: """
            storages: [{name: s3, capacity: 1TB}]
          - name: n4
            zone: zone-a
            storages: [{name: plain, capacity: 1TB}]
        """)
    let base = try FleetSpec.parse(yaml, file: "c4.yaml")
    struct Row { var path: String; var storage: String; var size: Double }
    let rows: [Row] = (0..<40).map { (i: Int) -> Row in
        Row(path: "group/p-\(i).git", storage: i % 3 == 0 ? "plain" : "default", size: Double(1 + i * i) * 1e6)
    }
    var bySpec = base
    bySpec.repositories = rows.map { RepositorySpec(path: $0.path, storage: $0.storage, sizeBytes: $0.size) }
    var byColumns = base
    byColumns.repositories = Array(bySpec.repositories.prefix(5))
    byColumns.population = population(rows.dropFirst(5).map { ($0.path, $0.storage == "default" ? 0 : 1, $0.size) }, storageNames: ["default", "plain"])

    var a = World(fleet: try Fleet.build(bySpec), config: WorldConfig(seed: 7))
    var b = World(fleet: try Fleet.build(byColumns), config: WorldConfig(seed: 7))
    #expect(a.repositories.count == 40 && b.repositories.count == 40)
    #expect(a.repositories == b.repositories)
    #expect(Array(a.repositoryPaths) == rows.map { $0.path } && Array(b.repositoryPaths) == rows.map { $0.path })
    #expect(try a.createRepository(path: "group/new.git", sizeBytes: 1e6, at: .zero).result.get() == 40)
    #expect(try b.createRepository(path: "group/new.git", sizeBytes: 1e6, at: .zero).result.get() == 40)
    #expect(Array(a.repositoryPaths) == rows.map { $0.path } + ["group/new.git"] && Array(b.repositoryPaths) == Array(a.repositoryPaths))
    #expect(b.repositoryPaths.bytes(40).elementsEqual("group/new.git".utf8) && b.repositoryPaths.bytes(5).elementsEqual(rows[5].path.utf8))
    #expect(a.storageUsedBytes == b.storageUsedBytes)
    // The plain storage holds the 14 repositories of rows 0, 3, …, 39, on top of what it held.
    let plain = try #require(b.fleet.storage(named: "plain"))
    let expected = rows.filter { $0.storage == "plain" }.map { $0.size }.reduce(0, +)
    #expect(abs(b.storageUsedBytes[plain] - b.fleet.storages[plain].initialUsedBytes - expected) < 1)
}

/// A repeated path is found without a string per row, and found the same when every path
/// shares one hash (the collision branch, which a 64-bit hash never reaches in a test).
/// Method: repeats at the start, after 2,000 distinct rows, and prefixes that are not repeats,
/// each with the real hash and with a constant one.
@Test func aRepeatedPathIsFoundWhereverItIs() {
    func population(_ paths: [String]) -> RepositoryPopulation { GitalyModelTests.population(paths.map { ($0, 0, 1) }, storageNames: ["s"]) }
    let distinct = (0..<2_000).map { "g/r\($0).git" }
    for hash in [RepositoryPopulation.hash, { _ in 42 }] as [(ArraySlice<UInt8>) -> Int] {
        #expect(population(distinct).firstRepeatedPath(hash: hash) == nil)
        #expect(population(["a", "a"]).firstRepeatedPath(hash: hash).map { [$0.row, $0.earlier] } == [1, 0])
        #expect(population(distinct + ["g/r17.git"]).firstRepeatedPath(hash: hash).map { [$0.row, $0.earlier] } == [2_000, 17])
        #expect(population(["x", "y", "z", "y"]).firstRepeatedPath(hash: hash).map { [$0.row, $0.earlier] } == [3, 1])
        // A prefix is not a repeat: where each path ends counts, not only the bytes.
        #expect(population(["ab", "a", "b", "abc"]).firstRepeatedPath(hash: hash) == nil)
    }
}

/// A population names its errors: an unknown storage, a negative size, a path used twice
/// (within it, or by a repository placed by hand), each with the field.
@Test func aBadPopulationIsRefusedWithItsField() throws {
    let base = try FleetSpec.parse(clusterYAML, file: "c3.yaml")
    func refusal(_ change: (inout FleetSpec) -> Void) -> String? {
        var spec = base
        change(&spec)
        do { _ = try Fleet.build(spec); return nil } catch { return "\(error)" }
    }
    func rows(_ storages: [String], _ entries: [(String, Int32, Double)]) -> RepositoryPopulation { population(entries, storageNames: storages) }
    #expect(refusal { $0.population = rows(["default"], [("a.git", 0, 1)]) } == nil)
    #expect(refusal { $0.population = rows(["default", "nowhere"], [("a.git", 0, 1)]) } == "c3.yaml: repositories.storage: unknown storage \"nowhere\"")
    #expect(refusal { $0.population = rows(["default"], [("a.git", 0, 1), ("b.git", 0, -5)]) } == "c3.yaml: repositories.size: repository b.git: size must be at least 0, got -5.0")
    #expect(refusal { $0.population = rows(["default"], [("a.git", 0, 1), ("a.git", 0, 2)]) } == "c3.yaml: repositories.path: repository name \"a.git\" is used twice")
    #expect(refusal {
        $0.repositories = [RepositorySpec(path: "b.git", storage: "default")]
        $0.population = rows(["default"], [("a.git", 0, 1), ("b.git", 0, 2)])
    } == "c3.yaml: repositories.path: repository name \"b.git\" is used twice")
}

/// A population of (path, storage index, size) rows.
func population(_ rows: [(String, Int32, Double)], storageNames: [String]) -> RepositoryPopulation {
    var paths = PathList()
    for r in rows { paths.append(r.0) }
    return RepositoryPopulation(paths: paths, storageNames: storageNames, storages: rows.map(\.1), sizeBytes: rows.map(\.2))
}
