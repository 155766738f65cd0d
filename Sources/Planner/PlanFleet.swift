/// The fleet as the planner sees it: GitLab storages with capacity, fill and weight, and tags
/// to select them by. The command line maps a fleet model onto it; no simulator type enters.
public struct PlanFleet: Equatable, Sendable {
    public var storages: [PlanStorage]
    public init(storages: [PlanStorage]) { self.storages = storages }
    public func index(of name: String) -> Int? { storages.firstIndex { $0.name == name } }
}

public struct PlanStorage: Equatable, Sendable {
    public var name: String
    public var capacityBytes: Double
    public var usedBytes: Double
    /// `repository_storages_weighted` today, 0–100 (PRAEFECT.md §8).
    public var weight: Int
    /// What hosts it, e.g. `vm` or `pod`; selectable as `kind:pod`.
    public var kind: String
    /// Where it runs, e.g. a zone; selectable as `site:zone-a`.
    public var site: String

    public init(name: String, capacityBytes: Double, usedBytes: Double, weight: Int, kind: String = "", site: String = "") {
        self.name = name
        self.capacityBytes = capacityBytes
        self.usedBytes = usedBytes
        self.weight = weight
        self.kind = kind
        self.site = site
    }
}
