import SimKernel

/// Settings of one simulated run that are not part of the fleet.
public struct WorldConfig: Sendable {
    public var seed: UInt64 = 1
    public var replication: Int = 0
    public var traffic: TrafficSpec?
    /// Repositories generated when the model places none by hand, spread by the weights.
    public var repositoryCount = 100
    public var repositorySizeBytes = 100e6
    public var windowSeconds = 60.0
    /// Checks every invariant after every event: on in tests, off in benchmarks.
    public var checkInvariants = true
    /// Probability that a move's checksums differ (a corrupted copy); 0 in a healthy fleet.
    public var moveChecksumMismatchProbability = 0.0
    /// From this time on no random fault strikes and the world generates no traffic (faults
    /// already under way end as scheduled): the liveness phase of a safety sweep. Nil: never.
    public var quietAfterSeconds: Double?
    public init(seed: UInt64 = 1) { self.seed = seed }
}
