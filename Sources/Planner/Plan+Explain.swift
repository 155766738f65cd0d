/// `rehearse plan explain`: why a repository went where it did, from the reason recorded when
/// the plan was made.
extension Plan {
    /// Where `repository` (an id or a path) is in the plan: phase, wave and move.
    public func find(_ repository: String) -> (phase: PlanPhase, wave: Wave, move: Move)? {
        let id = Int64(repository)
        for phase in phases {
            for wave in phase.waves {
                if let m = wave.moves.first(where: { move in move.repository == id || move.path == repository }) {
                    return (phase, wave, m)
                }
            }
        }
        return nil
    }

    /// Sentences saying where `repository` goes and why; nil when the plan does not move it.
    public func explain(_ repository: String) -> String? {
        guard let (phase, wave, m) = find(repository) else { return nil }
        var lines = [
            "repository \(m.repository) (\(m.path), \(m.kind), \(ByteText.decimal(m.bytes))) moves from \(m.from) to \(m.to)"
                + " in phase \(phase.name), wave \(wave.index) of \(phase.waves.count).",
        ]
        let r = m.reason
        let unit: String
        if let root = r.networkRoot, let members = r.networkMembers {
            unit = "its fork network (root \(root), \(members) repositories to move, \(ByteText.decimal(r.unitBytes))), kept together on one storage,"
        } else {
            unit = "it"
        }
        switch r.rule {
        case .roomiest:
            lines.append("Why \(m.to): \(unit) was placed on the destination with the most room below its \(ByteText.percent(r.fillLimit)) fill limit"
                         + " (\(ByteText.decimal(r.headroomBytes)) free below the limit at that point; largest units are placed first).")
        case .forkAnchor:
            lines.append("Why \(m.to): \(unit) joins the members of its network that stay on \(m.to), which had \(ByteText.decimal(r.headroomBytes))"
                         + " free below its \(ByteText.percent(r.fillLimit)) fill limit.")
        }
        lines.append("When: phase \(phase.name) takes repositories in \(order.rawValue) order; the wave is estimated at"
                     + " \(ByteText.duration(wave.estimatedSeconds)) for \(ByteText.decimal(wave.bytes)).")
        return lines.joined(separator: "\n")
    }
}
