/// Writes `plan.json` by hand: keys in sorted order, lists in the plan's order, numbers in
/// their shortest form. JSONEncoder with sorted keys gives the same document but sorts every
/// object's keys at run time, which dominated planning a million moves; `Plan.decode` (Codable)
/// reads either.
struct PlanJSONWriter {
    var out: [UInt8] = []

    mutating func raw(_ s: String) { out.append(contentsOf: s.utf8) }

    /// `"k":`, after `{` when it is the object's first key, else after `,`.
    mutating func key(_ k: String, first: Bool = false) {
        out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        raw(k)
        raw("\":")
    }

    mutating func string(_ s: String) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0..<0x20:
                let hex = String(b, radix: 16)
                raw("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func number(_ x: Double) {
        precondition(x.isFinite, "a plan holds only finite numbers")
        // Integral values print without ".0" up to 2^53, as JSONEncoder prints them.
        if x == x.rounded(), abs(x) < 9_007_199_254_740_992 { raw(String(Int64(x))) } else { raw("\(x)") }
    }

    mutating func number(_ x: Int64) { raw(String(x)) }
    mutating func number(_ x: Int) { raw(String(x)) }

    mutating func list<T>(_ items: [T], _ write: (inout PlanJSONWriter, T) -> Void) {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            write(&self, item)
        }
        out.append(UInt8(ascii: "]"))
    }

    mutating func weights(_ ws: [StorageWeight]) {
        list(ws) { w, s in
            w.key("storage", first: true); w.string(s.storage)
            w.key("weight"); w.number(s.weight)
            w.raw("}")
        }
    }

    mutating func plan(_ p: Plan) {
        var first = true
        if let b = p.bandwidthBytesPerSecond { key("bandwidthBytesPerSecond", first: true); number(b); first = false }
        key("concurrency", first: first)
        var cFirst = true
        if let g = p.concurrency.global { key("global", first: true); number(g); cFirst = false }
        if let d = p.concurrency.perDestination { key("perDestination", first: cFirst); number(d); cFirst = false }
        key("perSource", first: cFirst); number(p.concurrency.perSource)
        raw("}")
        key("copyBytesPerSecond"); number(p.copyBytesPerSecond)
        key("forkNetworksTogether"); raw(p.forkNetworksTogether ? "true" : "false")
        key("initialWeights"); weights(p.initialWeights)
        key("maintenanceWindows")
        list(p.maintenanceWindows) { w, m in
            w.key("days", first: true); w.list(m.days) { w, d in w.string(d) }
            w.key("durationSeconds"); w.number(m.durationSeconds)
            w.key("start"); w.string(m.start)
            w.raw("}")
        }
        key("moveOverheadSeconds"); number(p.moveOverheadSeconds)
        if let t = p.moveTimeoutSeconds { key("moveTimeoutSeconds"); number(t) }
        key("order"); string(p.order.rawValue)
        key("phases"); list(p.phases) { w, ph in w.phase(ph) }
        if let r = p.readOnlySecondsMax { key("readOnlySecondsMax"); number(r) }
        key("schemaVersion"); number(p.schemaVersion)
        key("storages")
        list(p.storages) { w, s in
            w.key("capacityBytes", first: true); w.number(s.capacityBytes)
            w.key("fillLimit"); w.number(s.fillLimit)
            w.key("name"); w.string(s.name)
            w.key("role"); w.string(s.role.rawValue)
            w.key("usedBytesAfter"); w.number(s.usedBytesAfter)
            w.key("usedBytesBefore"); w.number(s.usedBytesBefore)
            w.raw("}")
        }
        key("totals")
        key("bytes", first: true); number(p.totals.bytes)
        key("estimatedSeconds"); number(p.totals.estimatedSeconds)
        key("moves"); number(p.totals.moves)
        raw("}}\n")
    }

    mutating func phase(_ ph: PlanPhase) {
        key("bytes", first: true); number(ph.bytes)
        key("destinations"); list(ph.destinations) { w, d in w.string(d) }
        key("estimatedSeconds"); number(ph.estimatedSeconds)
        if let g = ph.gate {
            key("gate")
                var first = true
            if let a = g.apdexMin { key("apdexMin", first: true); number(a); first = false }
            if let d = g.diskFillMax { key("diskFillMax", first: first); number(d); first = false }
            if let e = g.errorRatioMax { key("errorRatioMax", first: first); number(e); first = false }
            key("onFailure", first: first); string(g.onFailure.rawValue)
            if let l = g.replicationLagSecondsMax { key("replicationLagSecondsMax"); number(l) }
            key("soakSeconds"); number(g.soakSeconds)
            if let w = g.windowSeconds { key("windowSeconds"); number(w) }
            raw("}")
        }
        key("moves"); number(ph.moves)
        key("name"); string(ph.name)
        key("waves")
        list(ph.waves) { w, wave in
            w.key("bytes", first: true); w.number(wave.bytes)
            w.key("estimatedSeconds"); w.number(wave.estimatedSeconds)
            w.key("index"); w.number(wave.index)
            w.key("moves"); w.list(wave.moves) { w, m in w.move(m) }
            w.raw("}")
        }
        key("weightSteps")
        list(ph.weightSteps) { w, s in
            w.key("rollbackWeights", first: true); w.weights(s.rollbackWeights)
            w.key("weights"); w.weights(s.weights)
            w.raw("}")
        }
        raw("}")
    }

    mutating func move(_ m: Move) {
        key("bytes", first: true); number(m.bytes)
        key("from"); string(m.from)
        key("kind"); string(m.kind)
        key("path"); string(m.path)
        key("reason")
        let r = m.reason
        key("fillLimit", first: true); number(r.fillLimit)
        key("headroomBytes"); number(r.headroomBytes)
        if let n = r.networkMembers { key("networkMembers"); number(n) }
        if let n = r.networkRoot { key("networkRoot"); number(n) }
        key("rule"); string(r.rule.rawValue)
        key("unitBytes"); number(r.unitBytes)
        raw("}")
        key("repository"); number(m.repository)
        key("to"); string(m.to)
        raw("}")
    }
}
