import SpecFiles

/// How a migration may run: what it drains where, how full destinations may get, how many moves
/// at once, in which order, in which phases with which weight steps and gates. Read from YAML
/// (`Policy.parse`, schema in `models/policies/README.md`); names are resolved against a fleet
/// only when planning, and each name keeps its place in the file so that errors point at it.
public struct Policy: Equatable, Sendable {
    public var file: String = "<memory>"
    public var drainFrom: [Named]
    /// Storage names or tag selectors (`kind:pod`, `site:zone-a`).
    public var drainTo: [Named]
    /// The fill at which a destination stops taking repositories. PUBLIC: new repositories stop
    /// at about 75–80% disk on GitLab.com (production#8426); 75% is the lower end.
    public var fillLimit = 0.75
    public var fillLimits: [(storage: Named, limit: Double)] = []
    public var concurrency = Concurrency()
    /// Total copy bandwidth the migration may use; nil: no budget beyond each move's copy rate.
    public var bandwidthBytesPerSecond: Double?
    /// One move's copy rate, for estimates. PUBLIC: a bare clone of gitlab-org/gitlab without
    /// local optimisations ran at 27.21 MiB/s (gitaly#3377); `ReplicateRepository` is a fetch
    /// of the same kind, so the same rate is ASSUMED for it.
    public var copyBytesPerSecond = 27.21 * 1_048_576
    /// ASSUMED: a move's fixed cost besides copying (scheduling, the push-counter wait of up to
    /// 3 polls 10 s apart per PRAEFECT.md §8, checksums on both sides, the status polls).
    public var moveOverheadSeconds = 30.0
    public var order = MoveOrder.smallestFirst
    /// PRAEFECT.md §9, production#17004: fork networks scattered onto nearly full storages is the
    /// failure this default prevents.
    public var forkNetworksTogether = true
    public var waves = WaveLimits()
    /// The longest one repository may stay read-only (its move's estimated duration); nil: no bound.
    public var readOnlySecondsMax: Double?
    /// How long the engine waits for one move before failing it. PUBLIC: gitalyctl logs
    /// `timeout_duration: 1h0m0s` per move (PRAEFECT.md §9); a 149 GB project's move timed out
    /// and was retried three times (gitlab#9563, REAL_FIGURES.md). A move estimated past it is
    /// refused at planning, as one past `readOnlySecondsMax` is.
    public var moveTimeoutSeconds = 3600.0
    public var maintenanceWindows: [MaintenanceWindowSpec] = []
    public var gate: GateSpec?
    public var phases: [PhaseSpec] = []

    public init(drainFrom: [Named], drainTo: [Named]) {
        self.drainFrom = drainFrom
        self.drainTo = drainTo
    }

    public static func == (a: Policy, b: Policy) -> Bool {
        a.file == b.file && a.drainFrom == b.drainFrom && a.drainTo == b.drainTo && a.fillLimit == b.fillLimit
            && a.fillLimits.map(\.storage) == b.fillLimits.map(\.storage) && a.fillLimits.map(\.limit) == b.fillLimits.map(\.limit)
            && a.concurrency == b.concurrency && a.bandwidthBytesPerSecond == b.bandwidthBytesPerSecond
            && a.copyBytesPerSecond == b.copyBytesPerSecond && a.moveOverheadSeconds == b.moveOverheadSeconds
            && a.order == b.order && a.forkNetworksTogether == b.forkNetworksTogether && a.waves == b.waves
            && a.readOnlySecondsMax == b.readOnlySecondsMax && a.moveTimeoutSeconds == b.moveTimeoutSeconds && a.maintenanceWindows == b.maintenanceWindows
            && a.gate == b.gate && a.phases == b.phases
    }
}

/// A name as written in the policy, with where it was written.
public struct Named: Equatable, Sendable {
    public var name: String
    public var source: SourceLine
    public init(_ name: String, source: SourceLine = SourceLine()) { self.name = name; self.source = source }
}

/// Moves at once. PUBLIC: gitalyctl's per-storage concurrency started at 1 and production
/// raised it to 10 (helmfiles!3271, PRAEFECT.md §9); 1 is the default here.
public struct Concurrency: Equatable, Sendable {
    public var perSource = 1
    public var perDestination: Int?
    public var global: Int?
    public init(perSource: Int = 1, perDestination: Int? = nil, global: Int? = nil) {
        self.perSource = perSource
        self.perDestination = perDestination
        self.global = global
    }
}

public enum MoveOrder: String, CaseIterable, Codable, Sendable {
    case smallestFirst
    case largestFirst
    case coldestFirst
}

/// How a phase's moves are cut into waves. PUBLIC: gitaly#2837 moved archived projects in waves
/// of 100, 445 and about 4,000; production#3445 planned up to 1,500 moves a run. The default of
/// 1,000 moves a wave sits between them (ASSUMED).
public struct WaveLimits: Equatable, Sendable {
    public var movesMax = 1000
    public var bytesMax: Double?
    public init() {}
}

/// A time the migration may run in, e.g. nights and weekends. The plan carries it to the engine.
public struct MaintenanceWindowSpec: Equatable, Codable, Sendable {
    /// Empty: every day. Otherwise `mon` … `sun`.
    public var days: [String]
    /// UTC, `HH:MM`.
    public var start: String
    public var durationSeconds: Double
    public init(days: [String], start: String, durationSeconds: Double) {
        self.days = days
        self.start = start
        self.durationSeconds = durationSeconds
    }
}

public enum GateFailureAction: String, CaseIterable, Codable, Sendable {
    case pause
    case rollback
}

/// What must hold after a weight step or a wave, for `soakSeconds`, before the next one starts.
public struct GateSpec: Equatable, Codable, Sendable {
    public var apdexMin: Double?
    public var errorRatioMax: Double?
    public var replicationLagSecondsMax: Double?
    public var diskFillMax: Double?
    public var soakSeconds: Double = 0
    /// Ratios (apdex, error ratio) judged over every trailing window of this length in the
    /// soak, not sample by sample; at most `soakSeconds` (`Migration.Gate`).
    public var windowSeconds: Double?
    public var onFailure = GateFailureAction.pause
    public init() {}
}

/// Which repositories a phase moves.
public enum PhaseMoves: Equatable, Sendable {
    /// Nothing: the phase only shifts weights (e.g. `pre`, `gstg`).
    case none
    /// This fraction of all repositories the drain moves (by count, in the policy's order).
    case share(Double)
    /// Those not yet moved that match.
    case select(Selection)
    /// Everything not yet moved.
    case rest
}

public struct Selection: Equatable, Sendable {
    public var kinds: [String] = []
    public var storages: [Named] = []
    public var sizeBytesMax: Double?
    public init() {}
}

public struct PhaseSpec: Equatable, Sendable {
    public var name: String
    public var source: SourceLine
    /// Nil: the drain's destinations.
    public var to: [Named]?
    /// Each step sets these storages' weights for new repositories (0–100), in order.
    public var weightSteps: [[(storage: Named, weight: Int)]] = []
    public var moves = PhaseMoves.none
    /// Nil: the policy's gate.
    public var gate: GateSpec?

    public init(name: String, source: SourceLine = SourceLine()) { self.name = name; self.source = source }

    public static func == (a: PhaseSpec, b: PhaseSpec) -> Bool {
        a.name == b.name && a.to == b.to && a.moves == b.moves && a.gate == b.gate
            && a.weightSteps.map { $0.map(\.storage) } == b.weightSteps.map { $0.map(\.storage) }
            && a.weightSteps.map { $0.map(\.weight) } == b.weightSteps.map { $0.map(\.weight) }
    }
}
