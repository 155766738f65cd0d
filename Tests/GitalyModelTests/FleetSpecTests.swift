import Testing
import Foundation
@testable import GitalyModel
import SpecFiles

func loadError(_ text: String) -> SpecError? {
    do { _ = try Fleet.build(FleetSpec.parse(text, file: "models/x.yaml")); return nil } catch let e as SpecError { return e } catch { return nil }
}

@Test func unitsParseDecimalBinaryAndBits() {
    let tebibyte: Double = 1024 * 1024 * 1024 * 1024
    #expect(Units.bytes("2TiB") == 2 * tebibyte)
    #expect(Units.bytes("500GB") == 500e9)
    #expect(Units.bytes("1024") == 1024)
    #expect(Units.bytesPerSecond("400MB/s") == 400e6)
    #expect(Units.bytesPerSecond("10Gbit/s") == 1.25e9)
    #expect(Units.seconds("250ms") == 0.25)
    #expect(Units.seconds("5m") == 300)
    #expect(Units.seconds("2h") == 7200)
    #expect(Units.bytes("fast") == nil)
    #expect(Units.bytesPerSecond("400MB") == nil, "a rate needs /s")
    #expect(Units.seconds("30") == nil, "a duration needs a unit")
}

@Test func validClusterModelBuildsWithDefaults() throws {
    let fleet = try Fleet.build(FleetSpec.parse(clusterYAML, file: "m.yaml"))
    #expect(fleet.nodes.count == 3 && fleet.storages.count == 3)
    #expect(fleet.virtualStorages.count == 1)
    #expect(fleet.virtualStorages[0].replicationFactor == 3)
    #expect(fleet.virtualStorages[0].weight == 100, "GitLab's default weights give `default` 100")
    #expect(fleet.praefect?.replication.batchSize == 10)
    #expect(fleet.praefect?.health.consensusWindowSeconds == 10)
    #expect(fleet.nodes[0].disk.writeBytesPerSecond == 200e6)
}

@Test func badRateNamesFileLineAndField() {
    let e = loadError(clusterYAML.replacingOccurrences(of: "readBandwidth: 400MB/s", with: "readBandwidth: fast"))
    #expect(e?.description == #"models/x.yaml:12: nodes[2].disk.readBandwidth: expected a rate like "400MB/s", got "fast""#)
}

@Test func unknownFieldIsRejected() {
    let e = loadError(clusterYAML.replacingOccurrences(of: "  - name: n2\n", with: "  - name: n2\n    cpus: 4\n"))
    #expect(e?.line == 7)
    #expect(e?.field == "nodes[1].cpus")
    #expect(e?.message.hasPrefix("unknown field") == true)
}

@Test func wrongTypeIsRejected() {
    let e = loadError(clusterYAML.replacingOccurrences(of: "replicationFactor: 3", with: "replicationFactor: three"))
    #expect(e?.field == "praefect.virtualStorages[0].replicationFactor")
    #expect(e?.line == 19)
}

@Test func yamlSyntaxErrorCarriesItsLine() {
    let e = loadError("name: t\nnodes:\n  - name: [n1\n")
    #expect(e != nil)
    #expect(e?.message.hasPrefix("YAML syntax error") == true)
    #expect(e?.line != nil)
}

@Test func replicationFactorAboveStorageCountIsABuildError() {
    let e = loadError(clusterYAML.replacingOccurrences(of: "replicationFactor: 3", with: "replicationFactor: 4"))
    #expect(e?.field == "praefect.virtualStorages[0].replicationFactor")
    #expect(e?.message == "virtual storage default: replication factor 4 exceeds its 3 storages")
    #expect(e?.line == 17, "the line of the virtual storage that is wrong")
}

@Test func replicaOnUnknownStorageIsABuildError() {
    let e = loadError(clusterYAML.replacingOccurrences(of: "storages: [s1, s2, s3]", with: "storages: [s1, s2, s9]"))
    #expect(e?.field == "praefect.virtualStorages[0].storages[2]")
    #expect(e?.message.hasPrefix("virtual storage default: unknown storage \"s9\"") == true)
    let repo = loadError(clusterYAML + "\nrepositories:\n  - {path: a.git, storage: default, replicas: [s1, s7]}\n")
    #expect(repo?.field == "repositories[0].replicas[1]")
    #expect(repo?.message == "repository a.git: replica on unknown storage \"s7\"")
}

@Test func negativeCapacityAndBandwidthAreBuildErrors() {
    let cap = loadError(clusterYAML.replacingOccurrences(of: "{name: s2, capacity: 1TB}", with: "{name: s2, capacity: -1TB}"))
    #expect(cap?.field == "nodes[1].storages[0].capacity")
    #expect(cap?.message.hasPrefix("storage s2: must be at least 0") == true)
    let bw = loadError(clusterYAML.replacingOccurrences(of: "readBandwidth: 400MB/s", with: "readBandwidth: -400MB/s"))
    #expect(bw?.field == "nodes[2].disk.readBandwidth")
    #expect(bw?.message == "node n3: must be at least 0, got -400MB/s")
}

@Test func weightOnUnknownStorageIsABuildError() {
    let e = loadError(clusterYAML + "\ngitlab:\n  weights: {default: 50, nfs-file09: 10}\n")
    #expect(e?.field == "gitlab.weights.nfs-file09")
}

@Test(arguments: ["gitaly-cluster-3.yaml", "sharded-vms.yaml", "k8s-pods.yaml", "vms-and-pods.yaml", "two-sites.yaml", "gitlab-com.yaml"])
func shippedModelsBuild(file: String) throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models/\(file)").path
    let fleet = try Fleet.build(FleetSpec.load(path: path))
    #expect(!fleet.nodes.isEmpty)
    if file == "gitaly-cluster-3.yaml" {
        #expect(fleet.praefects.count == 3 && fleet.virtualStorages[0].replicationFactor == 3 && fleet.praefect?.queue == .postgres)
    }
    if file == "k8s-pods.yaml" { #expect(fleet.nodes.allSatisfy { $0.host.kind == .pod }) }
    if file == "gitlab-com.yaml" {
        // 110 VMs at 70% of 16 TB, 110 empty pods, dealt over three zones.
        #expect(fleet.nodes.count == 220 && fleet.nodes.filter { $0.host.kind == .pod }.count == 110 && fleet.zones.count == 3)
        #expect(fleet.storages.first?.name == "nfs-file001" && fleet.storages[109].name == "nfs-file110" && fleet.storages[110].name == "gitaly-pod-001")
        #expect(fleet.storages.prefix(110).allSatisfy { $0.initialUsedBytes == 0.7 * $0.capacityBytes && $0.capacityBytes == 16e12 })
    }
}

/// Goal: a `count` entry makes that many nodes, `{n}` numbering node and storage names from 1,
/// zero-padded to the count's digits, and a zone list dealt round-robin; a count without `{n}`
/// in a name (two nodes or storages would share it) is an error naming the field's line.
/// Method: count 12 over three zones, checked name by name against the hand-written list.
@Test func aCountedNodeEntryMakesNumberedNodesOverItsZones() throws {
    let text = """
        name: counted
        nodes:
          - name: vm-{n}
            count: 12
            zone: [a, b, c]
            cpuCores: 32
            storages:
              - {name: "file-{n}", capacity: 16TB, used: 1TB}
          - name: solo
            storages: [{name: solo, capacity: 1TB}]
        """
    let fleet = try Fleet.build(FleetSpec.parse(text, file: "m.yaml"))
    #expect(fleet.nodes.map(\.name) == ["vm-01", "vm-02", "vm-03", "vm-04", "vm-05", "vm-06", "vm-07", "vm-08", "vm-09", "vm-10", "vm-11", "vm-12", "solo"])
    #expect(fleet.storages.map(\.name).prefix(3) == ["file-01", "file-02", "file-03"] && fleet.storages[11].name == "file-12")
    #expect(fleet.nodes.prefix(12).map { fleet.zones[$0.zone] } == ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c"])
    #expect(fleet.nodes.prefix(12).allSatisfy { $0.cpuCores == 32 } && fleet.storages.prefix(12).allSatisfy { $0.initialUsedBytes == 1e12 })
    #expect(loadError("name: x\nnodes:\n  - name: vm\n    count: 2\n    storages: [{name: \"f{n}\", capacity: 1TB}]\n")?.description
            == "models/x.yaml:3: nodes[0].name: a node entry with count needs {n} in its name, for one name per node")
    #expect(loadError("name: x\nnodes:\n  - name: vm{n}\n    count: 2\n    storages: [{name: f, capacity: 1TB}]\n")?.description
            == "models/x.yaml:5: nodes[0].storages[0]: a storage of a node entry with count needs {n} in its name, for one name per storage")
    #expect(loadError("name: x\nnodes:\n  - name: vm{n}\n    count: 0\n    storages: [{name: \"f{n}\", capacity: 1TB}]\n")?.field == "nodes[0].count")
}
