import Foundation

/// An axis range widened to "nice" ticks: multiples of 1, 2 or 5 × 10^k.
public struct NiceScale: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var step: Double

    /// The smallest step of the form {1, 2, 5} × 10^k whose ticks cover `low...high` with at most
    /// `maxTicks` ticks; the range is widened outward to the enclosing multiples of that step.
    public init(low lowest: Double, high highest: Double, maxTicks: Int = 6) {
        precondition(maxTicks >= 2, "an axis needs at least two ticks")
        precondition(lowest.isFinite && highest.isFinite, "axis range must be finite, got \(lowest)...\(highest)")
        var low = Swift.min(lowest, highest)
        var high = Swift.max(lowest, highest)
        if high - low < 1e-12 * max(1, abs(high)) {
            // A flat series: open a range around it so that the line sits inside the plot.
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        var exponent = floor(log10((high - low) / Double(maxTicks - 1)))
        while true {
            for multiple in [1.0, 2.0, 5.0] {
                let step = multiple * pow(10, exponent)
                let first = floor(low / step + 1e-9)
                let last = ceil(high / step - 1e-9)
                if Int(last - first) + 1 <= maxTicks {
                    self.lower = first * step
                    self.upper = last * step
                    self.step = step
                    return
                }
            }
            exponent += 1
        }
    }

    /// The tick values from `lower` to `upper`, computed by multiplication to avoid drift.
    public var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded())
        let first = (lower / step).rounded()
        return (0...count).map { index in
            let value = (first + Double(index)) * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
    }

    /// Decimals a tick label needs to tell neighbouring ticks apart.
    public var decimals: Int { max(0, -Int(floor(log10(step) + 1e-9))) }
}

/// The unit a time axis is labelled in, chosen from the span it covers.
enum TimeUnit {
    case minutes, hours, days

    init(spanSeconds: Double) {
        if spanSeconds <= 3 * 3600 {
            self = .minutes
        } else if spanSeconds <= 4 * 86_400 {
            self = .hours
        } else {
            self = .days
        }
    }

    var seconds: Double {
        switch self {
        case .minutes: return 60
        case .hours: return 3600
        case .days: return 86_400
        }
    }

    var label: String {
        switch self {
        case .minutes: return "minutes"
        case .hours: return "hours"
        case .days: return "days"
        }
    }
}
