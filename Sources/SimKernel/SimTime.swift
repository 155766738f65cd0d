/// A point on the simulated clock, in integer nanoseconds since the start of a run.
///
/// Integer time makes event order exact and identical on every machine: two events at
/// "the same" instant really compare equal, and ties fall back to insertion order.
/// 2^63 ns is about 292 years of simulated time, far beyond any migration horizon.
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = SimTime(nanoseconds: 0)
    public static let max = SimTime(nanoseconds: Int64.max)

    /// Converts seconds to the nearest nanosecond. Non-finite or negative input is a bug
    /// in the caller (a duration is never negative), so it traps.
    @inlinable public init(seconds: Double) {
        precondition(seconds.isFinite && seconds >= 0, "SimTime(seconds:) needs a finite, non-negative value, got \(seconds)")
        let ns = (seconds * 1e9).rounded()
        self.nanoseconds = ns >= 9.2e18 ? Int64.max : Int64(ns)
    }

    @inlinable public static func seconds(_ s: Double) -> SimTime { SimTime(seconds: s) }
    @inlinable public static func milliseconds(_ ms: Double) -> SimTime { SimTime(seconds: ms / 1e3) }
    @inlinable public static func minutes(_ m: Double) -> SimTime { SimTime(seconds: m * 60) }
    @inlinable public static func hours(_ h: Double) -> SimTime { SimTime(seconds: h * 3600) }

    @inlinable public var seconds: Double { Double(nanoseconds) * 1e-9 }

    @inlinable public static func < (a: SimTime, b: SimTime) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Adds a duration, saturating at `.max` so "never" stays "never".
    @inlinable public static func + (a: SimTime, b: SimTime) -> SimTime {
        let (sum, overflow) = a.nanoseconds.addingReportingOverflow(b.nanoseconds)
        return overflow ? .max : SimTime(nanoseconds: sum)
    }

    @inlinable public static func - (a: SimTime, b: SimTime) -> SimTime {
        SimTime(nanoseconds: a.nanoseconds - b.nanoseconds)
    }

    public var description: String {
        if self == .max { return "never" }
        return "\(seconds)s"
    }
}
