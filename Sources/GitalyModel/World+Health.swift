import SimKernel

/// Praefect's health checks as the event loop runs them: each Praefect probes every node, and
/// the results feed its local view and, through the shared table, the consensus view.
extension World {
    /// Whether Praefect `p` can reach node `n` right now.
    func reachable(praefect p: Int, node n: Int) -> Bool {
        nodes[n].up && !partitioned[p, n]
    }

    /// A health round (gitaly `nodes/health_manager.go`): every interval, a check to each node
    /// with a timeout. The round's results are written together once every check answered, so
    /// a round with an unreachable node lands when its check times out.
    mutating func healthRound(praefect p: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard let spec = praefect?.spec else { return }
        // A round still waiting for a timed-out check lands first: its timeout has passed.
        if healthApplyPending[p] { healthApply(praefect: p, &s) }
        s.schedule(after: .seconds(spec.health.checkIntervalSeconds), .healthRound(praefect: Int32(p)))
        guard praefect!.up[p] else { return }
        var all = true
        for n in nodes.indices {
            let ok = reachable(praefect: p, node: n)
            pendingHealth[p][n] = ok
            all = all && ok
        }
        healthApplyPending[p] = true
        if all { healthApply(praefect: p, &s) } else { s.schedule(after: .seconds(spec.health.checkTimeoutSeconds), .healthApply(praefect: Int32(p))) }
    }

    mutating func healthApply(praefect p: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard healthApplyPending[p] else { return }
        healthApplyPending[p] = false
        guard praefect!.up[p] else { return }
        for n in nodes.indices { praefect!.health.recordCheck(praefect: p, node: n, at: s.now, healthy: pendingHealth[p][n], stored: databaseUp) }
        refreshHealth(s.now)
    }

    /// Recomputes the health masks; when a view changed, write availability is re-evaluated.
    mutating func refreshHealth(_ now: SimTime) {
        guard hasPraefect else { return }
        let local = localMask
        let running = runningPraefects
        let changed = praefect!.refreshMasks(at: now)
        copyPraefectMasks()
        if !changed.isEmpty || local.storage != localMask.storage || running != runningPraefects { recomputeWriteFailing(now) }
    }
}
