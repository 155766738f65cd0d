import SpecFiles
/// A fleet as written in a model file (`models/*.yaml`, schema in `models/README.md`): names,
/// not ids, and every default already filled in. `Fleet.build(_:)` validates it and interns the
/// names to integer ids for the event loop.
public struct FleetSpec: Equatable, Sendable {
    public var name: String
    public var file: String = "<memory>"
    public var nodes: [NodeSpec]
    public var praefect: PraefectSpec?
    public var gitlab = GitLabSpec()
    public var faults = FaultSpec()
    public var repositories: [RepositorySpec] = []
    /// Repositories placed from an inventory, in columns (a generated population of millions).
    public var population: RepositoryPopulation?
    /// Links between sites (data centres) that bound every transfer crossing them.
    public var links: [SiteLinkSpec] = []
    /// Where the `nodes` list is, for build errors about the list as a whole.
    public var nodesSource = SourceLine(path: "nodes")

    public init(name: String, nodes: [NodeSpec], praefect: PraefectSpec? = nil) {
        self.name = name
        self.nodes = nodes
        self.praefect = praefect
    }
}

/// How Gitaly nodes run: on a virtual machine, or as the single pod of a StatefulSet on a
/// Kubernetes node (the GitLab Helm chart runs one Gitaly pod per StatefulSet replica).
public enum HostKind: String, CaseIterable, Sendable {
    case vm
    case pod
}

public struct HostSpec: Equatable, Sendable {
    public var kind: HostKind = .vm
    /// VM: boot to serving. Pod: container start to serving, before the readiness delay.
    public var startSeconds: Double = 60
    /// Time a graceful stop takes (drain, shutdown).
    public var stopSeconds: Double = 30
    /// VM: a reboot after a crash, until Gitaly serves again.
    public var rebootSeconds: Double = 120
    /// Pod: the kubelet's back-off before restarting a crashed container.
    public var restartDelaySeconds: Double = 10
    /// Pod: the readiness probe's initial delay plus one period before traffic returns.
    public var readinessDelaySeconds: Double = 30
    /// Pod: detaching and attaching the persistent volume when the pod moves to another node.
    public var volumeAttachSeconds: Double = 60
    public init() {}
}

public struct DiskSpec: Equatable, Sendable {
    public var readBytesPerSecond: Double = 400e6
    public var writeBytesPerSecond: Double = 200e6
    public init() {}
}

/// A Gitaly storage: one directory of repositories, with a capacity.
public struct StorageSpec: Equatable, Sendable {
    public var name: String
    public var capacityBytes: Double
    public var usedBytes: Double = 0
    public var source = SourceLine()
    public init(name: String, capacityBytes: Double, usedBytes: Double = 0) {
        self.name = name
        self.capacityBytes = capacityBytes
        self.usedBytes = usedBytes
    }
}

/// The RPC classes the model limits and accounts separately. The concurrency limiter in Gitaly
/// is configured per RPC (`[[concurrency]] rpc = "/gitaly.SmartHTTPService/PostUploadPackWithSidechannel"`,
/// docs "Concurrency limiting"); the model groups RPCs into the classes that matter for load.
public enum RPCClass: String, CaseIterable, Sendable {
    /// Clones and fetches (PostUploadPackWithSidechannel, SSHUploadPackWithSidechannel).
    case uploadPack
    /// Pushes (PostReceivePack, SSHReceivePack): transactional mutators.
    case receivePack
    /// Other unary reads (FindCommit, TreeEntry, ...).
    case read
    /// Other unary writes (UserCommitFiles, WriteRef, ...): transactional mutators.
    case write
    /// Housekeeping (OptimizeRepository): best effort on every routed node.
    case maintenance

    /// The number of classes, without building `allCases`.
    public static let count = 5

    /// A dense index for arrays keyed by class.
    public var index: Int {
        switch self {
        case .uploadPack: return 0
        case .receivePack: return 1
        case .read: return 2
        case .write: return 3
        case .maintenance: return 4
        }
    }

    /// The class with a dense index (the inverse of `index`).
    public init(index: Int) {
        switch index {
        case 0: self = .uploadPack
        case 1: self = .receivePack
        case 2: self = .read
        case 3: self = .write
        default: self = .maintenance
        }
    }

    public var isMutator: Bool {
        switch self {
        case .receivePack, .write: return true
        case .uploadPack, .read, .maintenance: return false
        }
    }
}

/// One `[[concurrency]]` entry of Gitaly's config (gitaly `internal/limiter`, GITALY_LOGS.md §1).
public struct ConcurrencyLimitSpec: Equatable, Sendable {
    public var rpc: RPCClass
    public var maxPerRepo: Int
    /// Nil: unbounded queue (Gitaly's default when `max_queue_size` is unset).
    public var maxQueueSize: Int?
    public var maxQueueWaitSeconds: Double?
    public var source = SourceLine()
    public init(rpc: RPCClass, maxPerRepo: Int, maxQueueSize: Int? = nil, maxQueueWaitSeconds: Double? = nil) {
        self.rpc = rpc
        self.maxPerRepo = maxPerRepo
        self.maxQueueSize = maxQueueSize
        self.maxQueueWaitSeconds = maxQueueWaitSeconds
    }
}

/// The link between two sites (data centres): one bandwidth that every copy crossing it
/// shares, both ways, such as a userspace WireGuard tunnel (seeds/002: the clusters were
/// connected "based on ip routes and wireguard", and userspace WireGuard was too slow for Ceph).
public struct SiteLinkSpec: Equatable, Sendable {
    public var sites: [String]
    public var bytesPerSecond: Double
    public var source = SourceLine(path: "links")
    public init(sites: [String], bytesPerSecond: Double) {
        self.sites = sites
        self.bytesPerSecond = bytesPerSecond
    }
}

public struct NodeSpec: Equatable, Sendable {
    public var name: String
    public var zone: String = "default"
    /// The data centre: nodes of different sites reach each other only over a `links` entry
    /// when one is given (otherwise only their own network bounds a transfer).
    public var site: String = "default"
    /// The Gitaly release the node runs ("" for the fleet's unnamed baseline). A release named
    /// in `faults.releases` may be bad; any other runs as modelled.
    public var release: String = ""
    public var host = HostSpec()
    public var cpuCores: Int = 8
    public var disk = DiskSpec()
    public var networkBytesPerSecond: Double = 1.25e9
    public var storages: [StorageSpec]
    public var limits: [ConcurrencyLimitSpec] = []
    public var source = SourceLine()
    public init(name: String, storages: [StorageSpec]) {
        self.name = name
        self.storages = storages
    }
}

/// The consistency switch: transactional replication as Praefect does for its ~45 transactional
/// mutators (gitaly `coordinator.go`), or primary-only writes with asynchronous replication, as
/// non-transactional RPCs and pre-13.x set-ups behave.
public enum ConsistencyMode: String, CaseIterable, Sendable {
    case strong
    case eventual
}

public struct VirtualStorageSpec: Equatable, Sendable {
    public var name: String
    public var storages: [String]
    /// 0 means every storage holds a replica (gitaly `config/config.go`: unset or 0).
    public var replicationFactor: Int = 0
    public var consistency: ConsistencyMode = .strong
    public var source = SourceLine()
    public init(name: String, storages: [String], replicationFactor: Int = 0, consistency: ConsistencyMode = .strong) {
        self.name = name
        self.storages = storages
        self.replicationFactor = replicationFactor
        self.consistency = consistency
    }
}

/// Where the replication queue lives. Production Praefect keeps it in PostgreSQL
/// (gitaly `datastore/queue.go`); the in-memory queue was for tests and is gone upstream.
public enum QueueBackend: String, CaseIterable, Sendable {
    case postgres
    case memory
}

/// Praefect's replication worker settings; defaults from gitaly `replicator.go` and
/// `internal/cli/praefect/serve.go` (PRAEFECT.md §2).
public struct ReplicationSpec: Equatable, Sendable {
    public var batchSize = 10
    public var workersPerVirtualStorage = 1
    public var attempts = 3
    public var idleBackoffInitialSeconds = 1.0
    public var idleBackoffMaxSeconds = 5.0
    /// The fixed part of one job, whatever its bytes: the worker's database reads, the
    /// `ReplicateRepository` call's set-up (gitconfig, attributes, fetch negotiation, hooks,
    /// object-pool sync), two `GetObjectPool` calls and `SetGeneration` (gitaly `replicator.go`,
    /// `internal/gitaly/service/repository/replicate.go`). Drawn as a minimum plus an
    /// exponential extra. ASSUMED (0.3 s + Exp(0.7 s), mean 1 s); fit both to the low end and
    /// the mean of `gitaly_praefect_replication_latency` for small update jobs.
    public var jobLatencyMinimumSeconds = 0.3
    public var jobLatencyExtraMeanSeconds = 0.7
    /// Mean CPU seconds a job takes on the target (fetch, index-pack, ref updates) and on the
    /// source (upload-pack), each exponential, on a core shared with the node's RPCs.
    /// ASSUMED (0.2 s and 0.1 s); fit to `command.cpu_time_ms` of `ReplicateRepository` and of
    /// the source's `SSHUploadPackWithSidechannel` calls it spawns.
    public var jobTargetCPUSeconds = 0.2
    public var jobSourceCPUSeconds = 0.1
    public init() {}
}

/// Health checking and consensus; defaults from gitaly `nodes/health_manager.go` and the
/// `healthy_storages` view (PRAEFECT.md §4).
public struct HealthSpec: Equatable, Sendable {
    public var checkIntervalSeconds = 1.0
    public var checkTimeoutSeconds = 1.0
    public var consensusWindowSeconds = 10.0
    public var activeWindowSeconds = 60.0
    public init() {}
}

public struct PraefectInstanceSpec: Equatable, Sendable {
    public var name: String
    public var zone: String = "default"
    public var source = SourceLine()
    public init(name: String, zone: String = "default") { self.name = name; self.zone = zone }
}

public struct PraefectSpec: Equatable, Sendable {
    public var instances: [PraefectInstanceSpec]
    public var virtualStorages: [VirtualStorageSpec]
    public var queue: QueueBackend = .postgres
    public var replication = ReplicationSpec()
    public var health = HealthSpec()
    /// gitaly `reconciler/reconciler.go`: every 5 min by default since v13.4.
    public var reconcilerIntervalSeconds = 300.0
    /// Metadata verifier: each replica is re-verified after this interval (gitaly `verifier.go`,
    /// `verification_interval`, 7 days by default since v15.0).
    public var verificationIntervalSeconds = 7 * 86_400.0
    public var source = SourceLine()
    public init(instances: [PraefectInstanceSpec], virtualStorages: [VirtualStorageSpec]) {
        self.instances = instances
        self.virtualStorages = virtualStorages
    }
}

/// GitLab Rails settings the model needs: storage weights and the move worker's throttle.
public struct GitLabSpec: Equatable, Sendable {
    /// `repository_storages_weighted`, 0–100 per GitLab storage (a plain storage or a virtual
    /// storage). Empty means GitLab's default: `default` = 100, others 0
    /// (docs.gitlab.com/ee/administration/repository_storage_paths.html).
    public var weights: [(name: String, weight: Int)] = []
    /// Concurrent `Projects::UpdateRepositoryStorageWorker` jobs (the `gitaly_throttled`
    /// Sidekiq shard's concurrency, PRAEFECT.md §9).
    public var sidekiqConcurrency = 5
    public var apiLatencySeconds = 0.05
    public var apiErrorRate = 0.0
    /// The wait for in-flight pushes before a move copies a repository: the counter is read 3
    /// times, 10 s apart, and the move fails 10 s after the last read (PUBLIC: gitlab
    /// `update_repository_storage_methods.rb`, `wait_for_pushes`; PRAEFECT.md §8).
    public var pushWaitPolls = 3
    public var pushWaitIntervalSeconds = 10.0
    /// The most one move's copy stream moves per second, whatever the disks allow: a
    /// `ReplicateRepository` is one fetch, one pack stream. PUBLIC default: gitaly#3377, a bare
    /// clone of gitlab-org/gitlab without local optimisations ran at 27.21 MiB/s.
    public var moveStreamBytesPerSecondMax = 27.21 * 1_048_576
    /// What one core moves per second of a move's copy on the source: `git pack-objects`
    /// serving the destination's fetch, reusing the deltas already in the source's packs.
    /// ASSUMED 256 MiB/s (fit: `gitaly_command_cpu_seconds_total` of the source's
    /// `upload-pack`/`pack-objects` during a move, over the bytes moved).
    public var moveSourceBytesPerCoreSecond = 256 * 1_048_576.0
    /// The same on the destination: `git fetch` resolving deltas in `index-pack`, the heavier
    /// end. ASSUMED 64 MiB/s (fit: the destination's `fetch` CPU seconds over the bytes moved).
    /// Uncontended, the stream cap binds first; a copy slows below it only when the node's
    /// cores are busy.
    public var moveDestinationBytesPerCoreSecond = 64 * 1_048_576.0
    /// From a Sidekiq thread taking the move's job to `start!` (fetch from Redis, the
    /// `gitaly_throttled` queue's throttling). ASSUMED 1 s.
    public var sidekiqPickupSeconds = 1.0
    /// Whether an operator runs the Rails console line that clears a repository's read-only
    /// flag when the engine asks: GitLab's API has no route for it (gitlab#385309; the gitlab
    /// driver prints the line and goes on). ASSUMED true: a rehearsal stands for a drain with
    /// an operator at hand. False: the flags stay, as in a drain left to run unattended.
    public var operatorClearsReadOnly = true
    /// A move's fixed costs (`MoveCosts` has the defaults and their sources): one
    /// `CalculateChecksum` of a repository without refs, each ref's share of it, and the
    /// removal of the source. A calibration (`rehearse calibrate local`) measures them.
    public var checksumBaseSeconds = MoveCosts.checksumBaseSeconds
    public var checksumSecondsPerRef = MoveCosts.checksumSecondsPerRef
    public var cleanupSeconds = MoveCosts.cleanupSeconds
    public var weightsSource = SourceLine()
    public var source = SourceLine(path: "gitlab")
    public init() {}

    public static func == (a: GitLabSpec, b: GitLabSpec) -> Bool {
        a.weights.map(\.name) == b.weights.map(\.name) && a.weights.map(\.weight) == b.weights.map(\.weight)
            && a.sidekiqConcurrency == b.sidekiqConcurrency && a.apiLatencySeconds == b.apiLatencySeconds
            && a.apiErrorRate == b.apiErrorRate && a.pushWaitPolls == b.pushWaitPolls
            && a.pushWaitIntervalSeconds == b.pushWaitIntervalSeconds
            && a.moveStreamBytesPerSecondMax == b.moveStreamBytesPerSecondMax && a.sidekiqPickupSeconds == b.sidekiqPickupSeconds
            && a.operatorClearsReadOnly == b.operatorClearsReadOnly
            && a.checksumBaseSeconds == b.checksumBaseSeconds && a.checksumSecondsPerRef == b.checksumSecondsPerRef && a.cleanupSeconds == b.cleanupSeconds
            && a.moveSourceBytesPerCoreSecond == b.moveSourceBytesPerCoreSecond
            && a.moveDestinationBytesPerCoreSecond == b.moveDestinationBytesPerCoreSecond
    }
}

/// A recurring fault: mean time between failures and mean time to repair, both exponential.
public struct FaultRate: Equatable, Sendable {
    public var mtbfSeconds: Double
    public var mttrSeconds: Double
    public init(mtbfSeconds: Double, mttrSeconds: Double) { self.mtbfSeconds = mtbfSeconds; self.mttrSeconds = mttrSeconds }
}

public enum FaultKind: String, CaseIterable, Sendable {
    case nodeCrash
    case diskSlowdown
    case diskLoss
    case partition
    case praefectLoss
    case zoneOutage
    case podEviction
    /// Two Gitaly nodes cannot reach each other (`target` and `peer`); Praefect reaches both.
    case gitalyPartition
    /// Praefect's PostgreSQL is unreachable (no `target`): routing, the finalizer, the
    /// replication queue, health consensus, the reconciler and the verifier all stop.
    case databaseOutage
    /// Not a fault but a planned operation: a rolling update of Gitaly pods (an upgrade), one
    /// at a time, each stopped (SIGTERM ends its RPCs), started and ready before the next
    /// (a StatefulSet's `RollingUpdate`, `maxUnavailable` 1). `target` names one pod; without
    /// it, every pod of the fleet in its order. With `release` the pods roll to that release,
    /// and with `canary` a canary stage and its analysis come first (`CanarySpec`).
    case rollingUpdate
}

/// One scheduled fault.
public struct ScheduledFault: Equatable, Sendable {
    public var atSeconds: Double
    public var kind: FaultKind
    /// A node name, a zone name (zoneOutage) or a Praefect name (praefectLoss).
    public var target: String
    /// How long it lasts; nil for a permanent fault (diskLoss is always permanent).
    public var durationSeconds: Double?
    /// partition: the Praefect cut off from `target`.
    public var praefect: String?
    /// gitalyPartition: the node cut off from `target`.
    public var peer: String?
    /// diskSlowdown: the fraction of bandwidth left.
    public var factor: Double = 0.1
    /// rollingUpdate: the release the pods roll to (nil: they restart on the one they run).
    public var release: String?
    /// rollingUpdate: a canary stage first, with its analysis (nil: every pod in turn).
    public var canary: CanarySpec?
    public var source = SourceLine()
    public init(atSeconds: Double, kind: FaultKind, target: String, durationSeconds: Double? = nil) {
        self.atSeconds = atSeconds
        self.kind = kind
        self.target = target
        self.durationSeconds = durationSeconds
    }
}

/// A Gitaly release as a fault: the share of the calls a node running it fails, and how much
/// slower it serves them. A release that nothing declares bad has neither.
public struct ReleaseSpec: Equatable, Sendable {
    public var name: String
    /// The probability that a call served by a node on this release fails (Internal/Unavailable).
    public var errorRatio = 0.0
    /// Service times on a node on this release, as a multiple of the modelled ones.
    public var latencyFactor = 1.0
    public var source = SourceLine()
    public init(name: String, errorRatio: Double = 0, latencyFactor: Double = 1) {
        self.name = name
        self.errorRatio = errorRatio
        self.latencyFactor = latencyFactor
    }
    public var isBad: Bool { errorRatio > 0 || latencyFactor > 1 }
}

/// A rolling update's canary stage: the first `pods` pods take the release, then an analysis
/// checks their own error ratio every `interval`. After `threshold` failed checks the canary
/// pods roll back to the release they ran and the update stops; after `checks` passed ones
/// the rest of the pods follow. This is a StatefulSet's partitioned rolling update ("rolling
/// out a canary", kubernetes.io, StatefulSet update strategies) driven by the analysis of a
/// progressive-delivery controller such as Flagger (docs.flagger.app, "Canary analysis":
/// `interval`, default 60 s; `threshold`, the failed checks before a rollback;
/// `request-success-rate` with `thresholdRange.min: 99`, the canary's own calls over the last
/// interval; a check with no data fails).
public struct CanarySpec: Equatable, Sendable {
    public var pods = 1
    /// PUBLIC: Flagger's default analysis interval, 60 s.
    public var intervalSeconds = 60.0
    /// Passed checks before the rest of the pods follow. ASSUMED 10, ten minutes at the default
    /// interval (Flagger's examples promote after 5, stepping the canary's weight by 10 to 50%).
    public var checks = 10
    /// PUBLIC: Flagger's examples roll back after 5 failed checks (`threshold: 5`).
    public var threshold = 5
    /// PUBLIC: Flagger's `request-success-rate` minimum of 99%, an error ratio of 1%.
    public var errorRatioMax = 0.01
    public var source = SourceLine()
    public init() {}
}

public struct FaultSpec: Equatable, Sendable {
    public var nodeCrash: FaultRate?
    public var diskSlowdown: FaultRate?
    /// A node loses its disk and comes back empty after the repair (`diskLoss`).
    public var diskLoss: FaultRate?
    public var partition: FaultRate?
    public var praefectLoss: FaultRate?
    public var zoneOutage: FaultRate?
    public var databaseOutage: FaultRate?
    /// Probability that one replication job fails (replication job failure fault).
    public var replicationJobFailureProbability = 0.0
    public var schedule: [ScheduledFault] = []
    /// Releases that nodes run or roll to, bad ones with their error ratio and latency.
    public var releases: [ReleaseSpec] = []
    public var source = SourceLine(path: "faults")
    public init() {}
}

/// A repository placed by hand (hand-built scenarios); generated populations come from the
/// inventory instead.
public struct RepositorySpec: Equatable, Sendable {
    public var path: String
    /// A virtual storage name (cluster) or a storage name (sharded).
    public var storage: String
    public var sizeBytes: Double = 100e6
    /// Cluster only: assigned storages; empty means chosen at creation.
    public var replicas: [String] = []
    public var primary: String?
    /// Wiki, design repository, object pool and refs (see `RepositoryParts` for the defaults).
    public var parts = RepositoryParts()
    public var source = SourceLine()
    public init(path: String, storage: String, sizeBytes: Double = 100e6, replicas: [String] = [], primary: String? = nil) {
        self.path = path
        self.storage = storage
        self.sizeBytes = sizeBytes
        self.replicas = replicas
        self.primary = primary
    }
}
