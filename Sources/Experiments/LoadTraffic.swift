import GitalyModel
import SimKernel
import Traffic

extension BackgroundLoad {
    /// The load a traffic profile puts on the world: one stream per method the world serves
    /// (classified as `ArrivalIntake` classifies a drawn call, so internal and unclassified
    /// methods carry no load, as they are never submitted), with the costs that
    /// `TrafficRun.recordedCost` would give its calls: CPU and handler time from the
    /// profile's laws (milliseconds to seconds), a write's request bytes written, a read's
    /// pack or else response bytes read, the class model's where the profile has none.
    /// Repository popularity is the profile's, mapped rank k → repository (k − 1) mod count as
    /// `SyntheticTraffic` maps it. `rpcPart`: the calls simulated one by one instead.
    public init(profile: TrafficProfile, rpcPart: RPCPart? = nil) throws {
        try profile.validate()
        var streams: [Stream] = []
        for (i, m) in profile.methods.enumerated() {
            guard case .rpc(let rpcClass) = RPCClassifier.classify(m.name) else { continue }
            let field = "methods[\(i)]"
            func seconds(_ spec: DistributionSpec, _ name: String) throws -> CostLaw {
                let s = try spec.sampler(field: "\(field).\(name)")
                return CostLaw(mean: s.mean / 1000, quantile: { s.quantile($0) / 1000 })
            }
            func mean(_ spec: DistributionSpec?, _ name: String) throws -> Double? {
                guard let spec else { return nil }
                let v = try spec.sampler(field: "\(field).\(name)").mean
                return v.isFinite && v > 0 ? v : nil
            }
            let shape = m.hourOfWeekShape
            streams.append(Stream(
                rpcClass: rpcClass, hourOfWeekRates: shape.map { $0 * m.ratePerSecond },
                cpu: try m.cpuMs.map { try seconds($0, "cpuMs") }, duration: try seconds(m.serviceTimeMs, "serviceTimeMs"),
                bytesRead: rpcClass.isMutator ? nil : try mean(m.packBytes, "packBytes") ?? mean(m.responseBytes, "responseBytes"),
                bytesWritten: rpcClass.isMutator ? try mean(m.requestBytes, "requestBytes") : nil))
        }
        let popularity: Popularity
        switch profile.repositories?.model {
        case "zipf": popularity = .zipf(count: profile.repositories!.count!, exponent: profile.repositories!.exponent!)
        case "empirical": popularity = .weights(profile.repositories!.weights!)
        default: popularity = .uniform
        }
        self.init(streams: streams, startSecondsIntoWeek: profile.startSecondsIntoWeek, popularity: popularity,
                  rpcPart: rpcPart)
    }
}
