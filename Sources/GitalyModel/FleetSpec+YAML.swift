import SpecFiles
import Foundation

/// Reading a fleet model from YAML. Every field is checked against the schema in
/// `models/README.md`; unknown fields, wrong types and wrong units are errors with file, line
/// and field path. Cross-references (a virtual storage naming a storage) are checked later, by
/// `Fleet.build`, which also knows the line of each object.
extension FleetSpec {
    public static func load(path: String) throws -> FleetSpec {
        try parse(TextFile.read(path: path), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> FleetSpec {
        let root = try YAMLCursor.document(text, file: file).mapping(allowed: ["name", "nodes", "praefect", "gitlab", "faults", "repositories", "links"])
        let nodesCursor = try root.required("nodes")
        let nodes = try nodesCursor.list().flatMap(parseNodes)
        var model = FleetSpec(name: try root.required("name").string(), nodes: nodes, praefect: try root["praefect"].map(parsePraefect))
        model.file = file
        model.nodesSource = SourceLine(line: nodesCursor.line, path: nodesCursor.path)
        if let g = root["gitlab"] { model.gitlab = try parseGitLab(g) }
        if let f = root["faults"] { model.faults = try parseFaults(f) }
        if let r = root["repositories"] { model.repositories = try r.list().map(parseRepository) }
        if let l = root["links"] {
            model.links = try l.list().map { c in
                let lm = try c.mapping(allowed: ["between", "bandwidth"])
                let between = try lm.required("between")
                let sites = try between.stringList()
                guard sites.count == 2, sites[0] != sites[1] else { throw between.error("a link joins two different sites, got \(sites)") }
                var link = SiteLinkSpec(sites: sites, bytesPerSecond: try lm.required("bandwidth").rate())
                link.source = SourceLine(line: c.line, path: c.path)
                return link
            }
        }
        return model
    }

    /// The most nodes one entry's `count` makes (a fleet of GitLab.com's size has a few hundred).
    static let nodeCount = 1...10_000

    /// One `nodes` entry: a node, or with `count: N` N alike ones, `{n}` in the node's and its
    /// storages' names standing for 1 … N (zero-padded to N's digits: file-{n} → file-001 …
    /// file-110) and a `zone` list dealt round-robin (a fleet spread over a region's zones).
    static func parseNodes(_ c: YAMLCursor) throws -> [NodeSpec] {
        let m = try c.mapping(allowed: ["name", "count", "zone", "site", "release", "host", "cpuCores", "disk", "network", "storages", "limits"])
        guard let countCursor = m["count"] else { return [try parseNode(c, m, zone: m["zone"].map { try $0.string() })] }
        let count = try countCursor.int(in: nodeCount)
        let nameCursor = try m.required("name")
        guard try nameCursor.string().contains("{n}") else { throw nameCursor.error("a node entry with count needs {n} in its name, for one name per node") }
        let zones = try m["zone"].map { z -> [String] in
            if case .scalar = z.node { return [try z.string()] }
            let list = try z.stringList()
            guard !list.isEmpty else { throw z.error("expected at least one zone") }
            return list
        }
        let template = try parseNode(c, m, zone: zones?.first)
        for (i, storage) in template.storages.enumerated() where !storage.name.contains("{n}") {
            throw try m.required("storages").list()[i].error("a storage of a node entry with count needs {n} in its name, for one name per storage")
        }
        let width = String(count).count
        return (1...count).map { i in
            let number = String(repeating: "0", count: width - String(i).count) + String(i)
            var n = template
            n.name = template.name.replacingOccurrences(of: "{n}", with: number)
            for j in n.storages.indices { n.storages[j].name = template.storages[j].name.replacingOccurrences(of: "{n}", with: number) }
            if let zones { n.zone = zones[(i - 1) % zones.count] }
            return n
        }
    }

    static func parseNode(_ c: YAMLCursor, _ m: YAMLMapping, zone: String?) throws -> NodeSpec {
        var n = NodeSpec(name: try m.required("name").string(), storages: try m.required("storages").list().map(parseStorage))
        n.source = SourceLine(line: c.line, path: c.path)
        n.zone = zone ?? n.zone
        n.site = try m.get("site", n.site) { try $0.string() }
        n.release = try m.get("release", n.release) { try $0.string() }
        n.cpuCores = try m.get("cpuCores", n.cpuCores) { try $0.int(in: Validator.Limit.cpuCores) }
        if let h = m["host"] {
            let hm = try h.mapping(allowed: ["kind", "startTime", "stopTime", "rebootTime", "restartDelay", "readinessDelay", "volumeAttachTime"])
            n.host.kind = try hm.get("kind", n.host.kind) { try $0.oneOf(HostKind.self) }
            n.host.startSeconds = try hm.get("startTime", n.host.startSeconds) { try $0.seconds() }
            n.host.stopSeconds = try hm.get("stopTime", n.host.stopSeconds) { try $0.seconds() }
            n.host.rebootSeconds = try hm.get("rebootTime", n.host.rebootSeconds) { try $0.seconds() }
            n.host.restartDelaySeconds = try hm.get("restartDelay", n.host.restartDelaySeconds) { try $0.seconds() }
            n.host.readinessDelaySeconds = try hm.get("readinessDelay", n.host.readinessDelaySeconds) { try $0.seconds() }
            n.host.volumeAttachSeconds = try hm.get("volumeAttachTime", n.host.volumeAttachSeconds) { try $0.seconds() }
        }
        if let d = m["disk"] {
            let dm = try d.mapping(allowed: ["readBandwidth", "writeBandwidth"])
            n.disk.readBytesPerSecond = try dm.get("readBandwidth", n.disk.readBytesPerSecond) { try $0.rate() }
            n.disk.writeBytesPerSecond = try dm.get("writeBandwidth", n.disk.writeBytesPerSecond) { try $0.rate() }
        }
        if let net = m["network"] {
            let nm = try net.mapping(allowed: ["bandwidth"])
            n.networkBytesPerSecond = try nm.get("bandwidth", n.networkBytesPerSecond) { try $0.rate() }
        }
        if let l = m["limits"] { n.limits = try l.list().map(parseLimit) }
        return n
    }

    static func parseStorage(_ c: YAMLCursor) throws -> StorageSpec {
        let m = try c.mapping(allowed: ["name", "capacity", "used"])
        var s = StorageSpec(name: try m.required("name").string(), capacityBytes: try m.required("capacity").bytes())
        s.usedBytes = try m.get("used", 0) { try $0.bytes() }
        s.source = SourceLine(line: c.line, path: c.path)
        return s
    }

    static func parseLimit(_ c: YAMLCursor) throws -> ConcurrencyLimitSpec {
        let m = try c.mapping(allowed: ["rpc", "maxPerRepo", "maxQueueSize", "maxQueueWait"])
        var l = ConcurrencyLimitSpec(rpc: try m.required("rpc").oneOf(RPCClass.self), maxPerRepo: try m.required("maxPerRepo").int(in: Validator.Limit.maxPerRepo))
        l.maxQueueSize = try m["maxQueueSize"].map { try $0.int(in: Validator.Limit.maxQueueSize) }
        l.maxQueueWaitSeconds = try m["maxQueueWait"].map { try $0.seconds() }
        l.source = SourceLine(line: c.line, path: c.path)
        return l
    }

    static func parsePraefect(_ c: YAMLCursor) throws -> PraefectSpec {
        let m = try c.mapping(allowed: ["instances", "virtualStorages", "queue", "replication", "health", "reconcilerInterval", "verificationInterval"])
        let instances = try m.required("instances").list().map { ic -> PraefectInstanceSpec in
            let im = try ic.mapping(allowed: ["name", "zone"])
            var i = PraefectInstanceSpec(name: try im.required("name").string())
            i.zone = try im.get("zone", i.zone) { try $0.string() }
            i.source = SourceLine(line: ic.line, path: ic.path)
            return i
        }
        let vstorages = try m.required("virtualStorages").list().map { vc -> VirtualStorageSpec in
            let vm = try vc.mapping(allowed: ["name", "storages", "replicationFactor", "consistency"])
            var v = VirtualStorageSpec(name: try vm.required("name").string(), storages: try vm.required("storages").stringList())
            v.replicationFactor = try vm.get("replicationFactor", 0) { try $0.int() }
            v.consistency = try vm.get("consistency", .strong) { try $0.oneOf(ConsistencyMode.self) }
            v.source = SourceLine(line: vc.line, path: vc.path)
            return v
        }
        var p = PraefectSpec(instances: instances, virtualStorages: vstorages)
        p.source = SourceLine(line: c.line, path: c.path)
        p.queue = try m.get("queue", p.queue) { try $0.oneOf(QueueBackend.self) }
        p.reconcilerIntervalSeconds = try m.get("reconcilerInterval", p.reconcilerIntervalSeconds) { try $0.seconds(.positive) }
        p.verificationIntervalSeconds = try m.get("verificationInterval", p.verificationIntervalSeconds) { try $0.seconds(.positive) }
        if let r = m["replication"] {
            let rm = try r.mapping(allowed: ["batchSize", "workersPerVirtualStorage", "attempts", "idleBackoffInitial", "idleBackoffMax",
                                                 "jobLatencyMinimum", "jobLatencyExtraMean", "jobTargetCPU", "jobSourceCPU"])
            p.replication.batchSize = try rm.get("batchSize", p.replication.batchSize) { try $0.int(in: Validator.Limit.batchSize) }
            p.replication.workersPerVirtualStorage = try rm.get("workersPerVirtualStorage", p.replication.workersPerVirtualStorage) {
                try $0.int(in: Validator.Limit.workersPerVirtualStorage)
            }
            p.replication.attempts = try rm.get("attempts", p.replication.attempts) { try $0.int(in: Validator.Limit.attempts) }
            p.replication.idleBackoffInitialSeconds = try rm.get("idleBackoffInitial", p.replication.idleBackoffInitialSeconds) { try $0.seconds(.positive) }
            p.replication.idleBackoffMaxSeconds = try rm.get("idleBackoffMax", p.replication.idleBackoffMaxSeconds) { try $0.seconds(.positive) }
            p.replication.jobLatencyMinimumSeconds = try rm.get("jobLatencyMinimum", p.replication.jobLatencyMinimumSeconds) { try $0.seconds() }
            p.replication.jobLatencyExtraMeanSeconds = try rm.get("jobLatencyExtraMean", p.replication.jobLatencyExtraMeanSeconds) { try $0.seconds() }
            p.replication.jobTargetCPUSeconds = try rm.get("jobTargetCPU", p.replication.jobTargetCPUSeconds) { try $0.seconds() }
            p.replication.jobSourceCPUSeconds = try rm.get("jobSourceCPU", p.replication.jobSourceCPUSeconds) { try $0.seconds() }
        }
        if let h = m["health"] {
            let hm = try h.mapping(allowed: ["checkInterval", "checkTimeout", "consensusWindow", "activeWindow"])
            p.health.checkIntervalSeconds = try hm.get("checkInterval", p.health.checkIntervalSeconds) { try $0.seconds(.positive) }
            p.health.checkTimeoutSeconds = try hm.get("checkTimeout", p.health.checkTimeoutSeconds) { try $0.seconds(.positive) }
            p.health.consensusWindowSeconds = try hm.get("consensusWindow", p.health.consensusWindowSeconds) { try $0.seconds(.positive) }
            p.health.activeWindowSeconds = try hm.get("activeWindow", p.health.activeWindowSeconds) { try $0.seconds(.positive) }
        }
        return p
    }

    static func parseGitLab(_ c: YAMLCursor) throws -> GitLabSpec {
        let m = try c.mapping(allowed: ["weights", "sidekiqConcurrency", "apiLatency", "apiErrorRate", "pushWaitPolls", "pushWaitInterval", "moveStreamBandwidth", "sidekiqPickup", "checksumTime", "checksumTimePerRef", "moveCleanupTime",
                                              "moveSourceRatePerCore", "moveDestinationRatePerCore", "operatorClearsReadOnly"])
        var g = GitLabSpec()
        g.source = SourceLine(line: c.line, path: c.path)
        if let w = m["weights"] {
            g.weights = try w.namedEntries().map { (name: $0.0, weight: try $0.1.int()) }
            g.weightsSource = SourceLine(line: w.line, path: w.path)
        }
        g.sidekiqConcurrency = try m.get("sidekiqConcurrency", g.sidekiqConcurrency) { try $0.int(in: Validator.Limit.sidekiqConcurrency) }
        g.apiLatencySeconds = try m.get("apiLatency", g.apiLatencySeconds) { try $0.seconds() }
        g.apiErrorRate = try m.get("apiErrorRate", g.apiErrorRate) { try $0.double() }
        g.pushWaitPolls = try m.get("pushWaitPolls", g.pushWaitPolls) { try $0.int(in: Validator.Limit.pushWaitPolls) }
        g.pushWaitIntervalSeconds = try m.get("pushWaitInterval", g.pushWaitIntervalSeconds) { try $0.seconds(.positive) }
        g.moveStreamBytesPerSecondMax = try m.get("moveStreamBandwidth", g.moveStreamBytesPerSecondMax) { try $0.rate() }
        g.sidekiqPickupSeconds = try m.get("sidekiqPickup", g.sidekiqPickupSeconds) { try $0.seconds() }
        g.checksumBaseSeconds = try m.get("checksumTime", g.checksumBaseSeconds) { try $0.seconds() }
        g.checksumSecondsPerRef = try m.get("checksumTimePerRef", g.checksumSecondsPerRef) { try $0.seconds() }
        g.cleanupSeconds = try m.get("moveCleanupTime", g.cleanupSeconds) { try $0.seconds() }
        g.moveSourceBytesPerCoreSecond = try m.get("moveSourceRatePerCore", g.moveSourceBytesPerCoreSecond) { try $0.rate() }
        g.moveDestinationBytesPerCoreSecond = try m.get("moveDestinationRatePerCore", g.moveDestinationBytesPerCoreSecond) { try $0.rate() }
        g.operatorClearsReadOnly = try m.get("operatorClearsReadOnly", g.operatorClearsReadOnly) { try $0.bool() }
        return g
    }

    static func parseFaultRate(_ c: YAMLCursor) throws -> FaultRate {
        let m = try c.mapping(allowed: ["mtbf", "mttr"])
        return FaultRate(mtbfSeconds: try m.required("mtbf").seconds(.positive), mttrSeconds: try m.required("mttr").seconds())
    }

    /// A `faults:` block; experiments use it to replace a model's faults.
    public static func parseFaults(_ c: YAMLCursor) throws -> FaultSpec {
        let m = try c.mapping(allowed: ["nodeCrash", "diskSlowdown", "diskLoss", "partition", "praefectLoss", "zoneOutage", "databaseOutage", "replicationJobFailure", "schedule", "releases"])
        var f = FaultSpec()
        f.source = SourceLine(line: c.line, path: c.path)
        f.nodeCrash = try m["nodeCrash"].map(parseFaultRate)
        f.diskSlowdown = try m["diskSlowdown"].map(parseFaultRate)
        f.diskLoss = try m["diskLoss"].map(parseFaultRate)
        f.partition = try m["partition"].map(parseFaultRate)
        f.praefectLoss = try m["praefectLoss"].map(parseFaultRate)
        f.zoneOutage = try m["zoneOutage"].map(parseFaultRate)
        f.databaseOutage = try m["databaseOutage"].map(parseFaultRate)
        f.replicationJobFailureProbability = try m.get("replicationJobFailure", 0) { try $0.double() }
        if let s = m["schedule"] {
            f.schedule = try s.list().map { sc -> ScheduledFault in
                let sm = try sc.mapping(allowed: ["at", "kind", "target", "duration", "praefect", "factor", "peer", "release", "canary"])
                var e = ScheduledFault(atSeconds: try sm.required("at").seconds(), kind: try sm.required("kind").oneOf(FaultKind.self), target: try sm["target"]?.string() ?? "")
                e.durationSeconds = try sm["duration"].map { try $0.seconds() }
                e.praefect = try sm["praefect"].map { try $0.string() }
                e.peer = try sm["peer"].map { try $0.string() }
                e.factor = try sm.get("factor", e.factor) { try $0.double() }
                e.release = try sm["release"].map { try $0.string() }
                e.canary = try sm["canary"].map(parseCanary)
                e.source = SourceLine(line: sc.line, path: sc.path)
                return e
            }
        }
        if let r = m["releases"] {
            f.releases = try r.namedEntries().map { name, c in
                let rm = try c.mapping(allowed: ["errorRatio", "latencyFactor"])
                var release = ReleaseSpec(name: name)
                release.errorRatio = try rm.get("errorRatio", release.errorRatio) { try $0.double() }
                release.latencyFactor = try rm.get("latencyFactor", release.latencyFactor) { try $0.double() }
                release.source = SourceLine(line: c.line, path: c.path)
                return release
            }
        }
        return f
    }

    static func parseCanary(_ c: YAMLCursor) throws -> CanarySpec {
        let m = try c.mapping(allowed: ["pods", "interval", "checks", "threshold", "errorRatioMax"])
        var canary = CanarySpec()
        canary.pods = try m.get("pods", canary.pods) { try $0.int() }
        canary.intervalSeconds = try m.get("interval", canary.intervalSeconds) { try $0.seconds(.positive) }
        canary.checks = try m.get("checks", canary.checks) { try $0.int() }
        canary.threshold = try m.get("threshold", canary.threshold) { try $0.int() }
        canary.errorRatioMax = try m.get("errorRatioMax", canary.errorRatioMax) { try $0.double() }
        canary.source = SourceLine(line: c.line, path: c.path)
        return canary
    }

    static func parseRepository(_ c: YAMLCursor) throws -> RepositorySpec {
        let m = try c.mapping(allowed: ["path", "storage", "size", "replicas", "primary", "wikiSize", "designSize", "poolSize", "refs"])
        var r = RepositorySpec(path: try m.required("path").string(), storage: try m.required("storage").string())
        r.sizeBytes = try m.get("size", r.sizeBytes) { try $0.bytes() }
        r.replicas = try m.get("replicas", []) { try $0.stringList() }
        r.primary = try m["primary"].map { try $0.string() }
        r.parts.wikiBytes = try m.get("wikiSize", r.parts.wikiBytes) { try $0.bytes() }
        r.parts.designBytes = try m.get("designSize", r.parts.designBytes) { try $0.bytes() }
        r.parts.poolBytes = try m.get("poolSize", r.parts.poolBytes) { try $0.bytes() }
        r.parts.refs = try m.get("refs", r.parts.refs) { try $0.int() }
        r.source = SourceLine(line: c.line, path: c.path)
        return r
    }
}
