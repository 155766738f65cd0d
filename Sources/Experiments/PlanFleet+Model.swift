import GitalyModel
import Planner

/// The planner's view of a fleet model: one planner storage per GitLab storage (a Praefect
/// virtual storage, or a plain Gitaly storage), with its weight and tags. Lives here so that no
/// simulator type enters the Planner module (and one bridge serves the CLI and the runner).
extension PlanFleet {
    public init(_ fleet: Fleet) {
        self.init(storages: fleet.virtualStorages.map { v in
            let members = v.members.map { fleet.storages[$0] }
            let node = fleet.nodes[members[0].node]
            // A virtual storage keeps `replicationFactor` copies of each repository spread over
            // its members, so it holds about the members' total divided by that factor.
            let copies = Double(v.replicationFactor)
            return PlanStorage(
                name: v.name,
                capacityBytes: members.reduce(0) { $0 + $1.capacityBytes } / copies,
                usedBytes: members.reduce(0) { $0 + $1.initialUsedBytes } / copies,
                weight: v.weight, kind: node.host.kind.rawValue, site: fleet.zones[node.zone])
        })
    }
}
