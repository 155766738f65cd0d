import SimKernel
import Stochastics
import SpecFiles
import Yams

/// A description of traffic from which synthetic arrivals are drawn: per-method rates with a
/// daily and weekly shape, service-time, CPU and size distributions, repository popularity and
/// storage shares. `rehearse trace fit` writes one from a trace; one can be written by hand
/// (models/traffic/).
///
/// Rates: method m arrives as a non-homogeneous Poisson process with intensity
/// λ_m(t) = ratePerSecond × hourOfDay[hour(t)] × dayOfWeek[weekday(t)] × growth, the hour and
/// weekday taken in UTC from `start` + t. The two profiles are relative: each averages 1, so
/// `ratePerSecond` is the mean rate over a week.
public struct TrafficProfile: Codable, Sendable, Equatable {
    public var version: Int = 1
    public var description: String?
    /// The calendar instant of simulated time zero (RFC 3339), which fixes where the daily and
    /// weekly shapes fall. Absent means Monday 1970-01-05T00:00:00Z.
    public var start: String?
    public var methods: [MethodProfile]
    public var repositories: RepositoryPopularity?
    /// Storage names and their share of calls; absent means calls spread evenly over the model's.
    public var storages: [StorageShare]?
    /// Share of calls per operation type, derived from `methods` when written by a fit; kept for
    /// readers of the file.
    public var operationMix: SortedValues?

    public init(description: String? = nil, start: String? = nil, methods: [MethodProfile],
                repositories: RepositoryPopularity? = nil, storages: [StorageShare]? = nil,
                operationMix: SortedValues? = nil) {
        self.description = description; self.start = start; self.methods = methods
        self.repositories = repositories; self.storages = storages; self.operationMix = operationMix
    }
}

extension TrafficProfile {
    /// Simulated time zero in nanoseconds since the Unix epoch; Monday 1970-01-05 00:00 UTC
    /// when `start` is absent.
    public var startNs: Int64 { start.flatMap(Timestamp.parseNs) ?? 4 * 86_400 * 1_000_000_000 }

    /// Seconds from the Monday 00:00 UTC before simulated time zero to it: where in the
    /// week's 168 hourly rates a run begins.
    public var startSecondsIntoWeek: Double {
        let secs = startNs >= 0 ? startNs / 1_000_000_000 : (startNs - 999_999_999) / 1_000_000_000
        let (hour, weekday) = TraceStatistics.hourAndWeekday(ns: startNs)
        let intoHour = ((secs % 3600) + 3600) % 3600
        return Double((weekday * 24 + hour) * 3600) + Double(intoHour)
    }
}

extension MethodProfile {
    /// The method as a drawn call names it: its operation as written, else from the proto table.
    public var name: MethodName {
        MethodName(service: service, method: method, operation: operation.flatMap(OperationType.init(name:)) ?? OperationType.of(method: method))
    }

    /// Relative rates for each hour of the week, Monday 00:00 UTC first (168 values): the
    /// hourly times the daily shape, each scaled to average 1 (flat when absent).
    public var hourOfWeekShape: [Double] {
        let hours = Self.normalised(hourOfDay, count: 24)
        let days = Self.normalised(dayOfWeek, count: 7)
        var shape = [Double](repeating: 0, count: 168)
        for d in 0..<7 { for h in 0..<24 { shape[d * 24 + h] = hours[h] * days[d] } }
        return shape
    }

    /// Relative rates scaled to average 1; flat when absent.
    static func normalised(_ values: [Double]?, count: Int) -> [Double] {
        guard let values, values.count == count else { return [Double](repeating: 1, count: count) }
        let mean = values.reduce(0, +) / Double(count)
        return mean > 0 ? values.map { $0 / mean } : [Double](repeating: 1, count: count)
    }
}

public struct MethodProfile: Codable, Sendable, Equatable {
    public var service: String
    public var method: String
    /// accessor, mutator or maintenance; absent means "from the proto table".
    public var operation: String?
    public var ratePerSecond: Double
    /// 24 relative rates, 00:00 UTC first, averaging 1. Absent means flat.
    public var hourOfDay: [Double]?
    /// 7 relative rates, Monday first, averaging 1. Absent means flat.
    public var dayOfWeek: [Double]?
    /// Handler time in milliseconds.
    public var serviceTimeMs: DistributionSpec
    public var cpuMs: DistributionSpec?
    public var requestBytes: DistributionSpec?
    public var responseBytes: DistributionSpec?
    public var packBytes: DistributionSpec?
    /// Share of calls that end with a code other than OK.
    public var errorRatio: Double?

    public init(service: String, method: String, operation: String? = nil, ratePerSecond: Double,
                hourOfDay: [Double]? = nil, dayOfWeek: [Double]? = nil, serviceTimeMs: DistributionSpec,
                cpuMs: DistributionSpec? = nil, requestBytes: DistributionSpec? = nil,
                responseBytes: DistributionSpec? = nil, packBytes: DistributionSpec? = nil, errorRatio: Double? = nil) {
        self.service = service; self.method = method; self.operation = operation; self.ratePerSecond = ratePerSecond
        self.hourOfDay = hourOfDay; self.dayOfWeek = dayOfWeek; self.serviceTimeMs = serviceTimeMs; self.cpuMs = cpuMs
        self.requestBytes = requestBytes; self.responseBytes = responseBytes; self.packBytes = packBytes
        self.errorRatio = errorRatio
    }
}

/// A distribution by family and parameters, as written in a profile:
/// `constant` (value), `exponential` (rate), `logNormal` (mu, sigma of ln x), `weibull`
/// (scale, shape), `pareto` (scale, shape). `ks` and `samples` record the fit it came from.
public struct DistributionSpec: Codable, Sendable, Equatable {
    public var family: String
    public var value: Double?
    public var rate: Double?
    public var mu: Double?
    public var sigma: Double?
    public var scale: Double?
    public var shape: Double?
    /// Kolmogorov–Smirnov statistic of the fit against its data.
    public var ks: Double?
    public var samples: Int?
    /// KS statistics of every family tried, for the record.
    public var candidates: SortedValues?

    public init(family: String, value: Double? = nil, rate: Double? = nil, mu: Double? = nil, sigma: Double? = nil,
                scale: Double? = nil, shape: Double? = nil, ks: Double? = nil, samples: Int? = nil,
                candidates: SortedValues? = nil) {
        self.family = family; self.value = value; self.rate = rate; self.mu = mu; self.sigma = sigma
        self.scale = scale; self.shape = shape; self.ks = ks; self.samples = samples; self.candidates = candidates
    }

    public static func logNormal(mu: Double, sigma: Double) -> DistributionSpec {
        DistributionSpec(family: "logNormal", mu: mu, sigma: sigma)
    }

    /// The sampler, or the reason the parameters are unusable.
    public func sampler(field: String) throws -> Sampler {
        func need(_ v: Double?, _ name: String) throws -> Double {
            guard let v else { throw TrafficProfileError.invalid(field: "\(field).\(name)", reason: "is required for family \(family)") }
            return v
        }
        do {
            switch family {
            case "constant":
                let v = try need(value, "value")
                guard v.isFinite, v >= 0 else { throw TrafficProfileError.invalid(field: "\(field).value", reason: "must be finite and at least 0, got \(v)") }
                return .constant(v)
            case "exponential": return .exponential(try Exponential(rate: try need(rate, "rate")))
            case "logNormal": return .logNormal(try LogNormal(mu: try need(mu, "mu"), sigma: try need(sigma, "sigma")))
            case "weibull": return .weibull(try Weibull(scale: try need(scale, "scale"), shape: try need(shape, "shape")))
            case "pareto": return .pareto(try Pareto(scale: try need(scale, "scale"), shape: try need(shape, "shape")))
            default:
                throw TrafficProfileError.invalid(field: "\(field).family", reason: "\"\(family)\" is not one of constant, exponential, logNormal, weibull, pareto")
            }
        } catch DistributionError.invalidParameter(let name, let value, let reason) {
            throw TrafficProfileError.invalid(field: "\(field).\(name)", reason: "\(reason), got \(value)")
        }
    }
}

/// Which repository each call goes to: `zipf` (rank k drawn with probability ∝ 1/k^exponent
/// over `count` repositories) or `empirical` (`weights`, rank 1 first).
public struct RepositoryPopularity: Codable, Sendable, Equatable {
    public var model: String
    public var count: Int?
    public var exponent: Double?
    public var weights: [Double]?
    /// Largest gap between the trace's rank-frequency CDF and the fitted Zipf CDF.
    public var ks: Double?

    public init(model: String, count: Int? = nil, exponent: Double? = nil, weights: [Double]? = nil, ks: Double? = nil) {
        self.model = model; self.count = count; self.exponent = exponent; self.weights = weights; self.ks = ks
    }
}

/// Named numbers written as a YAML mapping in key order, so that a profile's text never depends
/// on dictionary order (which Swift seeds per process).
public struct SortedValues: Codable, Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public var values: [String: Double]

    public init(_ values: [String: Double]) { self.values = values }
    public init(dictionaryLiteral elements: (String, Double)...) {
        values = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Name.self)
        for name in values.keys.sorted() { try c.encode(values[name]!, forKey: Name(stringValue: name)) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Name.self)
        var values: [String: Double] = [:]
        for key in c.allKeys { values[key.stringValue] = try c.decode(Double.self, forKey: key) }
        self.values = values
    }
}

public struct StorageShare: Codable, Sendable, Equatable {
    public var name: String
    public var share: Double
    public init(name: String, share: Double) { self.name = name; self.share = share }
}

public enum TrafficProfileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid(field: String, reason: String)
    /// An error inside a named file.
    case inFile(path: String, field: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .inFile(let path, let field, let reason): "\(path): \(field): \(reason)"
        }
    }
}

/// A distribution to draw from, switched over without existentials on the hot path.
public enum Sampler: Sendable {
    case constant(Double)
    case exponential(Exponential)
    case logNormal(LogNormal)
    case weibull(Weibull)
    case pareto(Pareto)

    /// The expectation (`.infinity` where it does not exist, a Pareto of shape at most 1).
    public var mean: Double {
        switch self {
        case .constant(let v): v
        case .exponential(let d): d.mean
        case .logNormal(let d): d.mean
        case .weibull(let d): d.mean
        case .pareto(let d): d.mean
        }
    }

    /// The generalised inverse of the CDF; a constant's is its value for every p.
    public func quantile(_ p: Double) -> Double {
        switch self {
        case .constant(let v): v
        case .exponential(let d): d.quantile(p)
        case .logNormal(let d): d.quantile(p)
        case .weibull(let d): d.quantile(p)
        case .pareto(let d): d.quantile(p)
        }
    }

    @inline(__always) public func sample(_ rng: inout RandomStream) -> Double {
        switch self {
        case .constant(let v): v
        case .exponential(let d): d.sample(&rng)
        case .logNormal(let d): d.sample(&rng)
        case .weibull(let d): d.sample(&rng)
        case .pareto(let d): d.sample(&rng)
        }
    }
}

extension TrafficProfile {
    /// Reads a profile from YAML text; `path` names the file in errors.
    public static func decode(yaml: String, path: String) throws -> TrafficProfile {
        let profile: TrafficProfile
        // Yams recurses once per nesting level: a file nested thousands deep is refused first.
        if let line = YAMLDepth.firstLineTooDeep(yaml) {
            throw TrafficProfileError.unreadable(path: "\(path):\(line)", reason: "YAML nested deeper than \(YAMLDepth.limit) levels; files this deep are refused before parsing")
        }
        do {
            profile = try YAMLDecoder().decode(TrafficProfile.self, from: yaml)
        } catch let error as DecodingError {
            let (field, reason) = Self.describe(error)
            throw TrafficProfileError.inFile(path: path, field: field, reason: reason)
        } catch let error as YamlError {
            let place = YAMLCursor.line(of: error).map { "\(path):\($0)" } ?? path
            throw TrafficProfileError.unreadable(path: place, reason: "YAML syntax error: \(YAMLCursor.problem(of: error))")
        } catch {
            throw TrafficProfileError.unreadable(path: path, reason: "not valid YAML: \(error)")
        }
        do {
            try profile.validate()
        } catch TrafficProfileError.invalid(let field, let reason) {
            throw TrafficProfileError.inFile(path: path, field: field, reason: reason)
        }
        return profile
    }

    public func encodeYAML(header: String? = nil) throws -> String {
        let body = Self.plainNumbers(try YAMLEncoder().encode(self))
        guard let header else { return body }
        return header.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n") + "\n" + body
    }

    /// Rewrites the encoder's scientific notation (`5.71e+1`, `1e+0`) as Swift's shortest
    /// round-trip decimal (`57.1`, `1.0`), so that a written profile reads like a hand-written one
    /// and still decodes to the same bits. Only whole scalar values on a line are touched.
    static func plainNumbers(_ yaml: String) -> String {
        var out: [Substring] = []
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let cut = line.range(of: ": ", options: .backwards) ?? line.range(of: "- ") else { out.append(line); continue }
            let value = line[cut.upperBound...]
            guard value.contains("e"), value.first.map({ $0 == "-" || $0.isNumber }) ?? false,
                  value.allSatisfy({ $0.isNumber || "+-.e".contains($0) }), let number = Double(value) else {
                out.append(line)
                continue
            }
            out.append(line[..<cut.upperBound] + Substring("\(number)"))
        }
        return out.joined(separator: "\n")
    }

    static func describe(_ error: DecodingError) -> (String, String) {
        func path(_ keys: [CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out.isEmpty ? "(top level)" : out
        }
        switch error {
        case .keyNotFound(let key, let ctx): return (path(ctx.codingPath + [key]), "is required")
        case .typeMismatch(let type, let ctx): return (path(ctx.codingPath), "expected \(type)")
        case .valueNotFound(let type, let ctx): return (path(ctx.codingPath), "expected \(type), found nothing")
        case .dataCorrupted(let ctx): return (path(ctx.codingPath), ctx.debugDescription)
        @unknown default: return ("(unknown)", "\(error)")
        }
    }

    /// ASSUMED bounds that keep a generator finite: a million calls a second for one method (a
    /// whole GitLab fleet serves tens of thousands of Gitaly calls a second), and ten million
    /// repositories (the popularity table is one Double each).
    public static let maxRatePerSecond = 1e6
    public static let maxRepositories = 10_000_000

    /// Checks every field a generator relies on; errors name the field.
    public func validate() throws {
        guard version == 1 else { throw TrafficProfileError.invalid(field: "version", reason: "must be 1, got \(version)") }
        if let start, Timestamp.parseNs(start) == nil {
            throw TrafficProfileError.invalid(field: "start", reason: "\"\(start)\" is not an RFC 3339 time")
        }
        guard !methods.isEmpty else { throw TrafficProfileError.invalid(field: "methods", reason: "must list at least one method") }
        for (i, m) in methods.enumerated() {
            let f = "methods[\(i)]"
            guard m.ratePerSecond.isFinite, m.ratePerSecond >= 0, m.ratePerSecond <= Self.maxRatePerSecond else {
                throw TrafficProfileError.invalid(field: "\(f).ratePerSecond", reason: "must be 0 to \(Int(Self.maxRatePerSecond)), got \(m.ratePerSecond)")
            }
            if let op = m.operation, OperationType(name: op) == nil {
                throw TrafficProfileError.invalid(field: "\(f).operation", reason: "\"\(op)\" is not accessor, mutator or maintenance")
            }
            try Self.checkShape(m.hourOfDay, count: 24, field: "\(f).hourOfDay")
            try Self.checkShape(m.dayOfWeek, count: 7, field: "\(f).dayOfWeek")
            _ = try m.serviceTimeMs.sampler(field: "\(f).serviceTimeMs")
            _ = try m.cpuMs?.sampler(field: "\(f).cpuMs")
            _ = try m.requestBytes?.sampler(field: "\(f).requestBytes")
            _ = try m.responseBytes?.sampler(field: "\(f).responseBytes")
            _ = try m.packBytes?.sampler(field: "\(f).packBytes")
            if let e = m.errorRatio, !(e >= 0 && e <= 1) {
                throw TrafficProfileError.invalid(field: "\(f).errorRatio", reason: "must be in [0, 1], got \(e)")
            }
        }
        if let r = repositories {
            switch r.model {
            case "zipf":
                guard let n = r.count, n >= 1, n <= Self.maxRepositories else {
                    throw TrafficProfileError.invalid(field: "repositories.count", reason: "must be 1 to \(Self.maxRepositories), got \(r.count.map(String.init) ?? "nothing")")
                }
                guard let s = r.exponent, s.isFinite, s >= 0 else { throw TrafficProfileError.invalid(field: "repositories.exponent", reason: "must be finite and at least 0") }
                do { _ = try Zipf(count: n, exponent: s) } catch { throw TrafficProfileError.invalid(field: "repositories", reason: "\(error)") }
            case "empirical":
                guard let w = r.weights, !w.isEmpty, w.allSatisfy({ $0.isFinite && $0 >= 0 }), w.reduce(0, +) > 0 else {
                    throw TrafficProfileError.invalid(field: "repositories.weights", reason: "must be non-negative numbers with a positive sum")
                }
            default:
                throw TrafficProfileError.invalid(field: "repositories.model", reason: "\"\(r.model)\" is not zipf or empirical")
            }
        }
        if let s = storages {
            for (i, x) in s.enumerated() where !(x.share.isFinite && x.share >= 0) {
                throw TrafficProfileError.invalid(field: "storages[\(i)].share", reason: "must be finite and at least 0, got \(x.share)")
            }
            guard s.reduce(0, { $0 + $1.share }) > 0 else { throw TrafficProfileError.invalid(field: "storages", reason: "shares must not all be 0") }
        }
    }

    static func checkShape(_ shape: [Double]?, count: Int, field: String) throws {
        guard let shape else { return }
        guard shape.count == count else { throw TrafficProfileError.invalid(field: field, reason: "must have \(count) values, got \(shape.count)") }
        for (i, v) in shape.enumerated() where !(v.isFinite && v >= 0) {
            throw TrafficProfileError.invalid(field: "\(field)[\(i)]", reason: "must be finite and at least 0, got \(v)")
        }
        guard shape.reduce(0, +) > 0 else { throw TrafficProfileError.invalid(field: field, reason: "must not be all 0") }
    }
}
