import GitalyModel
import SimKernel
import Traffic

/// What a traffic run leaves behind.
public struct TrafficRunResult: Sendable {
    /// The world's own report: writes acknowledged and lost, unavailable repositories,
    /// write-unavailable repository-seconds, apdex and error ratio per window.
    public var report: WorldReport
    public var submitted: Int
    /// Left out because the world model counts them inside another call's class.
    public var internalCalls: Int
    /// Left out because no operation type is known for their method.
    public var unclassified: Int
    /// Left out because they name no repository (storage-scoped RPCs).
    public var withoutRepository: Int
    /// True when the run stopped at an arrival after the horizon (the source was not used up).
    public var stoppedAtHorizon: Bool
    public var simulatedSeconds: Double
    public var events: Int
}

/// One simulation of a fleet under a traffic source: a trace replayed from the store or synthetic
/// traffic from a profile. The world's own synthetic traffic is switched off; every RPC comes
/// from the source.
///
/// Arrivals are pulled one at a time: the world runs up to an arrival's time, the arrival is
/// submitted, and the next one is pulled, so memory stays bounded however long the trace is.
/// Each call is served at the cost its record gives (`recordedCost`): its CPU time, its bytes
/// and, without CPU time, its duration; the world's class model (`RPCProfile`) fills only the
/// fields the log did not carry, so a replayed incident loads the simulated nodes as it loaded
/// the real ones.
public struct TrafficRun {
    /// The co-simulation loop with no engine (`MigrationRun`): one loop feeds traffic to the
    /// world, with or without a migration.
    var loop: MigrationRun
    public var simulation: Simulation<World> {
        get { loop.simulation }
        // In place: a set after a get ran the world on a copy, every table of it copied anew.
        _modify { yield &loop.simulation }
    }

    public init(fleet: Fleet, config: WorldConfig) {
        loop = MigrationRun(fleet: fleet, config: config)
    }

    /// The names a trace is mapped onto: the fleet's storages and the world's repositories.
    public var target: ReplayTarget { loop.target }

    /// A call's recorded cost in the world's terms; a zero field means Gitaly did not log it.
    /// Reads are charged the pack bytes served (clones, fetches) or else the response bytes;
    /// writes the request bytes (a push's pack).
    public static func recordedCost(_ c: RPCCost, _ rpcClass: RPCClass) -> RecordedCost {
        func seconds(_ ns: Int64) -> Double? { ns > 0 ? Double(ns) / 1e9 : nil }
        func bytes(_ b: Int64) -> Double? { b > 0 ? Double(b) : nil }
        if rpcClass.isMutator {
            return RecordedCost(durationSeconds: seconds(c.durationNs), cpuSeconds: seconds(c.cpuNs), bytesWritten: bytes(c.requestBytes))
        }
        return RecordedCost(durationSeconds: seconds(c.durationNs), cpuSeconds: seconds(c.cpuNs), bytesRead: bytes(c.packBytes) ?? bytes(c.responseBytes))
    }

    /// Feeds `source` into the world until it runs dry or passes `horizon`, then lets the
    /// world run on for `drain` so that calls in flight finish.
    public mutating func drive<S: ArrivalSource>(_ source: inout S, horizon: SimTime = .max, drain: SimTime = .seconds(60)) throws -> TrafficRunResult {
        var optional: S? = source
        let feed = try loop.coSimulate(traffic: &optional, horizon: horizon, progress: nil)
        source = optional!
        let intake = feed.intake
        let stoppedAtHorizon = feed.stoppedAtHorizon
        let last = feed.lastSubmitted
        simulation.run(until: last + drain)
        return TrafficRunResult(report: simulation.model.report(at: simulation.now), submitted: intake.submitted,
                                internalCalls: intake.internalCalls, unclassified: intake.unclassified,
                                withoutRepository: intake.withoutRepository, stoppedAtHorizon: stoppedAtHorizon,
                                simulatedSeconds: simulation.now.seconds, events: simulation.eventsProcessed)
    }
}
