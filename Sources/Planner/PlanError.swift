import SpecFiles

/// Why a plan cannot be made. Found before anything runs.
public enum PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The policy names something the fleet or the inventory lacks (a storage, a tag), or
    /// contradicts itself; carries the policy's file, line and field.
    case policy(SpecError)
    /// The policy is well formed but cannot be carried out; the figures say by how much.
    case infeasible(Infeasibility)

    public var description: String {
        switch self {
        case .policy(let e): return e.description
        case .infeasible(let i): return i.description
        }
    }
}

public struct Infeasibility: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The phase's repositories need more bytes than its destinations have below their limits.
        case capacity
        /// One unit (a repository, or a fork network kept together) fits on no destination.
        case unitTooLarge
        /// A fork network must join members that stay on a storage without room for it.
        case anchorFull
        /// A move would keep a repository read-only past the policy's bound.
        case readOnlyTooLong
        /// A move would outlast the engine's per-move timeout, so every attempt would fail.
        case moveTimesOut
        /// The phases leave some of the drain's repositories unmoved.
        case unplanned
    }
    public var kind: Kind
    public var phase: String
    /// Bytes needed and bytes available for `capacity`, `unitTooLarge` and `anchorFull`.
    public var neededBytes: Double
    public var availableBytes: Double
    public var fillLimit: Double
    public var message: String

    /// The shortfall, for `capacity`.
    public var lackingBytes: Double { max(0, neededBytes - availableBytes) }

    public var description: String { "infeasible plan: \(message)" }
}
