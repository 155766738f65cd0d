import SpecFiles

/// Reading a policy from YAML (schema in `models/policies/README.md`). Unknown fields, wrong
/// types and wrong units are errors with file, line and field; names (storages, phases) are
/// checked against the fleet when planning, with the line kept here.
extension Policy {
    public static func parse(_ text: String, file: String) throws -> Policy {
        let root = try YAMLCursor.document(text, file: file).mapping(allowed: [
            "drain", "fillLimit", "fillLimits", "concurrency", "bandwidth", "copyRate", "moveOverhead", "order",
            "forkNetworks", "waves", "readOnlyMax", "moveTimeout", "maintenanceWindows", "gate", "phases",
        ])
        let drain = try root.required("drain").mapping(allowed: ["from", "to"])
        var p = Policy(drainFrom: try names(drain.required("from")), drainTo: try names(drain.required("to")))
        p.file = file
        p.fillLimit = try root.get("fillLimit", p.fillLimit, fraction)
        if let f = root["fillLimits"] {
            p.fillLimits = try f.namedEntries().map { (Named($0.0, source: SourceLine(line: $0.1.line, path: $0.1.path)), try fraction($0.1)) }
        }
        if let c = root["concurrency"] {
            let m = try c.mapping(allowed: ["perSource", "perDestination", "global"])
            p.concurrency.perSource = try m.get("perSource", p.concurrency.perSource, atLeastOne)
            p.concurrency.perDestination = try m["perDestination"].map(atLeastOne)
            p.concurrency.global = try m["global"].map(atLeastOne)
        }
        p.bandwidthBytesPerSecond = try root["bandwidth"].map(positiveRate)
        p.copyBytesPerSecond = try root.get("copyRate", p.copyBytesPerSecond, positiveRate)
        p.moveOverheadSeconds = try root.get("moveOverhead", p.moveOverheadSeconds) { c in
            let s = try c.seconds()
            guard s >= 0 else { throw c.error("a duration is at least 0, got \(s)") }
            return s
        }
        p.order = try root.get("order", p.order) { try $0.oneOf(MoveOrder.self) }
        p.forkNetworksTogether = try root.get("forkNetworks", true) { c in
            switch try c.scalarText() {
            case "together": return true
            case "independent": return false
            case let s: throw c.error("expected together or independent, got \"\(s)\"")
            }
        }
        if let w = root["waves"] {
            let m = try w.mapping(allowed: ["movesMax", "bytesMax"])
            p.waves.movesMax = try m.get("movesMax", p.waves.movesMax, atLeastOne)
            p.waves.bytesMax = try m["bytesMax"].map { c in
                let b = try c.bytes()
                guard b > 0 else { throw c.error("a size above 0, got \(b)") }
                return b
            }
        }
        p.readOnlySecondsMax = try root["readOnlyMax"].map(positiveSeconds)
        p.moveTimeoutSeconds = try root.get("moveTimeout", p.moveTimeoutSeconds, positiveSeconds)
        if let w = root["maintenanceWindows"] { p.maintenanceWindows = try w.list().map(parseWindow) }
        p.gate = try root["gate"].map(parseGate)
        if let ph = root["phases"] {
            p.phases = try ph.list().map(parsePhase)
            var seen: [String] = []
            for (i, s) in p.phases.enumerated() {
                if seen.contains(s.name) {
                    throw SpecError(file: file, line: s.source.line, field: "phases[\(i)].name", message: "phase \"\(s.name)\" given twice")
                }
                seen.append(s.name)
            }
        }
        return p
    }

    static func names(_ c: YAMLCursor) throws -> [Named] {
        let list = try c.list()
        guard !list.isEmpty else { throw c.error("expected at least one storage") }
        return try list.map { Named(try $0.string(), source: SourceLine(line: $0.line, path: $0.path)) }
    }

    /// A fraction written as `0.75` or `75%`, above 0 and at most 1.
    static func fraction(_ c: YAMLCursor) throws -> Double {
        let s = try c.scalarText()
        let v = s.hasSuffix("%") ? Double(s.dropLast()).map { $0 / 100 } : Double(s)
        guard let f = v, f > 0, f <= 1 else { throw c.error("expected a fraction above 0 and at most 1 such as 0.75 or 75%, got \"\(s)\"") }
        return f
    }

    static func atLeastOne(_ c: YAMLCursor) throws -> Int {
        let v = try c.int()
        guard v >= 1 else { throw c.error("must be at least 1, got \(v)") }
        return v
    }

    static func positiveRate(_ c: YAMLCursor) throws -> Double {
        let v = try c.rate()
        guard v > 0 else { throw c.error("a rate above 0, got \(v)") }
        return v
    }

    static func positiveSeconds(_ c: YAMLCursor) throws -> Double {
        let v = try c.seconds()
        guard v > 0 else { throw c.error("a duration above 0, got \(v)") }
        return v
    }

    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    static func parseWindow(_ c: YAMLCursor) throws -> MaintenanceWindowSpec {
        let m = try c.mapping(allowed: ["days", "start", "duration"])
        let days: [String] = try m.get("days", [String]()) { d in
            try d.list().map { dc in
                let s = try dc.string()
                guard weekdays.contains(s) else { throw dc.error("expected one of \(weekdays.joined(separator: ", ")), got \"\(s)\"") }
                return s
            }
        }
        let startCursor = try m.required("start")
        let start = try startCursor.scalarText()
        let parts = start.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let mi = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(mi), parts[1].count == 2 else {
            throw startCursor.error("expected a UTC time HH:MM such as \"01:00\", got \"\(start)\"")
        }
        let duration = try positiveSeconds(try m.required("duration"))
        guard duration <= 7 * 86_400 else { throw try m.required("duration").error("a window lasts at most 7d, got \(duration) s") }
        return MaintenanceWindowSpec(days: days, start: start, durationSeconds: duration)
    }

    static func parseGate(_ c: YAMLCursor) throws -> GateSpec {
        let m = try c.mapping(allowed: ["apdexMin", "errorRatioMax", "replicationLagMax", "diskFillMax", "soak", "window", "onFailure"])
        var g = GateSpec()
        g.apdexMin = try m["apdexMin"].map(fraction)
        g.errorRatioMax = try m["errorRatioMax"].map(fraction)
        g.replicationLagSecondsMax = try m["replicationLagMax"].map(positiveSeconds)
        g.diskFillMax = try m["diskFillMax"].map(fraction)
        g.soakSeconds = try m.get("soak", 0) { c in
            let s = try c.seconds()
            guard s >= 0 else { throw c.error("a duration is at least 0, got \(s)") }
            return s
        }
        if let w = m["window"] {
            let s = try positiveSeconds(w)
            guard s <= g.soakSeconds else { throw w.error("a gate's window is at most its soak (\(ByteText.duration(g.soakSeconds))), got \(ByteText.duration(s))") }
            g.windowSeconds = s
        }
        g.onFailure = try m.get("onFailure", g.onFailure) { try $0.oneOf(GateFailureAction.self) }
        return g
    }

    static func parsePhase(_ c: YAMLCursor) throws -> PhaseSpec {
        let m = try c.mapping(allowed: ["name", "to", "weights", "moves", "gate"])
        var s = PhaseSpec(name: try m.required("name").string(), source: SourceLine(line: c.line, path: c.path))
        s.to = try m["to"].map(names)
        if let w = m["weights"] {
            s.weightSteps = try w.list().map { step in
                let entries = try step.namedEntries()
                guard !entries.isEmpty else { throw step.error("a weight step sets at least one storage's weight") }
                return try entries.map { name, v in
                    let weight = try v.int()
                    guard (0...100).contains(weight) else { throw v.error("a weight is 0 to 100, got \(weight)") }
                    return (Named(name, source: SourceLine(line: v.line, path: v.path)), weight)
                }
            }
        }
        if let mv = m["moves"] { s.moves = try parseMoves(mv) }
        s.gate = try m["gate"].map(parseGate)
        return s
    }

    static func parseMoves(_ c: YAMLCursor) throws -> PhaseMoves {
        if case .scalar = c.node {
            switch try c.scalarText() {
            case "rest": return .rest
            case "none": return .none
            case let s: throw c.error("expected rest, none, {share: …} or {select: …}, got \"\(s)\"")
            }
        }
        let m = try c.mapping(allowed: ["share", "select"])
        switch (m["share"], m["select"]) {
        case (let share?, nil): return .share(try fraction(share))
        case (nil, let sel?):
            let sm = try sel.mapping(allowed: ["kinds", "storages", "sizeMax"])
            var s = Selection()
            s.kinds = try sm.get("kinds", [String]()) { k in
                try k.list().map { kc in
                    let name = try kc.string()
                    guard ["project", "wiki", "snippet", "design"].contains(name) else {
                        throw kc.error("expected one of project, wiki, snippet, design, got \"\(name)\"")
                    }
                    return name
                }
            }
            s.storages = try sm["storages"].map(names) ?? []
            s.sizeBytesMax = try sm["sizeMax"].map { try $0.bytes() }
            return .select(s)
        default: throw c.error("give either share or select")
        }
    }
}
