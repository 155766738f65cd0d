import SimKernel

/// One measured run of a kernel benchmark model, in the shape `rehearse bench kernel` prints.
public struct KernelBenchResult: Sendable {
    public var model: String
    public var events: Int
    public var wallSeconds: Double
    public var seed: UInt64
    public var peakResidentKiB: Int
    /// Model-specific figures, in a fixed order (printed as they are).
    public var figures: [(String, Double)]
    public var eventsPerSecond: Double { wallSeconds > 0 ? Double(events) / wallSeconds : 0 }
}

public enum KernelBench {
    public static func mmc(_ p: MMcModel.Parameters) -> KernelBenchResult {
        let r = MMcModel.run(p)
        var figures: [(String, Double)] = [("wq_simulated", r.meanWaitInQueue)]
        if let ci = r.waitInterval99 { figures += [("wq_ci99_low", ci.low), ("wq_ci99_high", ci.high)] }
        if let a = r.analyticWaitInQueue { figures.append(("wq_analytic", a)) }
        figures.append(("simulated_seconds", r.simulatedSeconds))
        return KernelBenchResult(model: "mmc", events: r.events, wallSeconds: r.wallSeconds, seed: p.seed,
                                 peakResidentKiB: Probes.peakResidentKiB(), figures: figures)
    }

    public static func storage(arrivals: Int, seed: UInt64) -> KernelBenchResult {
        var sim = Simulation(model: StorageBenchModel(arrivals: arrivals, seed: seed))
        sim.model.start(&sim.scheduler)
        let t0 = Probes.wallSeconds()
        sim.run()
        let wall = Probes.wallSeconds() - t0
        let m = sim.model
        return KernelBenchResult(model: "storage", events: sim.eventsProcessed, wallSeconds: wall, seed: seed,
                                 peakResidentKiB: Probes.peakResidentKiB(),
                                 figures: [("reads", Double(m.reads.count)), ("writes", Double(m.writesOnPrimary.count)),
                                           ("read_w", m.reads.mean), ("write_primary_w", m.writesOnPrimary.mean),
                                           ("write_full_w", m.writesFullyReplicated.mean), ("simulated_seconds", sim.now.seconds)])
    }

    public enum Queue: String, CaseIterable, Sendable { case kernel, adaptive, radix, binary, quaternary }

    /// The hold model with `pending` events; `queue` picks the structure: `kernel` runs the model
    /// through the kernel's run loop (adaptive queue); the others run the same model directly on
    /// one queue structure, for comparison (`adaptive` is the kernel's queue without the run loop).
    public static func hold(pending: Int, events: Int, seed: UInt64, queue: Queue = .kernel) -> KernelBenchResult {
        let events_: Int, wall: Double
        switch queue {
        case .radix:
            (events_, wall, _) = HoldModel.runOnQueue(RadixEventQueue<HoldModel.Event>.self, pending: pending, events: events, seed: seed)
        case .kernel:
            var sim = Simulation(model: HoldModel(seed: seed))
            sim.model.prime(pending: pending, &sim.scheduler)
            let t0 = Probes.wallSeconds()
            sim.run(maxEvents: events)
            wall = Probes.wallSeconds() - t0
            events_ = sim.eventsProcessed
        case .adaptive:
            (events_, wall, _) = HoldModel.runOnQueue(AdaptiveEventQueue<HoldModel.Event>.self, pending: pending, events: events, seed: seed)
        case .binary:
            (events_, wall, _) = HoldModel.runOnQueue(BinaryHeapEventQueue<HoldModel.Event>.self, pending: pending, events: events, seed: seed)
        case .quaternary:
            (events_, wall, _) = HoldModel.runOnQueue(QuaternaryHeapEventQueue<HoldModel.Event>.self, pending: pending, events: events, seed: seed)
        }
        return KernelBenchResult(model: "hold", events: events_, wallSeconds: wall, seed: seed,
                                 peakResidentKiB: Probes.peakResidentKiB(),
                                 figures: [("pending", Double(pending))])
    }
}
