/// Why a distribution could not be built or fitted. Thrown, never trapped: parameters and data
/// come from operators' files and traces, so a bad value is an operating condition, not a bug.
public enum DistributionError: Error, Equatable, CustomStringConvertible {
    /// A parameter is out of its domain; `name` is the initialiser's label (`rate`, `shape`, ...).
    case invalidParameter(name: String, value: Double, reason: String)
    /// A fit or an empirical distribution needs at least `needed` observations.
    case notEnoughData(needed: Int, got: Int)
    /// An observation cannot be used; the text names its index and value.
    case invalidData(String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, reason):
            return "parameter \(name) \(reason), got \(value)"
        case let .notEnoughData(needed, got):
            return "need at least \(needed) observations, got \(got)"
        case let .invalidData(text):
            return text
        }
    }
}

/// Parameter checks shared by every distribution's initialiser, so that the wording of the
/// errors is the same everywhere.
enum Check {
    static func positive(_ name: String, _ value: Double) throws {
        guard value.isFinite, value > 0 else {
            throw DistributionError.invalidParameter(name: name, value: value, reason: "must be a positive finite number")
        }
    }

    static func finite(_ name: String, _ value: Double) throws {
        guard value.isFinite else {
            throw DistributionError.invalidParameter(name: name, value: value, reason: "must be a finite number")
        }
    }

    static func nonNegative(_ name: String, _ value: Double) throws {
        guard value.isFinite, value >= 0 else {
            throw DistributionError.invalidParameter(name: name, value: value, reason: "must be a finite number at least 0")
        }
    }

    /// Every observation finite; the first offender is named by index.
    static func finiteData(_ xs: [Double]) throws {
        for (i, x) in xs.enumerated() where !x.isFinite {
            throw DistributionError.invalidData("observation at index \(i) is \(x); every observation must be a finite number")
        }
    }

    /// Every observation strictly positive and finite, as the logarithm in lognormal, Weibull
    /// and Pareto likelihoods needs.
    static func positiveData(_ xs: [Double]) throws {
        for (i, x) in xs.enumerated() where !(x.isFinite && x > 0) {
            throw DistributionError.invalidData("observation at index \(i) is \(x); this fit needs positive finite observations")
        }
    }

    static func count(_ xs: [Double], atLeast needed: Int) throws {
        guard xs.count >= needed else { throw DistributionError.notEnoughData(needed: needed, got: xs.count) }
    }

    /// A probability argument to `quantile`: a caller passing p outside [0, 1] has a bug.
    static func probability(_ p: Double) {
        precondition(p >= 0 && p <= 1, "quantile needs 0 <= p <= 1, got \(p)")
    }
}
