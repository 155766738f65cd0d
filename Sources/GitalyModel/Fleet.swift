import SpecFiles
/// A validated fleet with names interned to integer ids, ready for the event loop.
///
/// `build` checks everything a model can get wrong beyond its syntax, and names the object and
/// field: a virtual storage naming an unknown storage, a replication factor above the storage
/// count, a negative capacity or bandwidth, a weight outside 0–100. No check is left for the run.
public struct Fleet: Sendable {
    public struct Node: Sendable {
        public var name: String
        public var zone: Int
        /// Index into `Fleet.sites`.
        public var site: Int = 0
        public var host: HostSpec
        public var cpuCores: Int
        public var disk: DiskSpec
        public var networkBytesPerSecond: Double
        public var storages: [Int]
        /// Indexed by `RPCClass` declaration order; nil: that class is not limited.
        public var limits: [ConcurrencyLimitSpec?]
        /// Index into `Fleet.releases`: the release it runs at the start.
        public var release: Int = 0
    }
    public struct Storage: Sendable {
        public var name: String
        public var node: Int
        public var capacityBytes: Double
        public var initialUsedBytes: Double
    }
    /// A storage as GitLab sees it: a Praefect virtual storage, or a plain Gitaly storage, which
    /// the model treats as a virtual storage of one member reached without Praefect.
    public struct VirtualStorage: Sendable {
        public var name: String
        public var members: [Int]
        /// Resolved: never 0 (0 in the file means every member, gitaly `config/config.go`).
        public var replicationFactor: Int
        public var consistency: ConsistencyMode
        public var viaPraefect: Bool
        /// `repository_storages_weighted` for this storage.
        public var weight: Int
    }

    public let name: String
    public let file: String
    public let nodes: [Node]
    public let storages: [Storage]
    public let virtualStorages: [VirtualStorage]
    public let zones: [String]
    /// The sites (data centres) of the nodes, in order of first appearance.
    public let sites: [String]
    /// Links between sites, by the two site indices (lower first).
    public let links: [Link]
    public let praefects: [PraefectInstanceSpec]
    public let praefectZones: [Int]
    public let praefect: PraefectSpec?
    public let gitlab: GitLabSpec
    public let faults: FaultSpec
    public let repositories: [RepositorySpec]
    /// Repositories placed from an inventory, after `repositories`.
    public private(set) var population: RepositoryPopulation?
    /// Every release a node runs or a rolling update names: those `faults.releases` declares,
    /// then the nodes' others (good ones), in order of first appearance.
    public let releases: [ReleaseSpec]

    public func release(named name: String) -> Int? { releases.firstIndex { $0.name == name } }

    public var isCluster: Bool { praefect != nil }

    /// This fleet with its population laid out in `order` (`RepositoryPopulation.laidOut`).
    public func layingOutPopulation(in order: [Int32], positions: [Int32], storages: [Int32], sizeBytes: [Double]) -> Fleet {
        precondition(population != nil, "a layout needs a population")
        var copy = self
        copy.population = population!.laidOut(in: order, positions: positions, storages: storages, sizeBytes: sizeBytes)
        return copy
    }

    public struct Link: Sendable {
        public var sites: (Int, Int)
        public var bytesPerSecond: Double
    }

    /// The link a transfer between nodes `a` and `b` crosses, if they are at different sites
    /// joined by one.
    @inline(__always)
    public func link(between a: Int, _ b: Int) -> Int? {
        let (x, y) = (nodes[a].site, nodes[b].site)
        guard x != y else { return nil }
        let key = (min(x, y), max(x, y))
        return links.firstIndex { $0.sites == key }
    }

    public func node(named name: String) -> Int? { nodes.firstIndex { $0.name == name } }
    public func storage(named name: String) -> Int? { storages.firstIndex { $0.name == name } }
    public func virtualStorage(named name: String) -> Int? { virtualStorages.firstIndex { $0.name == name } }
    public func praefect(named name: String) -> Int? { praefects.firstIndex { $0.name == name } }

    public static func build(_ model: FleetSpec) throws -> Fleet {
        var v = Validator(file: model.file)
        return try v.build(model)
    }

    init(model: FleetSpec, nodes: [Node], storages: [Storage], virtualStorages: [VirtualStorage], zones: [String], praefectZones: [Int],
         sites: [String] = ["default"], links: [Link] = [], releases: [ReleaseSpec] = [ReleaseSpec(name: "")]) {
        self.releases = releases
        self.sites = sites
        self.links = links
        name = model.name
        file = model.file
        self.nodes = nodes
        self.storages = storages
        self.virtualStorages = virtualStorages
        self.zones = zones
        praefects = model.praefect?.instances ?? []
        self.praefectZones = praefectZones
        praefect = model.praefect
        gitlab = model.gitlab
        faults = model.faults
        repositories = model.repositories
        population = model.population
    }
}

/// The build-time checks, kept apart from the fleet's shape.
struct Validator {
    let file: String

    func fail(_ src: SourceLine, _ field: String, _ message: String) -> SpecError {
        let path = [src.path, field].filter { !$0.isEmpty }.joined(separator: ".")
        return SpecError(file: file, line: src.line, field: path, message: message)
    }

    func nonNegative(_ x: Double, _ src: SourceLine, _ field: String, _ object: String, format: (Double) -> String) throws {
        guard x >= 0 else { throw fail(src, field, "\(object): must be at least 0, got \(format(x))") }
    }

    /// A count that the run turns into workers, queue slots or threads: refused past `range`,
    /// with the limit in the message, before it can exhaust memory or never finish.
    func within(_ value: Int, _ range: ClosedRange<Int>, _ src: SourceLine, _ field: String, _ object: String) throws {
        guard range.contains(value) else {
            throw fail(src, field, "\(object): must be \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
    }

    /// Upper bounds of the counts a model gives (ASSUMED: each far above any real fleet's
    /// setting, e.g. Praefect's default of 1 worker and batches of 10, gitaly `replicator.go`,
    /// and far below what would allocate gigabytes per storage or loop for hours).
    enum Limit {
        static let cpuCores = 1...4096
        static let maxPerRepo = 1...1_000_000
        static let maxQueueSize = 0...1_000_000
        static let batchSize = 1...10_000
        static let workersPerVirtualStorage = 1...1024
        static let attempts = 1...1000
        static let sidekiqConcurrency = 1...10_000
        static let pushWaitPolls = 0...1000
    }

    /// Linear in the names (a hashed set): a model may place tens of thousands of repositories.
    func unique(_ names: [(String, SourceLine)], kind: String) throws {
        var seen = Set<String>(minimumCapacity: names.count)
        for (n, src) in names where !seen.insert(n).inserted {
            throw fail(src, "name", "\(kind) name \"\(n)\" is used twice")
        }
    }

    mutating func build(_ model: FleetSpec) throws -> Fleet {
        guard !model.nodes.isEmpty else { throw fail(model.nodesSource, "", "a fleet needs at least one node") }
        try unique(model.nodes.map { ($0.name, $0.source) }, kind: "node")
        try unique(model.nodes.flatMap { n in n.storages.map { ($0.name, $0.source) } }, kind: "storage")
        var zones: [String] = []
        func zoneID(_ z: String) -> Int {
            if let i = zones.firstIndex(of: z) { return i }
            zones.append(z)
            return zones.count - 1
        }
        var nodes: [Fleet.Node] = []
        var storages: [Fleet.Storage] = []
        var sites: [String] = []
        for n in model.nodes {
            let object = "node \(n.name)"
            guard n.cpuCores >= 1 else { throw fail(n.source, "cpuCores", "\(object): needs at least 1 core, got \(n.cpuCores)") }
            try within(n.cpuCores, Limit.cpuCores, n.source, "cpuCores", object)
            try nonNegative(n.disk.readBytesPerSecond, n.source, "disk.readBandwidth", object, format: Units.formatRate)
            try nonNegative(n.disk.writeBytesPerSecond, n.source, "disk.writeBandwidth", object, format: Units.formatRate)
            try nonNegative(n.networkBytesPerSecond, n.source, "network.bandwidth", object, format: Units.formatRate)
            for (field, t) in [("startTime", n.host.startSeconds), ("stopTime", n.host.stopSeconds), ("rebootTime", n.host.rebootSeconds),
                               ("restartDelay", n.host.restartDelaySeconds), ("readinessDelay", n.host.readinessDelaySeconds),
                               ("volumeAttachTime", n.host.volumeAttachSeconds)] {
                try nonNegative(t, n.source, "host.\(field)", object) { "\($0)s" }
            }
            guard !n.storages.isEmpty else { throw fail(n.source, "storages", "\(object): needs at least one storage") }
            var ids: [Int] = []
            for s in n.storages {
                let so = "storage \(s.name)"
                try nonNegative(s.capacityBytes, s.source, "capacity", so, format: Units.formatBytes)
                try nonNegative(s.usedBytes, s.source, "used", so, format: Units.formatBytes)
                guard s.usedBytes <= s.capacityBytes else {
                    throw fail(s.source, "used", "\(so): \(Units.formatBytes(s.usedBytes)) used exceeds its capacity of \(Units.formatBytes(s.capacityBytes))")
                }
                ids.append(storages.count)
                storages.append(Fleet.Storage(name: s.name, node: nodes.count, capacityBytes: s.capacityBytes, initialUsedBytes: s.usedBytes))
            }
            var limits = [ConcurrencyLimitSpec?](repeating: nil, count: RPCClass.allCases.count)
            for l in n.limits {
                guard l.maxPerRepo >= 1 else { throw fail(l.source, "maxPerRepo", "\(object): must be at least 1, got \(l.maxPerRepo)") }
                try within(l.maxPerRepo, Limit.maxPerRepo, l.source, "maxPerRepo", object)
                if let q = l.maxQueueSize, q < 0 { throw fail(l.source, "maxQueueSize", "\(object): must be at least 0, got \(q)") }
                if let q = l.maxQueueSize { try within(q, Limit.maxQueueSize, l.source, "maxQueueSize", object) }
                if let w = l.maxQueueWaitSeconds { try nonNegative(w, l.source, "maxQueueWait", object) { "\($0)s" } }
                let i = RPCClass.allCases.firstIndex(of: l.rpc)!
                guard limits[i] == nil else { throw fail(l.source, "rpc", "\(object): a second limit for \(l.rpc.rawValue)") }
                limits[i] = l
            }
            if !sites.contains(n.site) { sites.append(n.site) }
            nodes.append(Fleet.Node(name: n.name, zone: zoneID(n.zone), site: sites.firstIndex(of: n.site)!, host: n.host, cpuCores: n.cpuCores, disk: n.disk,
                                    networkBytesPerSecond: n.networkBytesPerSecond, storages: ids, limits: limits))
        }
        func storageID(_ name: String) -> Int? { storages.firstIndex { $0.name == name } }

        var vstorages: [Fleet.VirtualStorage] = []
        var praefectZones: [Int] = []
        var clustered = Set<Int>()
        if let p = model.praefect {
            guard !p.instances.isEmpty else { throw fail(p.source, "instances", "praefect: needs at least one instance") }
            try unique(p.instances.map { ($0.name, $0.source) }, kind: "Praefect")
            praefectZones = p.instances.map { zoneID($0.zone) }
            guard !p.virtualStorages.isEmpty else { throw fail(p.source, "virtualStorages", "praefect: needs at least one virtual storage") }
            try unique(p.virtualStorages.map { ($0.name, $0.source) }, kind: "virtual storage")
            let r = p.replication
            for (field, value) in [("replication.batchSize", r.batchSize), ("replication.workersPerVirtualStorage", r.workersPerVirtualStorage), ("replication.attempts", r.attempts)] where value < 1 {
                throw fail(p.source, field, "praefect: must be at least 1, got \(value)")
            }
            try within(r.batchSize, Limit.batchSize, p.source, "replication.batchSize", "praefect")
            try within(r.workersPerVirtualStorage, Limit.workersPerVirtualStorage, p.source, "replication.workersPerVirtualStorage", "praefect")
            try within(r.attempts, Limit.attempts, p.source, "replication.attempts", "praefect")
            for vs in p.virtualStorages {
                let object = "virtual storage \(vs.name)"
                guard !vs.storages.isEmpty else { throw fail(vs.source, "storages", "\(object): needs at least one storage") }
                var members: [Int] = []
                for (i, s) in vs.storages.enumerated() {
                    guard let id = storageID(s) else {
                        throw fail(vs.source, "storages[\(i)]", "\(object): unknown storage \"\(s)\"; the nodes define \(SpecError.someNames(storages.map(\.name)))")
                    }
                    guard !clustered.contains(id) else { throw fail(vs.source, "storages[\(i)]", "\(object): storage \(s) already belongs to a virtual storage") }
                    clustered.insert(id)
                    members.append(id)
                }
                guard members.count <= 64 else { throw fail(vs.source, "storages", "\(object): at most 64 storages are supported, got \(members.count)") }
                guard vs.replicationFactor >= 0 else { throw fail(vs.source, "replicationFactor", "\(object): must be at least 0 (0 means every storage), got \(vs.replicationFactor)") }
                guard vs.replicationFactor <= members.count else {
                    throw fail(vs.source, "replicationFactor", "\(object): replication factor \(vs.replicationFactor) exceeds its \(members.count) storages")
                }
                vstorages.append(Fleet.VirtualStorage(name: vs.name, members: members, replicationFactor: vs.replicationFactor == 0 ? members.count : vs.replicationFactor,
                                                      consistency: vs.consistency, viaPraefect: true, weight: 0))
            }
        }
        for (id, s) in storages.enumerated() where !clustered.contains(id) {
            vstorages.append(Fleet.VirtualStorage(name: s.name, members: [id], replicationFactor: 1, consistency: .strong, viaPraefect: false, weight: 0))
        }
        try applyWeights(model.gitlab, to: &vstorages)
        let g = model.gitlab
        guard g.sidekiqConcurrency >= 1 else { throw fail(g.source, "sidekiqConcurrency", "gitlab: must be at least 1, got \(g.sidekiqConcurrency)") }
        try within(g.sidekiqConcurrency, Limit.sidekiqConcurrency, g.source, "sidekiqConcurrency", "gitlab")
        try within(g.pushWaitPolls, Limit.pushWaitPolls, g.source, "pushWaitPolls", "gitlab")
        guard (0...1).contains(g.apiErrorRate) else { throw fail(g.source, "apiErrorRate", "gitlab: must be within 0 and 1, got \(g.apiErrorRate)") }
        guard g.moveStreamBytesPerSecondMax > 0 else { throw fail(g.source, "moveStreamBandwidth", "gitlab: must be above 0, got \(g.moveStreamBytesPerSecondMax)") }
        guard g.moveSourceBytesPerCoreSecond > 0 else { throw fail(g.source, "moveSourceRatePerCore", "gitlab: must be above 0, got \(g.moveSourceBytesPerCoreSecond)") }
        guard g.moveDestinationBytesPerCoreSecond > 0 else { throw fail(g.source, "moveDestinationRatePerCore", "gitlab: must be above 0, got \(g.moveDestinationBytesPerCoreSecond)") }
        for (field, v) in [("checksumTime", g.checksumBaseSeconds), ("checksumTimePerRef", g.checksumSecondsPerRef), ("moveCleanupTime", g.cleanupSeconds)] where v < 0 {
            throw fail(g.source, field, "gitlab: must be at least 0, got \(v)")
        }
        guard g.sidekiqPickupSeconds >= 0 else { throw fail(g.source, "sidekiqPickup", "gitlab: must be at least 0, got \(g.sidekiqPickupSeconds)") }
        var links: [Fleet.Link] = []
        for (i, l) in model.links.enumerated() {
            let object = "link \(l.sites.joined(separator: "–"))"
            guard let a = sites.firstIndex(of: l.sites[0]), let b = sites.firstIndex(of: l.sites[1]) else {
                let unknown = l.sites.first { !sites.contains($0) }!
                throw fail(l.source, "between", "\(object): no node is at site \"\(unknown)\"; sites are \(sites.joined(separator: ", "))")
            }
            guard l.bytesPerSecond > 0 else { throw fail(l.source, "bandwidth", "\(object): must be above 0, got \(l.bytesPerSecond)") }
            let key = (min(a, b), max(a, b))
            guard !links.contains(where: { $0.sites == key }) else { throw fail(l.source, "between", "\(object): a second link between the same sites (links[\(i)])") }
            links.append(Fleet.Link(sites: key, bytesPerSecond: l.bytesPerSecond))
        }
        let releases = try buildReleases(model)
        for i in nodes.indices { nodes[i].release = releases.firstIndex { $0.name == model.nodes[i].release }! }
        let fleet = Fleet(model: model, nodes: nodes, storages: storages, virtualStorages: vstorages, zones: zones, praefectZones: praefectZones,
                          sites: sites, links: links, releases: releases)
        try checkFaults(model.faults, fleet)
        try checkRepositories(model.repositories, fleet)
        if let population = model.population { try checkPopulation(population, besides: model.repositories, fleet) }
        return fleet
    }

    func applyWeights(_ g: GitLabSpec, to vstorages: inout [Fleet.VirtualStorage]) throws {
        if g.weights.isEmpty {
            // GitLab's default: the storage named `default` takes every new repository
            // (docs.gitlab.com/ee/administration/repository_storage_paths.html).
            if let i = vstorages.firstIndex(where: { $0.name == "default" }) { vstorages[i].weight = 100 }
            return
        }
        for (name, weight) in g.weights {
            guard let i = vstorages.firstIndex(where: { $0.name == name }) else {
                throw fail(g.weightsSource, name, "gitlab weights: unknown storage \"\(name)\"; GitLab sees \(SpecError.someNames(vstorages.map(\.name)))")
            }
            guard (0...100).contains(weight) else { throw fail(g.weightsSource, name, "gitlab weights: a weight is 0 to 100, got \(weight)") }
            vstorages[i].weight = weight
        }
    }

    /// The declared releases (bad ones checked), then the nodes' undeclared ones, as good.
    func buildReleases(_ model: FleetSpec) throws -> [ReleaseSpec] {
        var releases = model.faults.releases
        try unique(releases.map { ($0.name, $0.source) }, kind: "release")
        for r in releases {
            let object = "release \(r.name)"
            guard (0...1).contains(r.errorRatio) else { throw fail(r.source, "errorRatio", "\(object): a probability is within 0 and 1, got \(r.errorRatio)") }
            guard r.latencyFactor > 0 else { throw fail(r.source, "latencyFactor", "\(object): must be above 0, got \(r.latencyFactor)") }
        }
        for n in model.nodes where !releases.contains(where: { $0.name == n.release }) { releases.append(ReleaseSpec(name: n.release)) }
        return releases
    }

    func checkFaults(_ f: FaultSpec, _ fleet: Fleet) throws {
        guard (0...1).contains(f.replicationJobFailureProbability) else {
            throw fail(f.source, "replicationJobFailure", "faults: a probability is within 0 and 1, got \(f.replicationJobFailureProbability)")
        }
        for rate in [f.nodeCrash, f.diskSlowdown, f.diskLoss, f.partition, f.praefectLoss, f.zoneOutage, f.databaseOutage].compactMap({ $0 }) where rate.mtbfSeconds <= 0 || rate.mttrSeconds < 0 {
            throw fail(f.source, "", "faults: mtbf must be above 0 and mttr at least 0")
        }
        // Only Praefect with `queue: postgres` has a database to lose.
        let hasDatabase = fleet.praefect.map { $0.queue == .postgres } ?? false
        if f.databaseOutage != nil, !hasDatabase {
            throw fail(f.source, "databaseOutage", "faults: needs Praefect with queue: postgres, the only part with a database")
        }
        for e in f.schedule {
            let object = "\(e.kind.rawValue) fault"
            if e.kind != .rollingUpdate {
                if e.release != nil { throw fail(e.source, "release", "\(object): only a rollingUpdate changes a release") }
                if e.canary != nil { throw fail(e.source, "canary", "\(object): only a rollingUpdate has a canary stage") }
            }
            if e.kind == .databaseOutage {
                guard e.target.isEmpty else { throw fail(e.source, "target", "\(object): takes no target (Praefect has one database)") }
                guard hasDatabase else { throw fail(e.source, "kind", "\(object): needs Praefect with queue: postgres, the only part with a database") }
                continue
            }
            if e.kind == .rollingUpdate {
                let pods = fleet.nodes.filter { $0.host.kind == .pod }.map(\.name)
                guard !pods.isEmpty else { throw fail(e.source, "kind", "\(object): the fleet has no pods to roll") }
                guard e.target.isEmpty || pods.contains(e.target) else { throw fail(e.source, "target", "\(object): \"\(e.target)\" is not a pod; pods are \(pods.joined(separator: ", "))") }
                if let r = e.release, fleet.release(named: r) == nil {
                    let known = fleet.releases.map { $0.name.isEmpty ? "\"\"" : $0.name }.joined(separator: ", ")
                    throw fail(e.source, "release", "\(object): unknown release \"\(r)\"; declare it under faults.releases (known: \(known))")
                }
                if let c = e.canary {
                    guard e.release != nil else { throw fail(c.source, "", "\(object): a canary stage needs the release it tries (release:)") }
                    let rolled = e.target.isEmpty ? pods.count : 1
                    guard (1...rolled).contains(c.pods) else { throw fail(c.source, "pods", "\(object): the canary takes 1 to \(rolled) of the pods rolled, got \(c.pods)") }
                    guard c.checks >= 1 else { throw fail(c.source, "checks", "\(object): must be at least 1, got \(c.checks)") }
                    guard c.threshold >= 1 else { throw fail(c.source, "threshold", "\(object): must be at least 1, got \(c.threshold)") }
                    guard (0...1).contains(c.errorRatioMax) else { throw fail(c.source, "errorRatioMax", "\(object): a ratio within 0 and 1, got \(c.errorRatioMax)") }
                }
                continue
            }

            guard !e.target.isEmpty else { throw fail(e.source, "target", "\(object): needs a target") }
            switch e.kind {
            case .nodeCrash, .diskSlowdown, .diskLoss, .podEviction, .partition, .gitalyPartition:
                guard fleet.node(named: e.target) != nil else { throw fail(e.source, "target", "\(object): unknown node \"\(e.target)\"") }
            case .zoneOutage:
                guard fleet.zones.contains(e.target) else { throw fail(e.source, "target", "\(object): unknown zone \"\(e.target)\"; zones are \(fleet.zones.joined(separator: ", "))") }
            case .praefectLoss:
                guard fleet.praefect(named: e.target) != nil else { throw fail(e.source, "target", "\(object): unknown Praefect \"\(e.target)\"") }
            case .databaseOutage, .rollingUpdate: break
            }
            if e.kind == .partition {
                guard let p = e.praefect, fleet.praefect(named: p) != nil else { throw fail(e.source, "praefect", "\(object): needs the name of a known Praefect") }
            }
            if e.kind == .gitalyPartition {
                guard let peer = e.peer, fleet.node(named: peer) != nil, peer != e.target else { throw fail(e.source, "peer", "\(object): needs the name of another known node") }
            }
            if e.kind == .diskSlowdown, !(e.factor > 0 && e.factor <= 1) { throw fail(e.source, "factor", "\(object): the bandwidth left is a fraction in (0, 1], got \(e.factor)") }
            if e.kind == .podEviction, fleet.nodes[fleet.node(named: e.target)!].host.kind != .pod {
                throw fail(e.source, "target", "\(object): node \(e.target) runs on a VM, not in a pod")
            }
        }
    }

    func checkRepositories(_ repos: [RepositorySpec], _ fleet: Fleet) throws {
        try unique(repos.map { ($0.path, $0.source) }, kind: "repository")
        for r in repos {
            let object = "repository \(r.path)"
            try nonNegative(r.sizeBytes, r.source, "size", object, format: Units.formatBytes)
            try nonNegative(r.parts.wikiBytes, r.source, "wikiSize", object, format: Units.formatBytes)
            try nonNegative(r.parts.designBytes, r.source, "designSize", object, format: Units.formatBytes)
            try nonNegative(r.parts.poolBytes, r.source, "poolSize", object, format: Units.formatBytes)
            guard r.parts.refs >= 0 else { throw fail(r.source, "refs", "\(object): refs must be at least 0, got \(r.parts.refs)") }
            guard let v = fleet.virtualStorage(named: r.storage) else { throw fail(r.source, "storage", "\(object): unknown storage \"\(r.storage)\"") }
            let vs = fleet.virtualStorages[v]
            for (i, name) in r.replicas.enumerated() {
                guard let s = fleet.storage(named: name) else { throw fail(r.source, "replicas[\(i)]", "\(object): replica on unknown storage \"\(name)\"") }
                guard vs.members.contains(s) else { throw fail(r.source, "replicas[\(i)]", "\(object): storage \(name) is not in virtual storage \(vs.name)") }
            }
            guard r.replicas.count <= vs.members.count, Set(r.replicas).count == r.replicas.count else {
                throw fail(r.source, "replicas", "\(object): replicas must name distinct storages of \(vs.name)")
            }
            if let p = r.primary, !(r.replicas.isEmpty ? vs.members.map({ fleet.storages[$0].name }) : r.replicas).contains(p) {
                throw fail(r.source, "primary", "\(object): primary \(p) is not one of its replicas")
            }
        }
    }
}

extension Validator {
    /// A population's storages exist, its sizes are at least 0 and no two repositories, placed
    /// by hand or in it, share a path. Linear in its rows.
    func checkPopulation(_ p: RepositoryPopulation, besides placed: [RepositorySpec], _ fleet: Fleet) throws {
        for name in p.storageNames where fleet.virtualStorage(named: name) == nil {
            throw fail(p.source, "storage", "unknown storage \"\(name)\"")
        }
        if let row = p.sizeBytes.firstIndex(where: { !($0 >= 0) }) {
            throw fail(p.source, "size", "repository \(p.paths[row]): size must be at least 0, got \(p.sizeBytes[row])")
        }
        if let (row, _) = p.firstRepeatedPath() {
            throw fail(p.source, "path", "repository name \"\(p.paths[row])\" is used twice")
        }
        let hand = Set(placed.map(\.path))
        if !hand.isEmpty, let row = p.paths.firstIndex(where: hand.contains) {
            throw fail(p.source, "path", "repository name \"\(p.paths[row])\" is used twice")
        }
    }
}

extension Fleet {
    /// A few lines describing the fleet, for `rehearse model check`.
    public var summary: String {
        var lines: [String] = []
        let capacity = storages.map(\.capacityBytes).reduce(0, +)
        let used = storages.map(\.initialUsedBytes).reduce(0, +)
        lines.append("fleet \(name): \(nodes.count) nodes, \(storages.count) storages, \(zones.count) zones, \(Units.formatBytes(used)) used of \(Units.formatBytes(capacity))")
        for n in nodes {
            let kind = n.host.kind == .vm ? "VM" : "pod"
            let site = sites.count > 1 ? ", site \(sites[n.site])" : ""
            lines.append("  node \(n.name) (\(kind), zone \(zones[n.zone])\(site)): \(n.cpuCores) cores, disk \(Units.formatRate(n.disk.readBytesPerSecond)) read / \(Units.formatRate(n.disk.writeBytesPerSecond)) write, network \(Units.formatRate(n.networkBytesPerSecond)), storages \(n.storages.map { storages[$0].name }.joined(separator: ", "))")
        }
        for l in links {
            lines.append("  link \(sites[l.sites.0]) – \(sites[l.sites.1]): \(Units.formatRate(l.bytesPerSecond)), shared by every transfer across it")
        }
        if let p = praefect {
            lines.append("  praefect: \(p.instances.count) instances (\(p.instances.map(\.name).joined(separator: ", "))), queue \(p.queue.rawValue)")
        }
        for v in virtualStorages {
            let members = v.members.map { storages[$0].name }.joined(separator: ", ")
            if v.viaPraefect {
                lines.append("  virtual storage \(v.name): \(members), replication factor \(v.replicationFactor), \(v.consistency.rawValue) consistency, weight \(v.weight)")
            } else {
                lines.append("  storage \(v.name): weight \(v.weight)")
            }
        }
        lines.append("  faults: \(faults.schedule.count) scheduled, random: \([("nodeCrash", faults.nodeCrash), ("diskSlowdown", faults.diskSlowdown), ("diskLoss", faults.diskLoss), ("partition", faults.partition), ("praefectLoss", faults.praefectLoss), ("zoneOutage", faults.zoneOutage), ("databaseOutage", faults.databaseOutage)].filter { $0.1 != nil }.map(\.0).joined(separator: ", "))")
        if !repositories.isEmpty { lines.append("  repositories placed by hand: \(repositories.count)") }
        return lines.joined(separator: "\n")
    }
}
