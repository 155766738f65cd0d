#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock and memory probes for benchmarks. Simulations never read these: they exist only
/// to measure how fast the simulator itself runs.
public enum Probes {
    /// Monotonic wall-clock seconds.
    public static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Peak resident set size of this process so far, in KiB (Linux reports ru_maxrss in KiB).
    public static func peakResidentKiB() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Int(usage.ru_maxrss)
    }
}
