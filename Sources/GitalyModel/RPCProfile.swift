import SimKernel

/// What one RPC of a class costs a Gitaly node. The defaults are placeholders of the right
/// order of magnitude for a mid-sized repository, not measurements: the Traffic module fits
/// real ones from Gitaly logs (`grpc.time_ms`, `command.cpu_time_ms`, byte counts).
public struct RPCProfile: Sendable, Equatable {
    public var cpuSecondsMean: Double
    public var bytesRead: Double
    public var bytesWritten: Double
    public init(cpuSecondsMean: Double, bytesRead: Double, bytesWritten: Double) {
        self.cpuSecondsMean = cpuSecondsMean
        self.bytesRead = bytesRead
        self.bytesWritten = bytesWritten
    }

    public static func defaultProfile(_ c: RPCClass) -> RPCProfile {
        switch c {
        case .uploadPack: return RPCProfile(cpuSecondsMean: 0.2, bytesRead: 20e6, bytesWritten: 0)
        case .receivePack: return RPCProfile(cpuSecondsMean: 0.1, bytesRead: 0, bytesWritten: 1e6)
        case .read: return RPCProfile(cpuSecondsMean: 0.005, bytesRead: 64e3, bytesWritten: 0)
        case .write: return RPCProfile(cpuSecondsMean: 0.02, bytesRead: 0, bytesWritten: 16e3)
        case .maintenance: return RPCProfile(cpuSecondsMean: 2, bytesRead: 100e6, bytesWritten: 100e6)
        }
    }
}

extension RPCClass {
    /// The deadline the client gives a call of this class. Rails calls Gitaly with its
    /// "default" timeout, 55 s unless an admin changed it (PUBLIC: GitLab docs, "Gitaly
    /// timeouts"; the fast 10 s and medium 30 s timeouts cover a few calls, not modelled per
    /// call). Clones, fetches and pushes come through Workhorse and gitlab-shell without a
    /// deadline (`grpc.meta.deadline_type: none` in Gitaly's logs, GITALY_LOGS.md), and
    /// housekeeping runs from Sidekiq without the web timeout (ASSUMED none).
    public var defaultDeadlineSeconds: Double? {
        switch self {
        case .read, .write: return 55
        case .uploadPack, .receivePack, .maintenance: return nil
        }
    }
}

/// Poisson RPC traffic generated inside the world: a rate, a mix of classes and a profile per
/// class, repositories picked uniformly. Replayed or fitted traffic comes from the Traffic
/// module through `World.submit`.
public struct TrafficSpec: Sendable, Equatable {
    public var ratePerSecond: Double
    /// Share of each class, indexed by `RPCClass.index`; need not sum to 1.
    public var mix: [Double]
    public var profiles: [RPCProfile]
    /// The client's gRPC deadline per class, nil for none (`RPCClass.defaultDeadlineSeconds`).
    public var deadlineSeconds: [Double?]

    public init(ratePerSecond: Double, mix: [(RPCClass, Double)]) {
        self.ratePerSecond = ratePerSecond
        var m = [Double](repeating: 0, count: RPCClass.allCases.count)
        for (c, share) in mix { m[c.index] = share }
        self.mix = m
        profiles = RPCClass.allCases.map(RPCProfile.defaultProfile)
        deadlineSeconds = RPCClass.allCases.map(\.defaultDeadlineSeconds)
    }

    /// The benchmark mix: 70% reads, 30% writes.
    public static func readWrite(ratePerSecond: Double) -> TrafficSpec {
        TrafficSpec(ratePerSecond: ratePerSecond, mix: [(.read, 0.7), (.write, 0.3)])
    }

    /// Cumulative shares, normalised to end at 1, for `pickClass`.
    var cumulativeMix: [Double] {
        let total = mix.reduce(0, +)
        var acc = 0.0
        return mix.map { acc += $0 / total; return acc }
    }

    /// A class drawn by the mix, from cumulative shares (see `cumulativeMix`).
    static func pickClass(cumulative: [Double], _ random: inout RandomStream) -> RPCClass {
        let u = random.nextDouble()
        for i in 0..<RPCClass.count where u < cumulative[i] { return RPCClass(index: i) }
        return RPCClass(index: RPCClass.count - 1)
    }
}
