import Foundation
import GitalyModel
import Report
import SpecFiles

/// An experiment file (`experiments/*.yaml`, schema in experiments/README.md): a fleet model,
/// the repositories, the plan policy, traffic, faults, how many replications to run, and the
/// claims the results must uphold. Paths are relative to the experiment file.
public struct Experiment: Sendable {
    public var file: String
    /// The file's text as it was parsed (stored with the results, hashed for a shard).
    public var source: String
    public var name: String
    public var description: String
    /// The fleet model (YAML), resolved against the experiment's folder.
    public var model: String
    public var inventory: InventorySource
    public var policy: String
    /// A traffic profile (YAML) drawn for the whole run; nil for a migration without traffic.
    public var trafficProfile: String?
    /// How the traffic is simulated: call by call, or as a load with calls only where asked.
    public var trafficFidelity: TrafficFidelity = .rpc
    /// Replaces the model's `faults:` block when present.
    public var faults: FaultSpec?
    public var hours: Double
    public var replications: Int
    public var seed: UInt64
    /// Importance sampling: random faults strike this many times as often, and every
    /// replication is weighted back to the real rates (`WorldConfig.faultRateScale`). 1: off.
    public var faultRateScale: Double
    public var claims: [Claim]
    /// Fields of the model or policy set for every run (`set:`), so that a variant of an
    /// experiment (a negative control, another consistency mode) names only what it changes.
    public var settings: [Sweep.Assignment]
    /// A parameter grid (`rehearse sweep`); nil for a single configuration.
    public var sweep: Sweep?
    /// A negative control: its claims are written to fail, and `rehearse check` reports the
    /// control as broken when one of them holds (the check could not have caught anything).
    public var control: Bool

    /// How the traffic of a run is simulated (issue 11, hybrid fidelity).
    public enum TrafficFidelity: Sendable, Equatable {
        /// Every call, one by one (the default).
        case rpc
        /// A load per storage and stream (`BackgroundLoad`), with the writes in progress on a
        /// repository whose move starts drawn as calls, and some calls one by one when asked.
        case load(rpcPart: RPCPart?)

        /// What the report says of it.
        public var description: String {
            let writes = "writes in progress on a repository whose move starts at RPC level"
            switch self {
            case .rpc: return "RPC level"
            case .load(nil): return "load level; \(writes)"
            case .load(.hours(let w)): return "load level, RPC level from hour \(Format.plain(w.lowerBound)) to hour \(Format.plain(w.upperBound)); \(writes)"
            case .load(.storages(let storages)):
                return "load level, RPC level for the repositories that start on \(storages.map(\.name).joined(separator: ", ")), wherever they move; \(writes)"
            case .load(.inFlight): return "load level, RPC level for a repository while a move of it is in flight (scheduled to ended); \(writes)"
            }
        }
    }

    /// Which calls of a load-level run are simulated one by one (one of `traffic.rpcHours`,
    /// `rpcStorages`, `rpcInFlight`).
    public enum RPCPart: Sendable, Equatable {
        /// Every call in these simulated hours from the run's start.
        case hours(Range<Double>)
        /// The calls to the repositories that start on these storages, for the whole run,
        /// wherever their moves take them.
        case storages([PlacedName])
        /// The calls to a repository while a move of it is in flight.
        case inFlight
    }

    /// A name given in the experiment file that only the model can check (a storage), with
    /// its place for the error.
    public struct PlacedName: Sendable, Equatable {
        public var name: String
        public var line: Int?
        public var field: String

        public init(name: String, line: Int? = nil, field: String = "") { self.name = name; self.line = line; self.field = field }

        public func error(file: String, _ message: String) -> SpecError { SpecError(file: file, line: line, field: field, message: message) }
    }

    public enum InventorySource: Sendable, Equatable {
        /// An inventory file (CSV, or JSON when it ends in .json).
        case file(String)
        /// `InventoryGenerator` over the model's storages.
        /// `fillsUsed`: sizes scaled so each storage's repositories make up its `used` bytes
        /// (`InventoryGenerator.Parameters.sizesFillShares`), which then counts them once.
        case generate(repositories: Int, seed: UInt64, fillsUsed: Bool)
    }

    /// Replications at most: each one holds a world in memory while it runs (ASSUMED bound,
    /// far above any useful count for one machine).
    public static let maxReplications = 100_000

    public static func load(path: String) throws -> Experiment {
        try parse(TextFile.read(path: path), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Experiment {
        let root = try YAMLCursor.document(text, file: file)
        let m = try root.mapping(allowed: ["name", "description", "model", "inventory", "policy", "traffic", "faults", "run", "claims", "control", "set", "sweep"])
        let folder = URL(fileURLWithPath: file).absoluteURL.deletingLastPathComponent()
        func resolve(_ c: YAMLCursor) throws -> String {
            let path = try c.string()
            let full = path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardized.path
            guard FileManager.default.fileExists(atPath: full) else { throw c.error("no such file: \(full)") }
            return full
        }
        let inventory: InventorySource
        let im = try m.required("inventory").mapping(allowed: ["file", "generate", "seed", "fill"])
        if let f = im["file"] {
            guard im["generate"] == nil else { throw im.cursor.error("give either file or generate, not both") }
            inventory = .file(try resolve(f))
        } else {
            let g = try im.required("generate")
            let fill = try im.get("fill", "none") { c -> String in
                let v = try c.string()
                guard ["none", "used"].contains(v) else { throw c.error("expected none or used, got \(v)") }
                return v
            }
            inventory = .generate(repositories: try g.int(in: 1...16_000_000), seed: try im.get("seed", 1) { try $0.uint64() }, fillsUsed: fill == "used")
        }
        var trafficProfile: String?
        var fidelity = TrafficFidelity.rpc
        if let t = m["traffic"] {
            let tm = try t.mapping(allowed: ["profile", "fidelity", "rpcHours", "rpcStorages", "rpcInFlight"])
            trafficProfile = try tm["profile"].map(resolve)
            let level = try tm.get("fidelity", "rpc") { c -> String in
                let v = try c.string()
                guard ["rpc", "load"].contains(v) else { throw c.error("expected rpc or load, got \(v)") }
                return v
            }
            let parts = ["rpcHours", "rpcStorages", "rpcInFlight"].filter { tm[$0] != nil }
            if parts.count > 1 { throw try tm.required(parts[1]).error("give one of rpcHours, rpcStorages and rpcInFlight, not \(parts.joined(separator: " and "))") }
            var part: RPCPart?
            if let key = parts.first {
                let c = try tm.required(key)
                guard level == "load" else { throw c.error("\(key) is for fidelity: load (fidelity: rpc simulates every call already)") }
                switch key {
                case "rpcHours":
                    let bounds = try c.list().map { try $0.double() }
                    guard bounds.count == 2, bounds[0] >= 0, bounds[0] < bounds[1] else {
                        throw c.error("expected [from, to] in hours from the run's start, from at least 0 and below to, got [\(bounds.map { Format.plain($0) }.joined(separator: ", "))]")
                    }
                    part = .hours(bounds[0]..<bounds[1])
                case "rpcStorages":
                    let storages = try c.list().map { PlacedName(name: try $0.string(), line: $0.line, field: $0.path) }
                    guard !storages.isEmpty else { throw c.error("expected at least one storage") }
                    var seen = Set<String>()
                    if let twice = storages.first(where: { !seen.insert($0.name).inserted }) {
                        throw twice.error(file: file, "\(twice.name) is listed twice")
                    }
                    part = .storages(storages)
                default:
                    part = try c.bool() ? .inFlight : nil
                }
            }
            if level == "load" {
                guard trafficProfile != nil else { throw t.error("fidelity: load needs a profile") }
                fidelity = .load(rpcPart: part)
            }
        }
        let run = try m.required("run").mapping(allowed: ["hours", "replications", "seed", "faultRateScale"])
        let hours = try run.required("hours").double()
        guard hours > 0, hours <= 24 * 366 else { throw try run.required("hours").error("must be above 0 and at most one year (8784), got \(hours)") }
        var claims: [Claim] = []
        if let cs = m["claims"], !cs.isNull {
            claims = try cs.list().map { c in try Claim.parse(try c.string(), at: c) }
        }
        let control = try m.get("control", false) { try $0.bool() }
        let sweep = try m["sweep"].map(Sweep.parse)
        let settings = try m["set"].map(Sweep.parseSettings) ?? []
        if let sweep, let p = sweep.parameters.first(where: { p in settings.contains { $0.parameter.key == p.key } }) {
            throw try m.required("sweep").error("\(p.key) is also under set:; a field is either fixed or swept")
        }
        if let sweep, m["faults"] != nil, let p = sweep.parameters.first(where: { $0.target == .model && $0.path.first == "faults" }) {
            throw try m.required("sweep").error("\(p.key): the experiment's faults: block replaces the model's faults, so this sweep would change nothing; sweep a model without that block")
        }
        if m["faults"] != nil, let a = settings.first(where: { $0.parameter.target == .model && $0.parameter.path.first == "faults" }) {
            throw try m.required("set").error("\(a.parameter.key): the experiment's faults: block replaces the model's faults; set it there")
        }
        if control && claims.isEmpty { throw m.cursor.error("a control needs claims (written to fail)") }
        return Experiment(
            file: file,
            source: text,
            name: try m.required("name").string(),
            description: try m.get("description", "") { try $0.string() },
            model: try resolve(m.required("model")),
            inventory: inventory,
            policy: try resolve(m.required("policy")),
            trafficProfile: trafficProfile,
            trafficFidelity: fidelity,
            faults: try m["faults"].map(FleetSpec.parseFaults),
            hours: hours,
            replications: try run.get("replications", 10) { try $0.int(in: 1...maxReplications) },
            seed: try run.get("seed", 1) { try $0.uint64() },
            faultRateScale: try run.get("faultRateScale", 1) { c in
                let k = try c.double()
                guard k >= 1, k <= 1e6 else { throw c.error("a scale of fault rates is from 1 (off) to 1000000, got \(k)") }
                return k
            },
            claims: claims,
            settings: settings,
            sweep: sweep,
            control: control)
    }

    /// The input files, in a fixed order, for the results database.
    public var inputFiles: [(role: String, path: String)] {
        var files: [(String, String)] = [("experiment", file), ("model", model), ("policy", policy)]
        if case .file(let f) = inventory { files.append(("inventory", f)) }
        if let t = trafficProfile { files.append(("traffic", t)) }
        return files
    }
}

extension YAMLCursor {
    /// A seed: a whole number from 0 to 2^64 - 1.
    func uint64() throws -> UInt64 {
        let s = try scalarText()
        guard let v = UInt64(s) else { throw error("expected a whole number from 0 to 18446744073709551615, got \"\(s)\"") }
        return v
    }
}
