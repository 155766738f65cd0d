/// Confidence intervals for a steady-state mean from one long run, by the method of batch
/// means with a fixed number of batches whose size doubles as the run grows (Law, "Simulation
/// Modeling and Analysis", 5th ed., 9.5.3; Fishman's "LBATCH"-style doubling).
///
/// Observations are correlated (one customer's wait shapes the next one's), so their plain
/// sample variance understates the error. Means of long consecutive batches are nearly
/// independent and normal, and a t interval over them is honest.
public struct BatchMeans: Sendable {
    /// The run keeps between `batches` and 2 × `batches` full batches.
    public let batches: Int
    /// Observations dropped at the start (the warm-up, before steady state).
    public let warmup: Int
    public private(set) var batchSize: Int = 1
    @usableFromInline var sums: [Double] = []
    @usableFromInline var currentSum: Double = 0
    @usableFromInline var currentCount: Int = 0
    @usableFromInline var _seen: Int = 0
    @inlinable public var seen: Int { _seen }
    /// Sum and count of the kept observations (a plain sum: the mean is all this needs, and the
    /// hot path of a queueing model calls `add` once per customer).
    @usableFromInline var keptSum: Double = 0
    @usableFromInline var kept: Int = 0

    public init(batches: Int = 32, warmup: Int = 0) {
        precondition(batches >= 2, "batch means needs at least 2 batches")
        precondition(warmup >= 0)
        self.batches = batches
        self.warmup = warmup
        sums.reserveCapacity(2 * batches)
    }

    @inlinable public mutating func add(_ x: Double) {
        _seen += 1
        if seen <= warmup { return }
        keptSum += x
        kept += 1
        currentSum += x
        currentCount += 1
        if currentCount == batchSize {
            sums.append(currentSum)
            currentSum = 0
            currentCount = 0
            if sums.count == 2 * batches { collapse() }
        }
    }

    /// Halves the number of batches by joining neighbours; the batch size doubles.
    @usableFromInline mutating func collapse() {
        var joined = [Double]()
        joined.reserveCapacity(2 * batches)
        var i = 0
        while i + 1 < sums.count { joined.append(sums[i] + sums[i + 1]); i += 2 }
        sums = joined
        batchSize *= 2
    }

    /// Completed batch means (the partial batch at the end is left out).
    public var batchMeans: [Double] { sums.map { $0 / Double(batchSize) } }

    /// The mean over all kept observations (0 before any).
    public var mean: Double { kept > 0 ? keptSum / Double(kept) : 0 }

    /// Observations kept after the warm-up.
    public var count: Int { kept }

    /// A t interval at `level` over the completed batches; nil with fewer than `batches` of them
    /// (the run is too short for an honest interval).
    public func confidenceInterval(level: Double) -> ConfidenceInterval? {
        var t = Tally()
        for m in batchMeans { t.add(m) }
        guard t.count >= batches, let ci = t.confidenceInterval(level: level) else { return nil }
        // Centre on the mean of all kept observations; the half-width is the batch interval's.
        return ConfidenceInterval(estimate: mean, low: mean - ci.halfWidth, high: mean + ci.halfWidth, level: level)
    }

    /// Lag-1 autocorrelation of the batch means: near zero when batches are long enough.
    public var lag1Autocorrelation: Double {
        let m = batchMeans
        guard m.count > 2 else { return 0 }
        let mu = m.reduce(0, +) / Double(m.count)
        var num = 0.0, den = 0.0
        for i in m.indices {
            den += (m[i] - mu) * (m[i] - mu)
            if i > 0 { num += (m[i] - mu) * (m[i - 1] - mu) }
        }
        return den > 0 ? num / den : 0
    }
}
