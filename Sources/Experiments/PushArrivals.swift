import SimKernel
import Traffic

/// Pushes arriving as `rehearse workload push` makes them: Poisson at `ratePerSecond`, each to
/// a repository drawn uniformly, each costing `pushSeconds` on its node, until `horizon`. The
/// simulated twin of the real workload, for predicting its blocked pushes.
public struct PushArrivals: ArrivalSource {
    public let methods = [MethodName(service: "gitaly.SmartHTTPService", method: "PostReceivePack", operation: .mutator)]
    var random: RandomStream
    var now = SimTime.zero
    let rate: Double
    let repositories: Int
    let horizon: SimTime
    let cost: RPCCost

    public init(ratePerSecond: Double, repositories: Int, pushSeconds: Double, horizon: SimTime, seed: UInt64) {
        precondition(ratePerSecond > 0 && repositories > 0)
        random = RandomStreams(seed: seed).stream("validate.pushes")
        rate = ratePerSecond
        self.repositories = repositories
        self.horizon = horizon
        cost = RPCCost(durationNs: Int64(pushSeconds * 1e9))
    }

    public mutating func next() throws -> Arrival? {
        now = now + SimTime(seconds: random.exponential(rate: rate))
        guard now < horizon else { return nil }
        return Arrival(time: now, method: 0, operation: .mutator, storage: -1, repository: Int32(random.below(repositories)), cost: cost)
    }
}
