#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): used only to expand a 64-bit seed into a generator's state, as the
/// xoshiro authors recommend.
public struct SplitMix64: Sendable {
    public var state: UInt64
    @inlinable public init(state: UInt64) { self.state = state }
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One independent stream of pseudorandom numbers: xoshiro256** 1.0 (Blackman and Vigna,
/// "Scrambled linear pseudorandom number generators", ACM TOMS 2021).
///
/// We own the generator because the standard library promises no stable sequence across
/// versions or platforms, and a seed must reproduce a run bit for bit.
public struct RandomStream: Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A stream whose state is SplitMix64 expanded from `seed`.
    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
        // The all-zero state is the generator's only fixed point; SplitMix64 never yields four
        // zeros in a row, but the check costs nothing at seeding time.
        precondition(s0 | s1 | s2 | s3 != 0)
    }

    /// A stream with the given raw state (for reproducing published test vectors); not all zero.
    public init(state s: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(s.0 | s.1 | s.2 | s.3 != 0, "xoshiro256** state must not be all zero")
        (s0, s1, s2, s3) = s
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform on [0, 1), 53 random bits.
    @inlinable public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform on (0, 1]: safe to take the logarithm of.
    @inlinable public mutating func nextOpenUnit() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// Uniform integer in 0..<n, without modulo bias (Lemire, "Fast random integer generation
    /// in an interval", ACM TOMACS 2019).
    @inlinable public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(n) needs n > 0")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// True with probability p.
    @inlinable public mutating func bernoulli(_ p: Double) -> Bool { nextDouble() < p }

    /// Exponential with the given rate (events per unit), by inversion: -ln(U)/rate.
    @inlinable public mutating func exponential(rate: Double) -> Double {
        -log(nextOpenUnit()) / rate
    }

    /// Exponential with the given mean, as simulated time, at most `exponentialTimeCap`: with
    /// a mean of decades a draw can pass the 292 years a SimTime holds, and a time that far is
    /// as good as never (the cap leaves room to add it to any instant within 146 years).
    @inlinable public mutating func exponentialTime(mean: SimTime) -> SimTime {
        let nanoseconds = (-log(nextOpenUnit()) * Double(mean.nanoseconds)).rounded()
        return nanoseconds < Double(Self.exponentialTimeCap.nanoseconds) ? SimTime(nanoseconds: Int64(nanoseconds)) : Self.exponentialTimeCap
    }

    /// Half the longest SimTime, about 146 years.
    public static let exponentialTimeCap = SimTime(nanoseconds: Int64.max / 2)
}

/// The source of every stream in a run: one independent stream per named component,
/// derived from (run seed, component name, replication index).
///
/// Deriving by name, not by creation order, means adding a component never changes another
/// component's draws, and two plans run with the same seed see the same traffic and the same
/// faults (common random numbers, Law, "Simulation Modeling and Analysis", 5th ed., 11.2).
public struct RandomStreams: Sendable {
    public let seed: UInt64
    public let replication: Int

    public init(seed: UInt64, replication: Int = 0) {
        self.seed = seed
        self.replication = replication
    }

    /// The stream for `component`. Asking twice for the same name gives the same stream.
    public func stream(_ component: String) -> RandomStream {
        RandomStream(seed: Self.derive(seed: seed, component: component, replication: replication))
    }

    /// The 64-bit seed of a component's stream: FNV-1a over the name's UTF-8 bytes (stable on
    /// every platform, unlike `Hasher`), mixed with the run seed and replication index through
    /// SplitMix64's finaliser so that nearby inputs give unrelated seeds.
    public static func derive(seed: UInt64, component: String, replication: Int) -> UInt64 {
        let h = fnv1a(component.utf8)
        var sm = SplitMix64(state: seed)
        var x = sm.next() ^ h
        sm = SplitMix64(state: x)
        x = sm.next() ^ UInt64(bitPattern: Int64(replication))
        sm = SplitMix64(state: x)
        return sm.next()
    }
}
