import GitalyModel
import SimKernel

/// The RPC-level benchmark of issue 3 (3 Gitaly nodes behind 3 Praefects, replication factor 3,
/// strong consistency, 70/30 reads and writes), measured in RPCs per wall-clock second, and the
/// same traffic run for a fixed simulated horizon, to show that memory follows live state and
/// not simulated time.
public enum ModelBench {
    public static func rpc(rpcs: Int, seed: UInt64) -> KernelBenchResult {
        let r = runRPCBenchmark(rpcs: rpcs, seed: seed, clock: ContinuousClock())
        return KernelBenchResult(model: "rpc", events: r.events, wallSeconds: r.wallSeconds, seed: seed,
                                 peakResidentKiB: Probes.peakResidentKiB(),
                                 figures: [("rpcs", Double(r.rpcs)), ("rpcs_per_second", r.rpcsPerWallSecond),
                                           ("simulated_seconds", r.simulatedSeconds)])
    }

    /// The benchmark's traffic for `hours` of simulated time.
    public static func horizon(hours: Double, seed: UInt64) -> KernelBenchResult {
        var config = WorldConfig(seed: seed)
        config.checkInvariants = false
        config.repositoryCount = 1000
        config.traffic = .readWrite(ratePerSecond: 800)
        var sim = Simulation(model: World(fleet: benchmarkFleet(), config: config))
        World.start(&sim)
        let t0 = Probes.wallSeconds()
        sim.run(until: .hours(hours))
        let wall = Probes.wallSeconds() - t0
        return KernelBenchResult(model: "rpc-horizon", events: sim.eventsProcessed, wallSeconds: wall, seed: seed,
                                 peakResidentKiB: Probes.peakResidentKiB(),
                                 figures: [("rpcs", Double(sim.model.rpcsCompleted)),
                                           ("rpcs_per_second", wall > 0 ? Double(sim.model.rpcsCompleted) / wall : 0),
                                           ("simulated_seconds", sim.now.seconds)])
    }
}
