import Foundation
import Testing
import SimKernel
@testable import GitalyModel

/// Goal: importance sampling of fault rates estimates a probability far below 1/replications
/// without bias. Method: one node whose crashes have an MTBF of 1,000 h; the chance that it
/// crashes within one hour is 1 − e^{−1/1000} = 9.995e-4 (closed form). 800 replications at the
/// real rate would see about 0.8 crashes in all; at 1,000 times the rate about 1 − e^{−1} = 63%
/// of them crash, and each run's indicator weighted by its likelihood ratio averages to the
/// closed form. Checked: within 4 standard errors, the standard error below 6% of the answer (a
/// ratio that dropped its exposure term would be off by up to e^{0.999}, far outside).
/// Without scaling every ratio is exactly 1.
@Test func importanceSamplingOfCrashesMatchesTheClosedForm() throws {
    let yaml = """
    name: one
    nodes: [{name: a, storages: [{name: sa, capacity: 1TB}]}]
    faults: {nodeCrash: {mtbf: 1000h, mttr: 10m}}
    """
    let fleet = try Fleet.build(FleetSpec.parse(yaml, file: "one.yaml"))
    let truth = 1 - exp(-1.0 / 1000)
    var weighted: [Double] = []
    var crashed = 0
    for i in 0..<800 {
        var config = WorldConfig(seed: 11)
        config.replication = i
        config.faultRateScale = 1000
        var sim = Simulation(model: World(fleet: fleet, config: config))
        World.start(&sim)
        sim.run(until: .hours(1))
        let hit = sim.model.randomFaultsOccurred > 0
        if hit { crashed += 1 }
        weighted.append(hit ? sim.model.faultLikelihoodRatio(at: sim.now) : 0)
    }
    let n = Double(weighted.count)
    let mean = weighted.reduce(0, +) / n
    let sd = (weighted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
    let se = sd / n.squareRoot()
    #expect(crashed > 440 && crashed < 570, "about 800 × (1 − e^{−1}) = 506 runs crash at the scaled rate, got \(crashed)")
    #expect(abs(mean - truth) < 4 * se, "estimate \(mean) ± \(se), closed form \(truth)")
    #expect(se < 0.06 * truth, "standard error \(se) against \(truth)")

    var plain = Simulation(model: World(fleet: fleet, config: WorldConfig(seed: 11)))
    World.start(&plain)
    plain.run(until: .hours(1))
    #expect(plain.model.faultLikelihoodRatio(at: plain.now) == 1)
}
