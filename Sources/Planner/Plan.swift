import Inventory

/// A migration plan: phases, each with weight steps for new repositories and waves of moves
/// (repository → destination), each wave with its estimated bytes and duration. Written as
/// `plan.json` (schema in `docs/plan-schema.md`, `schemaVersion` 1) with sorted keys and a
/// stable order, so the same inputs give the same file byte for byte.
///
/// These are plain Codable records so that the migration engine (or a driver) can map them onto
/// its own input without depending on how they were made.
public struct Plan: Codable, Equatable, Sendable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var order: MoveOrder
    public var forkNetworksTogether: Bool
    public var concurrency: PlanConcurrency
    public var bandwidthBytesPerSecond: Double?
    public var copyBytesPerSecond: Double
    public var moveOverheadSeconds: Double
    public var readOnlySecondsMax: Double?
    /// The engine's per-move timeout; nil (plans written before it was a field): 1 h.
    public var moveTimeoutSeconds: Double?
    public var maintenanceWindows: [MaintenanceWindowSpec]
    /// Weights for new repositories before the migration, every storage by name: what an abort
    /// or a rollback of the first step restores.
    public var initialWeights: [StorageWeight]
    /// Every storage the plan touches (sources and destinations), by name.
    public var storages: [PlanStorageFill]
    public var phases: [PlanPhase]
    public var totals: PlanTotals
}

public struct PlanConcurrency: Codable, Equatable, Sendable {
    public var perSource: Int
    public var perDestination: Int?
    public var global: Int?
}

/// A storage's fill before and after the plan, and its limit.
public struct PlanStorageFill: Codable, Equatable, Sendable {
    public var name: String
    public var role: StorageRole
    public var capacityBytes: Double
    public var usedBytesBefore: Double
    public var usedBytesAfter: Double
    public var fillLimit: Double
}

public enum StorageRole: String, Codable, Sendable {
    case source
    case destination
}

public struct PlanTotals: Codable, Equatable, Sendable {
    public var moves: Int
    public var bytes: Int64
    public var estimatedSeconds: Double
}

public struct PlanPhase: Codable, Equatable, Sendable {
    public var name: String
    public var destinations: [String]
    /// Checked after every weight step and every wave; nil: none.
    public var gate: GateSpec?
    public var weightSteps: [WeightStep]
    public var waves: [Wave]
    public var moves: Int
    public var bytes: Int64
    /// Waves plus one soak per step and wave.
    public var estimatedSeconds: Double
}

/// Weights for new repositories after the step, and the weights a rollback restores.
public struct WeightStep: Codable, Equatable, Sendable {
    public var weights: [StorageWeight]
    public var rollbackWeights: [StorageWeight]
}

public struct StorageWeight: Codable, Equatable, Sendable {
    public var storage: String
    public var weight: Int
}

public struct Wave: Codable, Equatable, Sendable {
    /// 1-based within the phase.
    public var index: Int
    public var bytes: Int64
    /// The largest of the bounds the concurrency limits, the bandwidth budget and the longest
    /// move put on the wave's makespan (a lower bound: the engine's run gives the real time).
    public var estimatedSeconds: Double
    public var moves: [Move]
}

public struct Move: Codable, Equatable, Sendable {
    public var repository: Int64
    public var path: String
    public var kind: String
    public var from: String
    public var to: String
    public var bytes: Int64
    public var reason: MoveReason
}

/// A wave's moves as columns, for a caller that turns them into moves of its own (the engine's
/// input): ten million `Move`s of four strings and a reason each were the largest allocation
/// of a GitLab.com-size rehearsal. `sources` and `destinations` index `PlanColumns.storageNames`.
public struct WaveColumns: Sendable, Equatable {
    public typealias Kind = RepositoryKind
    public let repositories: [Int64]
    /// Each move's row in the inventory the plan was made from.
    public let rows: [Int32]
    public let kinds: [RepositoryKind]
    public let sources: [Int32]
    public let destinations: [Int32]
    public let bytes: [Int64]

    public var count: Int { repositories.count }

    init(repositories: [Int64], rows: [Int32], kinds: [RepositoryKind], sources: [Int32], destinations: [Int32], bytes: [Int64]) {
        precondition([rows.count, kinds.count, sources.count, destinations.count, bytes.count].allSatisfy { $0 == repositories.count })
        self.repositories = repositories
        self.rows = rows
        self.kinds = kinds
        self.sources = sources
        self.destinations = destinations
        self.bytes = bytes
    }

    /// Moves `range`, in order.
    func slice(_ range: Range<Int>) -> WaveColumns {
        WaveColumns(repositories: Array(repositories[range]), rows: Array(rows[range]), kinds: Array(kinds[range]), sources: Array(sources[range]),
                    destinations: Array(destinations[range]), bytes: Array(bytes[range]))
    }
}

/// A plan with its moves in columns (`Plan.makeColumns`): the plan with every wave's `moves`
/// empty (its index, bytes and estimate kept), and each wave's moves, phase by phase.
public struct PlanColumns: Sendable {
    public var plan: Plan
    public var waves: [[WaveColumns]]
    /// The fleet's storages by index: what the columns' `sources` and `destinations` name.
    public var storageNames: [String]
}

/// Why a repository went where it did, with the figures at the moment of the decision.
public struct MoveReason: Codable, Equatable, Sendable {
    public var rule: MoveRule
    /// Room below the destination's fill limit just before this unit was placed.
    public var headroomBytes: Double
    public var fillLimit: Double
    /// The unit placed: the repository alone, or its whole fork network.
    public var unitBytes: Int64
    public var networkRoot: Int64?
    public var networkMembers: Int?
}

public enum MoveRule: String, Codable, Sendable {
    /// The destination with the most room below its fill limit when the unit was packed
    /// (worst fit, largest units first), which keeps destinations evenly filled.
    case roomiest
    /// Its fork network's members stay on this storage, and the network is kept together.
    case forkAnchor
}
