import Foundation

/// Upper bounds on the command line's counts and lengths: a number past one is refused with the
/// bound in the message, before it can exhaust memory or run for days. Each is ASSUMED, set far
/// above any run the project makes (capacity plans cover weeks; the benchmarks use a million
/// pending events and customers) and below what this kind of machine (a few GiB per process)
/// holds or finishes in hours.
enum Limits {
    /// A year of simulated time; also keeps every horizon far inside SimTime's 292 years.
    static let hours = 8_760.0
    /// A repository of the world costs a few hundred bytes plus its replicas' records.
    static let repositories = 10_000_000
    /// A pending event of the hold model costs about 40 bytes in the queue.
    static let pending = 50_000_000
    static let customers = 1_000_000_000
    /// Servers of the M/M/c queue, each an array slot and a busy-server record.
    static let servers = 100_000
    static let events = 10_000_000_000
    static let rpcs = 1_000_000_000
    /// Rate multipliers (`--rate`, `--growth`): the replay's own bound on copies per call.
    static let rateFactor = 1000.0
    /// Lines and rows of `trace bench`: each line is 1.4 kB on disk.
    static let benchLines = 100_000_000
    static let benchRows = 1_000_000_000

    /// Refuses a length of simulated hours that is not positive or past `hours`.
    static func check(hours: Double, flag: String = "--hours") throws {
        guard hours > 0, hours.isFinite, hours <= Self.hours else {
            throw InputError("\(flag) must be a positive number of at most \(Int(Self.hours)) (a year of simulated time), got \(hours)")
        }
    }

    /// Refuses a count below `minimum` or above `maximum`.
    static func check(_ value: Int, _ flag: String, minimum: Int = 1, maximum: Int) throws {
        guard value >= minimum, value <= maximum else {
            throw InputError("\(flag) must be \(minimum) to \(maximum), got \(value)")
        }
    }
}

/// Reads a `--seed`: a whole number from 0 to 2⁶⁴ − 1. Parsed by hand (with the option's
/// `.unconditional` parsing) so that `--seed -5` says what is wrong with the value instead of
/// "Missing value".
func parseSeed(_ text: String) throws -> UInt64 {
    guard let v = UInt64(text) else { throw InputError("a seed is a whole number from 0 to \(UInt64.max)") }
    return v
}
