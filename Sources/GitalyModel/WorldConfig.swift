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
    /// The copy-corruption fault: probability that one copied repository's checksum differs
    /// from its source's although no write landed during the copy (a corrupted transfer or
    /// disk). ASSUMED 0 in a healthy fleet; for scale, gitaly#2837 (PUBLIC) saw 239 of about
    /// 4,000 moves (~6%) fail checksum verification, causes not broken down. Drawn from its own
    /// stream (`gitlab.move.corruption`). Mismatches caused by writes need no draw.
    public var moveChecksumMismatchProbability = 0.0
    /// Wiki, design repository, pool and refs of each generated repository. ASSUMED: no wiki,
    /// design repository or pool, 1,000 refs.
    public var repositoryParts = RepositoryParts()
    /// The Sidekiq-interruption fault: probability that a move's worker dies right after
    /// `start!` (a pod killed, a deploy), leaving the move in `started` and the repository
    /// read-only until an operator runs `do_fail!` (gitlab#429049). ASSUMED 0.
    public var moveWorkerInterruptionProbability = 0.0
    /// From this time on no random fault strikes and the world generates no traffic (faults
    /// already under way end as scheduled): the liveness phase of a safety sweep. Nil: never.
    public var quietAfterSeconds: Double?
    /// Importance sampling of rare faults: every random fault strikes this many times as often
    /// (its MTBF divided by it), and the world keeps the likelihood ratio that weighs the run
    /// back to the real rates (`World.faultLikelihoodRatio`). 1: the real rates.
    public var faultRateScale = 1.0
    /// Traffic carried as a load rather than as calls (`BackgroundLoad`); nil: none.
    public var backgroundLoad: BackgroundLoad?
    public init(seed: UInt64 = 1) { self.seed = seed }
}
