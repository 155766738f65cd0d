import SimKernel

/// The result of the RPC-level benchmark.
public struct RPCBenchmarkResult: Sendable {
    public var rpcs: Int
    public var events: Int
    public var wallSeconds: Double
    public var simulatedSeconds: Double
    public var rpcsPerWallSecond: Double { wallSeconds > 0 ? Double(rpcs) / wallSeconds : 0 }
}

/// The RPC-level benchmark of issue 3: 3 Gitaly nodes behind 3 Praefects (replication factor
/// 3, strong consistency), a 70/30 read/write mix, until `rpcs` RPCs have completed. The fleet
/// is built in code so that the benchmark does not depend on a file; invariant checks are off,
/// as in production runs. `clock` measures wall time and is a parameter so that tests and
/// callers choose it.
public func runRPCBenchmark<C: Clock>(rpcs: Int = 2_000_000, seed: UInt64 = 1, clock: C) -> RPCBenchmarkResult where C.Duration == Duration {
    let fleet = benchmarkFleet()
    var config = WorldConfig(seed: seed)
    config.checkInvariants = false
    config.repositoryCount = 1000
    // An RPC costs 0.7 × 5.2 ms (a read on one node) + 0.3 × 3 × 20.1 ms (a write on three)
    // ≈ 21.7 core-ms on average, so 3 × 8 cores serve about 1,100 RPC/s; 800 RPC/s is a 72%
    // load, busy enough that requests queue for cores.
    config.traffic = .readWrite(ratePerSecond: 800)
    var sim = Simulation(model: World(fleet: fleet, config: config))
    World.start(&sim)
    let start = clock.now
    // Run in slices so the RPC target is met without a per-event check.
    while sim.model.rpcsCompleted < rpcs {
        let remaining = Double(rpcs - sim.model.rpcsCompleted)
        sim.run(until: sim.now + .seconds(max(1, remaining / 800)))
    }
    let elapsed = start.duration(to: clock.now)
    let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return RPCBenchmarkResult(rpcs: sim.model.rpcsCompleted, events: sim.eventsProcessed, wallSeconds: wall, simulatedSeconds: sim.now.seconds)
}

/// The benchmark's fleet: the shape of `models/gitaly-cluster-3.yaml`.
public func benchmarkFleet() -> Fleet {
    let nodes = (1...3).map { i -> NodeSpec in
        var n = NodeSpec(name: "gitaly-\(i)", storages: [StorageSpec(name: "gitaly-\(i)", capacityBytes: 2e12)])
        n.zone = "zone-\(i)"
        return n
    }
    var praefect = PraefectSpec(instances: (1...3).map { PraefectInstanceSpec(name: "praefect-\($0)", zone: "zone-\($0)") },
                                virtualStorages: [VirtualStorageSpec(name: "default", storages: ["gitaly-1", "gitaly-2", "gitaly-3"], replicationFactor: 3)])
    praefect.queue = .postgres
    return try! Fleet.build(FleetSpec(name: "bench-cluster-3", nodes: nodes, praefect: praefect))
}
