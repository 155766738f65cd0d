import Foundation
import GRDB
import SimKernel
import Stochastics

/// Fits a `TrafficProfile` to a stored trace, in one streaming pass over its rows plus a few
/// grouped queries. Memory is bounded: each method keeps a fixed-size uniform sample of its
/// durations, CPU times and sizes (reservoir sampling, Vitter's algorithm R, "Random sampling
/// with a reservoir", ACM TOMS 1985), seeded so that a fit is reproducible.
public enum TraceFit {
    public struct Options: Sendable {
        /// Largest sample kept per method and quantity; fits and KS statistics use it.
        public var reservoirSize = 20_000
        /// Repository popularity is written as an empirical table when the Zipf fit's largest CDF
        /// gap exceeds this and the trace has at most `empiricalRepositoryLimit` repositories.
        public var zipfTolerance = 0.05
        public var empiricalRepositoryLimit = 10_000
        public var seed: UInt64 = 1
        public init() {}
    }

    /// Per-method accumulators of the streaming pass.
    struct MethodAccumulator {
        var count = 0
        var errors = 0
        var bySlot = [Double](repeating: 0, count: 168)
        var duration = Reservoir()
        var cpu = Reservoir()
        var requestBytes = Reservoir()
        var responseBytes = Reservoir()
        var packBytes = Reservoir()
    }

    /// A uniform sample of at most `limit` values from a stream (algorithm R).
    struct Reservoir {
        var values: [Double] = []
        var seen = 0
        mutating func add(_ x: Double, limit: Int, rng: inout RandomStream) {
            seen += 1
            if values.count < limit {
                values.append(x)
            } else {
                let j = rng.below(seen)
                if j < limit { values[j] = x }
            }
        }
    }

    public static func fit(_ store: TraceStore, options: Options = Options()) throws -> TrafficProfile {
        try store.translatingErrors { try store.queue.read { db in
            try StoredCall.checkAll(db)
            guard let bounds = try Row.fetchOne(db, sql: "SELECT MIN(arrival_ns), MAX(arrival_ns), COUNT(*) FROM rpc"),
                  let first = bounds[0] as Int64?, let last = bounds[1] as Int64? else {
                throw TraceStoreError.empty(path: store.path)
            }
            let total: Int = bounds[2]
            let methodRows = try Row.fetchAll(db, sql: "SELECT id, service, name, operation FROM method ORDER BY id")
            let maxId = methodRows.last.map { $0["id"] as Int } ?? 0
            var acc = [MethodAccumulator](repeating: MethodAccumulator(), count: maxId + 1)
            var rng = RandomStreams(seed: options.seed).stream("traffic.fit.reservoir")
            let okId = try Int64.fetchOne(db, sql: "SELECT id FROM code WHERE name = 'OK'") ?? -1
            let limit = options.reservoirSize
            let rows = try Row.fetchCursor(db, sql: """
                SELECT method_id, arrival_ns, duration_ns, cpu_ms, request_bytes, response_bytes, pack_bytes, code_id FROM rpc
                """)
            while let row = try rows.next() {
                let m: Int = row[0]
                let (hour, weekday) = TraceStatistics.hourAndWeekday(ns: row[1])
                acc[m].count += 1
                acc[m].bySlot[weekday * 24 + hour] += 1
                // A zero duration (a call logged as 0.000 ms) is floored at 1 µs, the log's
                // resolution, so that log-scale families can be fitted.
                acc[m].duration.add(max(Double(row[2] as Int64) / 1e6, 0.001), limit: limit, rng: &rng)
                if let c = row[3] as Double?, c > 0 { acc[m].cpu.add(c, limit: limit, rng: &rng) }
                if let b = row[4] as Int64?, b > 0 { acc[m].requestBytes.add(Double(b), limit: limit, rng: &rng) }
                if let b = row[5] as Int64?, b > 0 { acc[m].responseBytes.add(Double(b), limit: limit, rng: &rng) }
                if let b = row[6] as Int64?, b > 0 { acc[m].packBytes.add(Double(b), limit: limit, rng: &rng) }
                if (row[7] as Int64) != okId { acc[m].errors += 1 }
            }
            let exposure = exposureBySlot(firstNs: first, lastNs: last)
            var methods: [MethodProfile] = []
            var opCounts: [OperationType: Int] = [:]
            for r in methodRows {
                let id: Int = r["id"]
                let a = acc[id]
                guard a.count > 0 else { continue }
                let op = OperationType(rawValue: r["operation"]) ?? .unknown
                opCounts[op, default: 0] += a.count
                let shape = fitShape(counts: a.bySlot, exposure: exposure)
                methods.append(MethodProfile(
                    service: r["service"], method: r["name"], operation: op == .unknown ? nil : op.name,
                    ratePerSecond: significant(shape.rate), hourOfDay: shape.hours, dayOfWeek: shape.days,
                    serviceTimeMs: bestFit(a.duration.values, seen: a.duration.seen)!,
                    cpuMs: bestFit(a.cpu.values, seen: a.cpu.seen),
                    requestBytes: bestFit(a.requestBytes.values, seen: a.requestBytes.seen),
                    responseBytes: bestFit(a.responseBytes.values, seen: a.responseBytes.seen),
                    packBytes: bestFit(a.packBytes.values, seen: a.packBytes.seen),
                    errorRatio: significant(Double(a.errors) / Double(a.count))))
            }
            let storages = try Row.fetchAll(db, sql: """
                SELECT s.name, COUNT(*) AS n FROM rpc r JOIN storage s ON s.id = r.storage_id
                GROUP BY r.storage_id ORDER BY n DESC, s.name
                """).map { StorageShare(name: $0[0], share: significant(Double($0[1] as Int) / Double(total))) }
            let repoCounts = try Int.fetchAll(db, sql: """
                SELECT COUNT(*) AS n FROM rpc WHERE repository_id IS NOT NULL GROUP BY repository_id ORDER BY n DESC
                """)
            var mix: [String: Double] = [:]
            for (op, n) in opCounts { mix[op.name] = significant(Double(n) / Double(total)) }
            return TrafficProfile(
                description: "Fitted by rehearse trace fit to \(total) RPCs from \(Timestamp.format(ns: first)) to \(Timestamp.format(ns: last)).",
                start: Timestamp.format(ns: first),
                methods: methods,
                repositories: repositoryPopularity(repoCounts, options: options),
                storages: storages.isEmpty ? nil : storages,
                operationMix: SortedValues(mix))
        } }
    }

    /// Seconds of the span [first, last] that fall in each hour-of-week slot (weekday × 24 +
    /// hour, UTC). A span shorter than a second counts as one second so that rates stay finite.
    static func exposureBySlot(firstNs: Int64, lastNs: Int64) -> [Double] {
        var exposure = [Double](repeating: 0, count: 168)
        let hourNs: Int64 = 3_600_000_000_000
        var t = firstNs
        let end = max(lastNs, firstNs + 1_000_000_000)
        while t < end {
            let boundary = (t >= 0 ? t / hourNs + 1 : t / hourNs) * hourNs
            let stop = min(boundary, end)
            let (hour, weekday) = TraceStatistics.hourAndWeekday(ns: t)
            exposure[weekday * 24 + hour] += Double(stop - t) / 1e9
            t = stop
        }
        return exposure
    }

    struct Shape {
        var rate: Double
        var hours: [Double]?
        var days: [Double]?
    }

    /// Fits λ(slot) = rate × H[hour] × D[weekday] to counts per slot with known exposure.
    ///
    /// For Poisson counts this multiplicative model's maximum-likelihood estimate satisfies the
    /// margin equations Σ_d n[d,h] = Σ_d e[d,h]·r·H[h]·D[d] and the same over h, which iterative
    /// proportional fitting solves by alternating the two (Bishop, Fienberg and Holland,
    /// "Discrete Multivariate Analysis", ch. 3). Hours or days the trace never covers carry no
    /// information: they are set to the mean of the covered ones (a slot counts as covered after
    /// five minutes of exposure). A shape is written only when
    /// the trace covers at least two of its hours (days).
    static func fitShape(counts: [Double], exposure: [Double]) -> Shape {
        var h = [Double](repeating: 1, count: 24)
        var d = [Double](repeating: 1, count: 7)
        // A slot seen for less than five minutes (the edges of a trace) says nothing about its
        // hour's rate and would be noise in the shape: it is left out of the shape, though its
        // calls and exposure still count towards the rate.
        let minimumExposureSeconds = 300.0
        let used = exposure.map { $0 >= minimumExposureSeconds }
        let shapeCounts = counts.indices.map { used[$0] ? counts[$0] : 0 }
        let shapeExposure = exposure.indices.map { used[$0] ? exposure[$0] : 0 }
        let hourCovered = (0..<24).map { hr in (0..<7).contains { used[$0 * 24 + hr] } }
        let dayCovered = (0..<7).map { dy in (0..<24).contains { used[dy * 24 + $0] } }
        for _ in 0..<50 {
            for hr in 0..<24 where hourCovered[hr] {
                var n = 0.0, e = 0.0
                for dy in 0..<7 { n += shapeCounts[dy * 24 + hr]; e += shapeExposure[dy * 24 + hr] * d[dy] }
                h[hr] = e > 0 ? n / e : 0
            }
            for dy in 0..<7 where dayCovered[dy] {
                var n = 0.0, e = 0.0
                for hr in 0..<24 { n += shapeCounts[dy * 24 + hr]; e += shapeExposure[dy * 24 + hr] * h[hr] }
                d[dy] = e > 0 ? n / e : 0
            }
        }
        func fill(_ v: inout [Double], _ covered: [Bool]) {
            let known = v.indices.filter { covered[$0] }.map { v[$0] }
            let mean = known.isEmpty ? 1 : known.reduce(0, +) / Double(known.count)
            for i in v.indices where !covered[i] { v[i] = mean }
            let all = v.reduce(0, +) / Double(v.count)
            if all > 0 { v = v.map { $0 / all } } else { v = v.map { _ in 1 } }
        }
        fill(&h, hourCovered)
        fill(&d, dayCovered)
        var expected = 0.0
        for dy in 0..<7 { for hr in 0..<24 { expected += exposure[dy * 24 + hr] * h[hr] * d[dy] } }
        let n = counts.reduce(0, +)
        return Shape(
            rate: expected > 0 ? n / expected : 0,
            hours: hourCovered.filter { $0 }.count >= 2 ? h.map(round6) : nil,
            days: dayCovered.filter { $0 }.count >= 2 ? d.map(round6) : nil)
    }

    static func round6(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }

    /// `x` to ten significant digits: the YAML writer prints fifteen, so a written profile reads
    /// back bit for bit, and no fit is meaningful beyond ten digits anyway.
    static func significant(_ x: Double) -> Double {
        guard x.isFinite, x != 0 else { return x }
        return Double(String(format: "%.10g", x)) ?? x
    }

    /// The family with the smallest Kolmogorov–Smirnov statistic among exponential, log-normal,
    /// Weibull and Pareto, fitted by maximum likelihood (Stochastics.Fit). Fewer than ten values,
    /// or values all equal, give a constant at their mean. Nil when there is no value.
    static func bestFit(_ xs: [Double], seen: Int) -> DistributionSpec? {
        guard !xs.isEmpty else { return nil }
        let mean = xs.reduce(0, +) / Double(xs.count)
        guard xs.count >= 10, xs.contains(where: { $0 != xs[0] }) else {
            return DistributionSpec(family: "constant", value: significant(mean), samples: seen)
        }
        var best: DistributionSpec?
        var candidates: [String: Double] = [:]
        func consider(_ spec: DistributionSpec, _ ks: Double) {
            candidates[spec.family] = round6(ks)
            if best.map({ ks < $0.ks! }) ?? true {
                var s = spec
                s.ks = ks
                best = s
            }
        }
        if let f = try? Fit.exponential(xs) {
            consider(DistributionSpec(family: "exponential", rate: f.distribution.rate), f.ksStatistic)
        }
        if let f = try? Fit.logNormal(xs) {
            consider(DistributionSpec(family: "logNormal", mu: f.distribution.mu, sigma: f.distribution.sigma), f.ksStatistic)
        }
        if let f = try? Fit.weibull(xs) {
            consider(DistributionSpec(family: "weibull", scale: f.distribution.scale, shape: f.distribution.shape), f.ksStatistic)
        }
        if let f = try? Fit.pareto(xs) {
            consider(DistributionSpec(family: "pareto", scale: f.distribution.scale, shape: f.distribution.shape), f.ksStatistic)
        }
        guard var chosen = best else { return DistributionSpec(family: "constant", value: significant(mean), samples: seen) }
        chosen.rate = chosen.rate.map(significant)
        chosen.mu = chosen.mu.map(significant)
        chosen.sigma = chosen.sigma.map(significant)
        chosen.scale = chosen.scale.map(significant)
        chosen.shape = chosen.shape.map(significant)
        chosen.ks = chosen.ks.map(round6)
        chosen.samples = seen
        chosen.candidates = SortedValues(candidates)
        return chosen
    }

    /// Zipf by maximum likelihood over ranks 1…n of the repositories' call counts (most called
    /// first); an empirical table instead when Zipf fits badly and the table is small.
    static func repositoryPopularity(_ counts: [Int], options: Options) -> RepositoryPopularity? {
        guard !counts.isEmpty else { return nil }
        let n = counts.count
        let total = Double(counts.reduce(0, +))
        guard n > 1 else { return RepositoryPopularity(model: "zipf", count: 1, exponent: 1, ks: 0) }
        var sumCLogK = 0.0
        for (i, c) in counts.enumerated() { sumCLogK += Double(c) * log(Double(i + 1)) }
        func harmonic(_ s: Double) -> Double {
            var h = 0.0
            for k in stride(from: n, through: 1, by: -1) { h += pow(Double(k), -s) }
            return h
        }
        // ln L(s) = −s Σ c_k ln k − N ln H(n, s) is concave in s: golden-section search.
        func logLikelihood(_ s: Double) -> Double { -s * sumCLogK - total * log(harmonic(s)) }
        var lo = 0.0, hi = 6.0
        let g = (5.0.squareRoot() - 1) / 2
        var x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo)
        var f1 = logLikelihood(x1), f2 = logLikelihood(x2)
        for _ in 0..<80 {
            if f1 < f2 { lo = x1; x1 = x2; f1 = f2; x2 = lo + g * (hi - lo); f2 = logLikelihood(x2) }
            else { hi = x2; x2 = x1; f2 = f1; x1 = hi - g * (hi - lo); f1 = logLikelihood(x1) }
        }
        let s = (lo + hi) / 2
        let h = harmonic(s)
        var gap = 0.0, empirical = 0.0, model = 0.0
        for (i, c) in counts.enumerated() {
            empirical += Double(c) / total
            model += pow(Double(i + 1), -s) / h
            gap = max(gap, abs(empirical - model))
        }
        if gap > options.zipfTolerance && n <= options.empiricalRepositoryLimit {
            return RepositoryPopularity(model: "empirical", count: n, exponent: round6(s),
                                        weights: counts.map { round6(Double($0) / total) }, ks: round6(gap))
        }
        return RepositoryPopularity(model: "zipf", count: n, exponent: round6(s), ks: round6(gap))
    }
}
