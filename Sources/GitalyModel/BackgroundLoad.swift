import Foundation
import SimKernel

/// Traffic carried as a load instead of as calls (issue 11, hybrid fidelity): over weeks at
/// GitLab.com's rate a run cannot draw every call (165 M fetches a day, GITALY_LOGS.md §4), so
/// each storage carries its repositories' share of each stream's rate, hour by hour, and the
/// world uses what those calls would do rather than the calls:
/// - the cores and disk they keep busy (Little's law, L = λ·E[S]), which the move copies and
///   replication flows share with them (`World+Flows`);
/// - the apdex and error ratio they would show, as expected counts in each monitoring window
///   from the law of their service time at the node's current stretch (`World+Load`);
/// - the writes in progress on a repository when its move is scheduled, drawn as calls (the
///   push counter a move waits for and the write that fails its checksum stay discrete).
/// Moves, replication and faults are discrete whatever the traffic's fidelity.
public struct BackgroundLoad: Sendable, Equatable {
    /// One stream of calls: one method of a traffic profile.
    public struct Stream: Sendable, Equatable {
        public var rpcClass: RPCClass
        /// Calls per second over the whole fleet in each hour of the week, Monday 00:00 UTC
        /// first (168 values).
        public var hourOfWeekRates: [Double]
        /// A call's CPU seconds, stretched beside copies, to which its bytes at the disk's rate
        /// are added; nil: the call takes `duration` as it is (as `World.recordedServiceSeconds`
        /// costs a call with or without a logged CPU time).
        public var cpu: CostLaw?
        public var duration: CostLaw
        /// Mean bytes a call reads and writes; nil: the class model's.
        public var bytesRead: Double?
        public var bytesWritten: Double?

        public init(rpcClass: RPCClass, hourOfWeekRates: [Double], cpu: CostLaw?, duration: CostLaw, bytesRead: Double? = nil, bytesWritten: Double? = nil) {
            precondition(hourOfWeekRates.count == 168, "a stream needs one rate for each of the week's 168 hours")
            self.rpcClass = rpcClass; self.hourOfWeekRates = hourOfWeekRates; self.cpu = cpu; self.duration = duration
            self.bytesRead = bytesRead; self.bytesWritten = bytesWritten
        }
    }

    /// Which repositories the calls go to: the repository of popularity rank k is the world's
    /// at place (k − 1) mod count (`World.place(of:)`), the mapping synthetic traffic uses, so
    /// both fidelities load the same storages.
    public enum Popularity: Sendable, Equatable {
        case uniform
        case zipf(count: Int, exponent: Double)
        /// Relative weights, rank 1 first.
        case weights([Double])

        /// How many ranks the calls are dealt over, with `repositories` in the world (uniform:
        /// one rank per repository).
        func ranks(repositories: Int) -> Int {
            switch self {
            case .uniform: return repositories
            case .zipf(let count, _): return count
            case .weights(let w): return w.count
            }
        }

        /// Rank k's relative weight, k from 1.
        func weight(rank k: Int) -> Double {
            switch self {
            case .uniform: return 1
            case .zipf(_, let exponent): return pow(Double(k), -exponent)
            case .weights(let w): return w[k - 1]
            }
        }
    }

    public var streams: [Stream]
    /// Seconds from a Monday 00:00 UTC to simulated time zero.
    public var startSecondsIntoWeek: Double
    public var popularity: Popularity
    /// The calls simulated one by one instead, where the load carries none of them.
    public var rpcPart: RPCPart?

    /// Which calls of a load-level run are simulated one by one.
    public enum RPCPart: Sendable, Equatable {
        /// Every call in these simulated seconds (an RPC-level window).
        case window(Range<Double>)
        /// For the whole run, the calls to the repositories placed on these GitLab storages
        /// (indices into the fleet's virtual storages) at the start, wherever their moves take
        /// them; drawn by a thinned source outside the world (`SyntheticTraffic`).
        case storages([Int])
        /// The calls to a repository while a move of it is in flight, from its scheduling to
        /// its end, drawn by the world itself (`World.inFlightCall`).
        case inFlight
    }

    public init(streams: [Stream], startSecondsIntoWeek: Double = 0, popularity: Popularity = .uniform, rpcPart: RPCPart? = nil) {
        self.streams = streams; self.startSecondsIntoWeek = startSecondsIntoWeek; self.popularity = popularity; self.rpcPart = rpcPart
    }

    /// The hour of the week (0 ..< 168) at simulated second `t`.
    func hourOfWeek(atSeconds t: Double) -> Int {
        Int(((startSecondsIntoWeek + t) / 3600).rounded(.down)) % 168
    }

    /// Whether the load stands for the traffic at simulated second `t`.
    func carries(atSeconds t: Double) -> Bool {
        guard case .window(let w) = rpcPart else { return true }
        return !w.contains(t)
    }
}

/// The law of one cost of a call (CPU seconds, handler seconds) as a load needs it: its mean,
/// its distribution function, draws, and the law of what remains of a call already in progress.
/// Kept as a table of quantiles on a logit grid (dense in both tails), so any family the traffic
/// profiles allow fits the same 16 kB and the world needs no distribution library; between grid
/// points the CDF is linear. The grid spans probabilities 1e-7 … 1 − 1e-7, so a tail beyond is
/// cut there (its mean is the table's when the family's is infinite, a Pareto of shape ≤ 1).
public struct CostLaw: Sendable, Equatable {
    public let mean: Double
    /// Quantiles `xs[i]` at probabilities `ps[i]`, both non-decreasing.
    let xs: [Double]
    let ps: [Double]
    /// The equilibrium law's CDF at `remainingXs` (0 then `xs`): (1/m)∫₀ˣ(1 − F(t))dt, the law
    /// of the time left to a call found in progress when arrivals are Poisson (the M/G/∞ queue
    /// in equilibrium; Ross, "Stochastic Processes", 2nd ed., §3.5).
    let remainingXs: [Double]
    let remaining: [Double]

    /// - Parameters:
    ///   - mean: the family's mean; an infinite one is replaced by the table's.
    ///   - quantile: the family's inverse CDF.
    public init(mean: Double, quantile: (Double) -> Double, points: Int = 512) {
        precondition(points >= 2)
        let edge = log((1 - 1e-7) / 1e-7)
        var xs: [Double] = [], ps: [Double] = []
        for i in 0..<points {
            let z = -edge + 2 * edge * Double(i) / Double(points - 1)
            let p = 1 / (1 + exp(-z))
            ps.append(p)
            xs.append(max(xs.last ?? 0, max(0, quantile(p))))
        }
        // ∫(1 − F) by trapezoids from 0, with F taken as 0 below the first point.
        var remaining = [0.0, xs[0]]
        for i in 1..<points { remaining.append(remaining[i] + (xs[i] - xs[i - 1]) * (2 - ps[i] - ps[i - 1]) / 2) }
        let total = remaining[points]
        self.remaining = total > 0 ? remaining.map { $0 / total } : [0] + ps
        remainingXs = [0] + xs
        var tableMean = xs[0] * ps[0]
        for i in 1..<points { tableMean += (ps[i] - ps[i - 1]) * (xs[i] + xs[i - 1]) / 2 }
        self.mean = mean.isFinite ? mean : tableMean
        self.xs = xs
        self.ps = ps
    }

    /// A cost that is always `value`.
    public static func constant(_ value: Double) -> CostLaw { CostLaw(mean: value, quantile: { _ in value }, points: 2) }

    /// P(X ≤ x).
    public func cdf(_ x: Double) -> Double { Self.interpolate(x, from: xs, to: ps, below: 0, above: 1) }

    /// A draw by inversion of one uniform.
    public func sample(_ random: inout RandomStream) -> Double {
        Self.interpolate(random.nextDouble(), from: ps, to: xs, below: xs[0], above: xs[xs.count - 1])
    }

    /// What remains of a call found in progress, by inversion of one uniform.
    public func sampleRemaining(_ random: inout RandomStream) -> Double {
        Self.interpolate(random.nextDouble(), from: remaining, to: remainingXs, below: 0, above: xs[xs.count - 1])
    }

    /// Linear interpolation of the table `from` → `to` at `v`, `below` under its first point
    /// and `above` from its last on (so a vertical stretch, such as a constant's, gives its
    /// upper value).
    static func interpolate(_ v: Double, from: [Double], to: [Double], below: Double, above: Double) -> Double {
        guard v >= from[0] else { return below }
        let last = from.count - 1
        guard v < from[last] else { return above }
        var lo = 0, hi = last
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if from[mid] <= v { lo = mid } else { hi = mid }
        }
        let span = from[hi] - from[lo]
        return span > 0 ? to[lo] + (to[hi] - to[lo]) * (v - from[lo]) / span : to[hi]
    }
}
