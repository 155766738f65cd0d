/// The plan as the engine needs it: the smallest input that says what to move, where, in which
/// order, how fast, and when to stop. The `Planner` module's richer plan maps onto this one.
/// Pure values, Codable so that the journal can pin the plan's identity.
public struct MigrationPlan: Codable, Sendable, Equatable {
    /// A name for people (`drain-nfs-file01`); the journal keys on `identity`.
    public var id: String
    /// Storage weights before the migration: what `rollbackWeights` returns to from the first
    /// step and what an abort restores.
    public var initialWeights: [StorageWeight]
    public var phases: [Phase]
    public var limits: ConcurrencyLimits
    /// How long a repository may stay read-only: a move still in `initial`, `scheduled` or
    /// `started` this long after it was scheduled is failed (read-only lasts from `schedule` to
    /// `finish_replication`, PRAEFECT.md §8). The effective deadline is the smaller of this and
    /// `moveTimeout`.
    public var readOnlyDurationMax: EngineDuration
    /// PUBLIC: gitalyctl logs `timeout_duration: 1h0m0s` per move (PRAEFECT.md §9, runbook
    /// `docs/gitaly/gitalyctl.md`).
    public var moveTimeout: EngineDuration
    /// How often an in-flight move is polled (gitalyctl's `move_status_update`).
    /// ASSUMED: 10 s; PRAEFECT.md §9 names the setting but not its default.
    public var pollInterval: EngineDuration
    public var retry: RetryPolicy
    /// When non-empty, new moves start only inside one of these windows; moves in flight go on.
    public var maintenanceWindows: [MaintenanceWindow]
    /// What an operator's abort does to the weights once the moves in flight have settled.
    public var onAbort: AbortPolicy

    /// The moves of every wave of every phase.
    public var moveCount: Int { phases.reduce(0) { $0 + $1.waves.reduce(0) { $0 + $1.moves.count } } }

    public init(
        id: String, initialWeights: [StorageWeight], phases: [Phase], limits: ConcurrencyLimits,
        readOnlyDurationMax: EngineDuration = .hours(1), moveTimeout: EngineDuration = .hours(1),
        pollInterval: EngineDuration = .seconds(10), retry: RetryPolicy = RetryPolicy(),
        maintenanceWindows: [MaintenanceWindow] = [], onAbort: AbortPolicy = .rollbackWeights
    ) {
        self.id = id
        self.initialWeights = initialWeights
        self.phases = phases
        self.limits = limits
        self.readOnlyDurationMax = readOnlyDurationMax
        self.moveTimeout = moveTimeout
        self.pollInterval = pollInterval
        self.retry = retry
        self.maintenanceWindows = maintenanceWindows
        self.onAbort = onAbort
    }

    /// The plan's identity: its id and an FNV-1a 64 hash over a canonical encoding (sorted keys),
    /// so that a journal refuses any other plan, also one with the same id.
    public var identity: String {
        let hex = String(fnv1a(canonicalDescription.utf8), radix: 16)
        return "\(id)@\(String(repeating: "0", count: 16 - hex.count))\(hex)"
    }

    /// Every field in a fixed order, integers and strings only: stable across runs and platforms.
    var canonicalDescription: String {
        var s = "v1|\(id)|w:\(initialWeights.map { "\($0.storage.name)=\($0.weight)" }.joined(separator: ","))"
        for phase in phases {
            s += "|phase:\(phase.name)"
            for step in phase.steps {
                s += "|step:\(step.weights.map { "\($0.storage.name)=\($0.weight)" }.joined(separator: ","))"
                if let gate = step.gate { s += gate.canonicalDescription }
            }
            for wave in phase.waves {
                s += "|wave"
                // Only when set, so plans without wave gates keep their ids.
                if let gate = wave.gate { s += gate.canonicalDescription }
                for m in wave.moves {
                    s += ";\(m.repository.value),\(m.kind.rawValue),\(m.source.name),\(m.destination?.name ?? "-"),\(m.sizeBytes)"
                }
            }
        }
        s += "|limits:\(limits.perSource ?? -1),\(limits.perDestination ?? -1),\(limits.global ?? -1)"
        s += "|ro:\(readOnlyDurationMax.milliseconds)|timeout:\(moveTimeout.milliseconds)|poll:\(pollInterval.milliseconds)"
        s += "|retry:\(retry.attempts),\(retry.backoffBase.milliseconds),\(retry.backoffCap.milliseconds)"
        for w in maintenanceWindows { s += "|window:\(w.start.milliseconds),\(w.end.milliseconds)" }
        s += "|abort:\(onAbort.rawValue)"
        return s
    }

    /// A phase (`pre`, `gstg`, `gprd-cny`, `gprd`): its weight steps, each held for its gate,
    /// then its waves of moves in order.
    public struct Phase: Codable, Sendable, Equatable {
        public var name: String
        public var steps: [WeightStep]
        public var waves: [Wave]
        public init(name: String, steps: [WeightStep] = [], waves: [Wave]) {
            self.name = name
            self.steps = steps
            self.waves = waves
        }
    }

    /// One shift of the storage weights (`repository_storages_weighted`), and the gate that must
    /// hold after it before the migration goes on.
    public struct WeightStep: Codable, Sendable, Equatable {
        public var weights: [StorageWeight]
        public var gate: Gate?
        public init(weights: [StorageWeight], gate: Gate? = nil) {
            self.weights = weights
            self.gate = gate
        }
    }

    /// A wave: moves started in plan order; the next wave starts when every repository of this
    /// one is done or given up and its gate, if any, has held for its soak from then. A wave's
    /// gate that fails pauses the run: its moves are done, so there is no weight to roll back.
    public struct Wave: Codable, Sendable, Equatable {
        public var moves: [Move]
        public var gate: Gate?
        public init(moves: [Move], gate: Gate? = nil) { self.moves = moves; self.gate = gate }
    }

    public struct Move: Codable, Sendable, Equatable {
        public var repository: RepositoryID
        public var kind: RepositoryKind
        public var source: StorageName
        /// `nil`: no `destination_storage_name`, GitLab picks by weight (gitlab!45338).
        public var destination: StorageName?
        public var sizeBytes: Int64
        public init(repository: RepositoryID, kind: RepositoryKind = .project, source: StorageName, destination: StorageName?, sizeBytes: Int64) {
            self.repository = repository
            self.kind = kind
            self.source = source
            self.destination = destination
            self.sizeBytes = sizeBytes
        }
    }
}

/// GitLab's move APIs differ per container kind (PRAEFECT.md §8).
public enum RepositoryKind: String, Codable, Sendable, CaseIterable {
    case project, wiki, snippet, design
}

/// A storage's weight, 0...100 (docs.gitlab.com/ee/administration/repository_storage_paths.html).
public struct StorageWeight: Codable, Sendable, Equatable {
    public var storage: StorageName
    public var weight: Int
    public init(_ storage: StorageName, _ weight: Int) {
        precondition((0...100).contains(weight), "a storage weight is 0...100, got \(weight) for \(storage)")
        self.storage = storage
        self.weight = weight
    }
}

/// A gate: every check must hold during `soak` after the step's weights were applied, and each
/// check needs at least one sample there.
///
/// Without a `window` each sample is judged alone. With one, a ratio (apdex, error ratio) is
/// judged over every trailing window that fits in the soak: the samples measured in
/// (t − window, t], weighted by the requests behind each, at every sample's t ≥ start + window
/// and at the soak's end.
/// That is the SLO's ratio over the window's summed counts, as GitLab's burn-rate alerts read
/// their 1 h ratios (runbooks, rules-jsonnet service-component-alerts: `ratio_1h` against
/// `burnrate_1h` = 14.4). Gauges (replication lag, disk fill) are judged sample by sample.
public struct Gate: Codable, Sendable, Equatable {
    public var checks: [GateCheck]
    public var soak: EngineDuration
    public var onFailure: GateFailureAction
    /// At most `soak`; nil judges each sample alone.
    public var window: EngineDuration?
    public init(checks: [GateCheck], soak: EngineDuration, onFailure: GateFailureAction, window: EngineDuration? = nil) {
        if let window { precondition(window.milliseconds > 0 && window <= soak, "a gate's window is in (0, soak], got \(window.milliseconds) ms for a soak of \(soak.milliseconds) ms") }
        self.checks = checks
        self.soak = soak
        self.onFailure = onFailure
        self.window = window
    }

    var canonicalDescription: String {
        var s = ";gate:\(soak.milliseconds):\(onFailure.rawValue)"
        // Only when set, so plans without windows keep their ids.
        if let window { s += ":window\(window.milliseconds)" }
        for check in checks { s += ";\(check.metric.rawValue)\(check.limit)" }
        return s
    }
}

public struct GateCheck: Codable, Sendable, Equatable {
    public var metric: MetricKind
    /// A minimum for apdex, a maximum for the others (see `MetricKind.holds`).
    public var limit: Double
    public init(_ metric: MetricKind, _ limit: Double) {
        self.metric = metric
        self.limit = limit
    }
}

public enum MetricKind: String, Codable, Sendable, CaseIterable {
    /// Apdex, 0...1; the gate's limit is a minimum.
    case apdexMin
    /// Failed requests over all requests; the limit is a maximum.
    case errorRatioMax
    /// Praefect replication lag in seconds; the limit is a maximum.
    case replicationLagSecondsMax
    /// The fullest storage's used share, 0...1; the limit is a maximum.
    case diskFillMax

    /// A ratio of counted requests (judged over a gate's window), not a gauge.
    public var isRatio: Bool {
        switch self {
        case .apdexMin, .errorRatioMax: true
        case .replicationLagSecondsMax, .diskFillMax: false
        }
    }

    /// Whether `value` satisfies a check of this kind with `limit`.
    public func holds(_ value: Double, limit: Double) -> Bool {
        switch self {
        case .apdexMin: value >= limit
        case .errorRatioMax, .replicationLagSecondsMax, .diskFillMax: value <= limit
        }
    }
}

public enum GateFailureAction: String, Codable, Sendable {
    /// Stop starting moves and wait for an operator's resume.
    case pause
    /// Set the previous step's weights back, then pause.
    case rollbackWeights
}

public enum AbortPolicy: String, Codable, Sendable {
    case keepWeights
    case rollbackWeights
}

/// Concurrent moves allowed; `nil` is no limit. gitalyctl's per-type `concurrency` is per
/// source storage (PRAEFECT.md §9; production raised it from 1 to 10, helmfiles!3271).
public struct ConcurrencyLimits: Codable, Sendable, Equatable {
    public var perSource: Int?
    /// Counted only for moves whose plan names a destination.
    public var perDestination: Int?
    public var global: Int?
    public init(perSource: Int? = nil, perDestination: Int? = nil, global: Int? = nil) {
        for l in [perSource, perDestination, global] { if let l { precondition(l >= 1, "a concurrency limit is at least 1, got \(l)") } }
        self.perSource = perSource
        self.perDestination = perDestination
        self.global = global
    }
}

/// Retries of failed moves: attempt k (k ≥ 1) failing waits min(cap, base · 2^(k−1)) before
/// the next; after `attempts` failed attempts the repository is given up and the drain goes on.
/// The same backoff paces retries of transient API errors, counted per request.
public struct RetryPolicy: Codable, Sendable, Equatable {
    /// ASSUMED: 3, like `Projects::UpdateRepositoryStorageWorker`'s `retry 3` (PRAEFECT.md §8).
    public var attempts: Int
    /// ASSUMED: 1 min base, 30 min cap.
    public var backoffBase: EngineDuration
    public var backoffCap: EngineDuration
    public init(attempts: Int = 3, backoffBase: EngineDuration = .minutes(1), backoffCap: EngineDuration = .minutes(30)) {
        precondition(attempts >= 1 && backoffBase.milliseconds >= 0 && backoffCap >= backoffBase)
        self.attempts = attempts
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
    }

    /// The wait after the `failures`-th consecutive failure (1-based).
    public func backoff(afterFailures failures: Int) -> EngineDuration {
        precondition(failures >= 1)
        var wait = backoffBase.milliseconds
        for _ in 1..<min(failures, 63) {
            wait = wait > backoffCap.milliseconds / 2 ? backoffCap.milliseconds : wait * 2
        }
        return EngineDuration(milliseconds: min(wait, backoffCap.milliseconds))
    }
}

/// A half-open window [start, end) in the driver's time.
public struct MaintenanceWindow: Codable, Sendable, Equatable {
    public var start: EngineInstant
    public var end: EngineInstant
    public init(start: EngineInstant, end: EngineInstant) {
        precondition(start < end)
        self.start = start
        self.end = end
    }
}
