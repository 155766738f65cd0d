import SimKernel
@testable import GitalyModel

/// The three-node cluster the tests start from, in the shape of `models/gitaly-cluster-3.yaml`
/// (one node and one Praefect per zone). Tests that break the model replace one of its lines.
let clusterYAML = """
name: c3
nodes:
  - name: n1
    zone: zone-a
    storages: [{name: s1, capacity: 1TB}]
  - name: n2
    zone: zone-b
    storages: [{name: s2, capacity: 1TB}]
  - name: n3
    zone: zone-c
    disk:
      readBandwidth: 400MB/s
    storages: [{name: s3, capacity: 1TB}]
praefect:
  instances: [{name: p1, zone: zone-a}, {name: p2, zone: zone-b}, {name: p3, zone: zone-c}]
  virtualStorages:
    - name: default
      storages: [s1, s2, s3]
      replicationFactor: 3
      consistency: strong
"""

/// The cluster with one repository whose primary is on n1, in `consistency` mode, with a
/// fault schedule (lines of `faults.schedule`, indented four spaces) and `praefect` lines
/// added to the Praefect section (indented two spaces).
func clusterFleet(consistency: ConsistencyMode, faults: String, praefect: String = "", repositories: String? = nil) throws -> Fleet {
    var yaml = clusterYAML.replacingOccurrences(of: "consistency: strong", with: "consistency: \(consistency.rawValue)")
    if !praefect.isEmpty { yaml += "\n" + praefect }
    yaml += "\nrepositories:\n" + (repositories ?? "  - {path: r.git, storage: default, size: 10MB, replicas: [s1, s2, s3], primary: s1}")
    if !faults.isEmpty { yaml += "\nfaults:\n  schedule:\n" + faults }
    return try Fleet.build(FleetSpec.parse(yaml, file: "c3.yaml"))
}

/// Fault-schedule lines cutting n2 and n3 off from every Praefect at `at` for `duration`
/// (for good when nil): writes then reach n1 alone.
func secondariesCutOff(at: String, duration: String? = nil) -> [String] {
    var lines: [String] = []
    for p in ["p1", "p2", "p3"] {
        for n in ["n2", "n3"] { lines.append("    - {at: \(at), kind: partition, target: \(n), praefect: \(p)\(duration.map { ", duration: \($0)" } ?? "")}") }
    }
    return lines
}
