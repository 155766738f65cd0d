import Foundation
import SimKernel
import Stochastics

/// Synthetic arrivals drawn from a `TrafficProfile` for any horizon, with a growth factor.
///
/// The superposition of the methods' non-homogeneous Poisson processes is simulated by thinning
/// (Lewis and Shedler, "Simulation of nonhomogeneous Poisson processes by thinning", Naval
/// Research Logistics Quarterly 26(3), 1979): candidates arrive as a homogeneous Poisson process
/// at λ* ≥ λ(t) for all t, and a candidate at t is kept with probability λ(t)/λ*. A kept arrival
/// is then given to method m with probability λ_m(t)/λ(t), which is the superposition theorem
/// read backwards. λ* is the growth factor times the sum over methods of rate × max hourly
/// weight × max daily weight.
public struct SyntheticTraffic: ArrivalSource {
    public let methods: [MethodName]
    public let horizon: SimTime
    public let growth: Double
    let rates: [Double]
    /// Per method, 24 × 7 relative rates indexed by weekday × 24 + hour.
    let shapes: [[Double]]
    let lambdaMax: Double
    let startNs: Int64
    let serviceTime: [Sampler]
    let cpu: [Sampler?]
    let requestBytes: [Sampler?]
    let responseBytes: [Sampler?]
    let packBytes: [Sampler?]
    let repositoryRanks: RepositorySampler
    /// Cumulative storage shares and the model storage each maps to.
    let storageCumulative: [Double]
    let storageIndex: [Int32]
    let repositoryCount: Int
    /// When the calls go to some repositories only (`init`'s `repositories`): those
    /// repositories and their cumulative shares of the calls among them.
    let subset: [Int32]
    let subsetCumulative: [Double]
    var now = 0.0
    var arrivals: RandomStream
    var choices: RandomStream
    var costs: RandomStream
    var places: RandomStream
    /// Candidates drawn and kept so far (the acceptance ratio shows how tight λ* is).
    public private(set) var candidates = 0
    public private(set) var accepted = 0

    enum RepositorySampler {
        case none
        case zipf(Zipf)
        case empirical(cumulative: [Double])
    }

    /// - Parameters:
    ///   - horizon: arrivals are drawn on [0, horizon) of simulated time.
    ///   - growth: multiplies every rate (1.3 is 30 % more traffic than the profile).
    ///   - target: the model's storages and repositories. Storages are mapped by name, else by a
    ///     stable hash; repository rank k goes to the target's repository (k − 1) mod count (a
    ///     simulated world lists its repositories by place, `World.place(of:)`).
    ///   - from: arrivals start here (a window of RPC-level traffic inside a longer run); the
    ///     draws are those of a source started at 0 only when `from` is 0.
    ///   - repositories: only the calls to these of the target's repositories are drawn (the RPC-level
    ///     share of a run whose other calls are a load): every rate is scaled by their share of
    ///     the popularity, and a call's repository is drawn among them by their weights, which
    ///     is the whole source's law conditioned on the call going to one of them.
    public init(profile: TrafficProfile, target: ReplayTarget, horizon: SimTime, growth: Double = 1,
                seed: UInt64, replication: Int = 0, from: SimTime = .zero, repositories: [Int32]? = nil) throws {
        try profile.validate()
        guard growth.isFinite, growth > 0 else {
            throw TrafficProfileError.invalid(field: "growth", reason: "must be a positive number, got \(growth)")
        }
        self.horizon = horizon
        self.growth = growth
        startNs = profile.startNs
        var methods: [MethodName] = []
        var rates: [Double] = []
        var shapes: [[Double]] = []
        var service: [Sampler] = [], cpu: [Sampler?] = [], req: [Sampler?] = [], resp: [Sampler?] = [], pack: [Sampler?] = []
        var lambdaMax = 0.0
        for (i, m) in profile.methods.enumerated() {
            let f = "methods[\(i)]"
            methods.append(m.name)
            let shape = m.hourOfWeekShape
            shapes.append(shape)
            rates.append(m.ratePerSecond * growth)
            lambdaMax += m.ratePerSecond * growth * (shape.max() ?? 1)
            service.append(try m.serviceTimeMs.sampler(field: "\(f).serviceTimeMs"))
            cpu.append(try m.cpuMs?.sampler(field: "\(f).cpuMs"))
            req.append(try m.requestBytes?.sampler(field: "\(f).requestBytes"))
            resp.append(try m.responseBytes?.sampler(field: "\(f).responseBytes"))
            pack.append(try m.packBytes?.sampler(field: "\(f).packBytes"))
        }
        self.methods = methods
        self.shapes = shapes
        serviceTime = service; self.cpu = cpu; requestBytes = req; responseBytes = resp; packBytes = pack
        switch profile.repositories?.model {
        case "zipf": repositoryRanks = .zipf(try Zipf(count: profile.repositories!.count!, exponent: profile.repositories!.exponent!))
        case "empirical": repositoryRanks = .empirical(cumulative: Self.cumulative(profile.repositories!.weights!))
        default: repositoryRanks = .none
        }
        repositoryCount = target.repositories.count
        if let repositories {
            let (share, cumulative) = try Self.share(of: repositories, ranks: repositoryRanks, count: repositoryCount)
            subset = repositories
            subsetCumulative = cumulative
            rates = rates.map { $0 * share }
            lambdaMax *= share
        } else {
            subset = []
            subsetCumulative = []
        }
        self.rates = rates
        self.lambdaMax = lambdaMax
        let shares = profile.storages ?? target.storages.map { StorageShare(name: $0, share: 1) }
        storageCumulative = Self.cumulative(shares.map(\.share))
        // The same name-then-hash mapping as replay; its tables are indexed by interned id from
        // 1, so the profile's storages go in behind an unused slot 0.
        let mapped = try TraceReplay.map([""] + shares.map(\.name), kind: "storage", explicit: [:], onto: target.storages)
        storageIndex = Array(mapped.dropFirst())
        let streams = RandomStreams(seed: seed, replication: replication)
        arrivals = streams.stream("traffic.synthetic.arrivals")
        choices = streams.stream("traffic.synthetic.methods")
        costs = streams.stream("traffic.synthetic.costs")
        places = streams.stream("traffic.synthetic.places")
        now = from.seconds
    }

    static func cumulative(_ weights: [Double]) -> [Double] {
        let total = weights.reduce(0, +)
        var acc = 0.0
        return weights.map { acc += $0; return acc / total }
    }

    /// The share of all calls that go to `repositories` (model indices, of `count`), and their
    /// cumulative weights among themselves: rank k goes to repository (k − 1) mod count, so a
    /// repository's weight is that of every such rank. O(ranks).
    static func share(of repositories: [Int32], ranks sampler: RepositorySampler, count: Int) throws -> (Double, [Double]) {
        let ranks: Int
        let weight: (Int) -> Double
        switch sampler {
        case .none: ranks = count; weight = { _ in 1 }
        case .zipf(let z): ranks = z.count; let s = z.exponent; weight = { pow(Double($0), -s) }
        case .empirical(let c): ranks = c.count; weight = { c[$0 - 1] - ($0 > 1 ? c[$0 - 2] : 0) }
        }
        guard count > 0, ranks > 0 else { return (0, []) }
        var total = 0.0
        for k in 1...ranks { total += weight(k) }
        var weights: [Double] = []
        weights.reserveCapacity(repositories.count)
        for r in repositories {
            guard r >= 0, Int(r) < count else {
                throw TrafficProfileError.invalid(field: "repositories", reason: "no repository \(r) among the model's \(count)")
            }
            var w = 0.0
            var k = Int(r) + 1
            while k <= ranks { w += weight(k); k += count }
            weights.append(w)
        }
        let inside = weights.reduce(0, +)
        return inside > 0 ? (inside / total, cumulative(weights)) : (0, [])
    }

    /// First index whose cumulative share exceeds u.
    static func pick(_ cumulative: [Double], _ u: Double) -> Int {
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Index into a method's shape of the instant `seconds` after the profile's start.
    @inline(__always) func slot(_ seconds: Double) -> Int {
        let (hour, weekday) = TraceStatistics.hourAndWeekday(ns: startNs &+ Int64(seconds * 1e9))
        return weekday * 24 + hour
    }

    public mutating func next() throws -> Arrival? {
        guard lambdaMax > 0 else { return nil }
        let horizonSeconds = horizon.seconds
        while true {
            now += arrivals.exponential(rate: lambdaMax)
            guard now < horizonSeconds else { return nil }
            candidates += 1
            let s = slot(now)
            var total = 0.0
            for m in rates.indices { total += rates[m] * shapes[m][s] }
            // Thinning: keep with probability λ(t)/λ*.
            guard arrivals.nextDouble() * lambdaMax < total else { continue }
            accepted += 1
            var u = choices.nextDouble() * total
            var method = rates.count - 1
            for m in rates.indices {
                u -= rates[m] * shapes[m][s]
                if u < 0 { method = m; break }
            }
            return arrival(method: method, at: now)
        }
    }

    mutating func arrival(method m: Int, at seconds: Double) -> Arrival {
        let ms = serviceTime[m].sample(&costs)
        let cpuMs = cpu[m]?.sample(&costs) ?? 0
        func bytes(_ s: Sampler?) -> Int64 {
            guard let s else { return 0 }
            let v = s.sample(&costs)
            return v.isFinite ? Int64(min(v, 9e18).rounded()) : 0
        }
        let cost = RPCCost(durationNs: Int64(min(ms * 1e6, 9e18).rounded()), cpuNs: Int64(min(cpuMs * 1e6, 9e18).rounded()),
                           requestBytes: bytes(requestBytes[m]), responseBytes: bytes(responseBytes[m]),
                           packBytes: bytes(packBytes[m]))
        var repository: Int32 = -1
        if !subset.isEmpty {
            repository = subset[Self.pick(subsetCumulative, places.nextDouble())]
        } else if repositoryCount > 0 {
            let rank: Int
            switch repositoryRanks {
            case .none: rank = places.below(repositoryCount) + 1
            case .zipf(let z): rank = z.sample(&places)
            case .empirical(let c): rank = Self.pick(c, places.nextDouble()) + 1
            }
            repository = Int32((rank - 1) % repositoryCount)
        }
        let storage: Int32 = storageIndex.isEmpty ? -1 : storageIndex[Self.pick(storageCumulative, places.nextDouble())]
        return Arrival(time: SimTime(seconds: seconds), method: Int32(m), operation: methods[m].operation,
                       storage: storage, repository: repository, cost: cost)
    }

    /// The intensity λ(t) of all methods together, calls per second, `seconds` after the start.
    public func intensity(atSeconds seconds: Double) -> Double {
        let s = slot(seconds)
        return rates.indices.reduce(0) { $0 + rates[$1] * shapes[$1][s] }
    }
}
