/// A summary of an inventory: how many repositories, how many bytes, how sizes spread, and
/// where the bytes sit (by kind, by storage, in the largest fork networks). Groups are listed
/// in a fixed order (kinds in declaration order, storages by name, networks by bytes then root
/// id), so the summary prints the same every time.
public struct InventoryStats: Equatable, Sendable {
    public struct Group: Equatable, Sendable {
        public var name: String
        public var count: Int
        public var bytes: Int64
    }
    public struct ForkNetwork: Equatable, Sendable {
        public var root: RepositoryID
        /// Root and forks.
        public var members: Int
        public var bytes: Int64
    }

    public var count: Int
    public var totalBytes: Int64
    /// (probability, size in bytes) for the 50th, 90th, 99th and 99.9th percentiles, the
    /// nearest-rank definition; plus the largest.
    public var sizeQuantiles: [(p: Double, bytes: Int64)]
    public var largestBytes: Int64
    public var byKind: [Group]
    public var byStorage: [Group]
    public var largestForkNetworks: [ForkNetwork]
    public var forkNetworkCount: Int

    public static func == (a: InventoryStats, b: InventoryStats) -> Bool {
        a.count == b.count && a.totalBytes == b.totalBytes && a.largestBytes == b.largestBytes
            && a.sizeQuantiles.map(\.p) == b.sizeQuantiles.map(\.p) && a.sizeQuantiles.map(\.bytes) == b.sizeQuantiles.map(\.bytes)
            && a.byKind == b.byKind && a.byStorage == b.byStorage && a.largestForkNetworks == b.largestForkNetworks
            && a.forkNetworkCount == b.forkNetworkCount
    }

    public static let quantileLevels = [0.5, 0.9, 0.99, 0.999]

    public init(_ inv: Inventory, networksListed: Int = 10) {
        count = inv.count
        totalBytes = inv.sizeBytes.reduce(0, &+)
        let sorted = inv.sizeBytes.sorted()
        sizeQuantiles = Self.quantileLevels.map { p in (p, sorted.isEmpty ? 0 : sorted[Self.nearestRank(p, sorted.count)]) }
        largestBytes = sorted.last ?? 0

        var kindCount = [Int](repeating: 0, count: RepositoryKind.allCases.count)
        var kindBytes = [Int64](repeating: 0, count: RepositoryKind.allCases.count)
        var storageCount = [Int](repeating: 0, count: inv.storageNames.count)
        var storageBytes = [Int64](repeating: 0, count: inv.storageNames.count)
        var networkMembers = [Int32](repeating: 0, count: inv.count)
        var networkBytes = [Int64](repeating: 0, count: inv.count)
        for row in 0..<inv.count {
            let k = Int(inv.kinds[row].rawValue), s = Int(inv.storages[row].rawValue), b = inv.sizeBytes[row]
            kindCount[k] += 1; kindBytes[k] += b
            storageCount[s] += 1; storageBytes[s] += b
            if let r = inv.forkRootRow(row) {
                if networkMembers[r] == 0 { networkMembers[r] = 1; networkBytes[r] = inv.sizeBytes[r] }
                networkMembers[r] += 1; networkBytes[r] += b
            }
        }
        byKind = RepositoryKind.allCases.map { Group(name: $0.name, count: kindCount[Int($0.rawValue)], bytes: kindBytes[Int($0.rawValue)]) }
        byStorage = inv.storageNames.names.indices
            .map { Group(name: inv.storageNames.names[$0], count: storageCount[$0], bytes: storageBytes[$0]) }
            .sorted { $0.name < $1.name }
        let networks = (0..<inv.count).filter { networkMembers[$0] > 0 }
        forkNetworkCount = networks.count
        largestForkNetworks = networks
            .map { ForkNetwork(root: inv.ids[$0], members: Int(networkMembers[$0]), bytes: networkBytes[$0]) }
            .sorted { ($0.bytes, $1.root) > ($1.bytes, $0.root) }
            .prefix(networksListed).map { $0 }
    }

    /// The 0-based index of the nearest-rank p-quantile of n sorted values: ⌈p·n⌉ − 1.
    public static func nearestRank(_ p: Double, _ n: Int) -> Int {
        max(0, min(n - 1, Int((p * Double(n)).rounded(.up)) - 1))
    }
}
