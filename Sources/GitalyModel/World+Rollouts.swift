import SimKernel

/// A rolling update of pods, one at a time: a pod stops, starts again (on the release it rolls
/// to, if any) and waits for its readiness delay before the next one stops (a StatefulSet's
/// `RollingUpdate` strategy with `maxUnavailable` 1, the Kubernetes default). With a canary
/// stage, the first pods roll, an analysis of their own calls decides, and the rest follow or
/// the canary pods roll back (`CanarySpec`).
struct Rollout {
    struct Step {
        var node: Int
        /// The release the pod rolls to; nil: it restarts on the one it runs.
        var release: Int?
    }
    var steps: [Step]
    var next = 0
    /// The pod rolled last, until it is ready.
    var current: Int?
    var canary: CanaryAnalysis?
}

/// A canary stage's analysis as it goes.
struct CanaryAnalysis {
    enum Stage {
        /// The canary pods are rolling.
        case rolling
        /// Every `interval` a check of the canary pods' calls since the last one.
        case analysing(passed: Int, failed: Int, served: Int, failedCalls: Int)
        /// The analysis passed: the rest of the pods roll.
        case promoted
        /// The analysis failed: the canary pods roll back, and the update ends there.
        case rolledBack
    }
    var pods: Int
    var interval: SimTime
    var checks: Int
    var threshold: Int
    var errorRatioMax: Double
    var stage = Stage.rolling
    /// The canary pods' releases before the update, to roll back to.
    var previous: [Int] = []
}

/// Releases and rolling updates: which release each node runs, what a bad one does to its
/// calls (`World+RPC`), and the rolling updates that change them.
extension World {
    /// Starts rolling `pods` now (restarts on the release they run); a rolling update already
    /// under way goes first.
    public static func startRollingUpdate(_ sim: inout Simulation<World>, nodes: [Int]) {
        sim.model.enqueue(Rollout(steps: nodes.map { Rollout.Step(node: $0, release: nil) }), &sim.scheduler)
    }

    /// A scheduled `rollingUpdate`: its pods (every pod of the fleet in its order, or its
    /// target), its release and its canary stage.
    mutating func startRollout(_ f: ScheduledFault, _ s: inout EventScheduler<WorldEvent>) {
        let pods = f.target.isEmpty ? fleet.nodes.indices.filter { fleet.nodes[$0].host.kind == .pod } : [fleet.node(named: f.target)!]
        let release = f.release.map { fleet.release(named: $0)! }
        var rollout = Rollout(steps: pods.map { Rollout.Step(node: $0, release: release) })
        if let c = f.canary {
            rollout.canary = CanaryAnalysis(pods: c.pods, interval: .seconds(c.intervalSeconds), checks: c.checks, threshold: c.threshold, errorRatioMax: c.errorRatioMax)
        }
        enqueue(rollout, &s)
    }

    mutating func enqueue(_ rollout: Rollout, _ s: inout EventScheduler<WorldEvent>) {
        precondition(rollout.steps.allSatisfy { fleet.nodes[$0.node].host.kind == .pod }, "only pods are rolled")
        rollouts.append(rollout)
        if rollouts.count == 1 { s.schedule(at: s.now, .rollingUpdateStep) }
    }

    public var rollingUpdateInProgress: Bool { !rollouts.isEmpty }

    /// Nodes running a release declared bad (`ReleaseSpec.isBad`).
    public var nodesOnBadRelease: Int { nodes.indices.count { fleet.releases[nodes[$0].release].isBad } }

    /// The release node `n` runs, by name ("" for the unnamed baseline).
    public func releaseName(node n: Int) -> String { fleet.releases[nodes[n].release].name }

    mutating func setRelease(_ n: Int, _ r: Int) {
        nodes[n].release = r
        nodes[n].releaseErrorRatio = fleet.releases[r].errorRatio
        nodes[n].latencyFactor = fleet.releases[r].latencyFactor
        badReleasePeak = max(badReleasePeak, nodesOnBadRelease)
    }

    /// One step of the first rolling update: the pod rolled last is ready, so the next one
    /// stops; or the canary analysis checks; or the update ends and the next one starts.
    mutating func rollingUpdateStep(_ s: inout EventScheduler<WorldEvent>) {
        guard var u = rollouts.first else { return }
        // A canary's analysis reads the calls served so far: a load's up to now.
        accrueLoad(s.now)
        if let c = u.current, !nodes[c].up {
            // Still held down by another outage: the controller waits for readiness.
            return s.schedule(after: .seconds(1), .rollingUpdateStep)
        }
        u.current = nil
        if var canary = u.canary {
            switch canary.stage {
            case .rolling where u.next == canary.pods:
                canary.stage = .analysing(passed: 0, failed: 0, served: canaryCalls(u).served, failedCalls: canaryCalls(u).failed)
                u.canary = canary
                rollouts[0] = u
                return s.schedule(after: canary.interval, .rollingUpdateStep)
            case .analysing(var passed, var failed, let served, let failedCalls):
                let now = canaryCalls(u)
                let calls = now.served - served, errors = now.failed - failedCalls
                // Flagger fails a check that has no data, as well as one past its bound.
                if calls > 0 && Double(errors) <= canary.errorRatioMax * Double(calls) { passed += 1 } else { failed += 1 }
                if failed >= canary.threshold {
                    canary.stage = .rolledBack
                    u.steps = Array(u.steps[0..<u.next]) + (0..<canary.pods).map { Rollout.Step(node: u.steps[$0].node, release: canary.previous[$0]) }
                    rolloutsRolledBack += 1
                } else if passed >= canary.checks {
                    canary.stage = .promoted
                } else {
                    canary.stage = .analysing(passed: passed, failed: failed, served: now.served, failedCalls: now.failed)
                    u.canary = canary
                    rollouts[0] = u
                    return s.schedule(after: canary.interval, .rollingUpdateStep)
                }
                u.canary = canary
            case .rolling, .promoted, .rolledBack:
                break
            }
        }
        guard u.next < u.steps.count else {
            rollouts.removeFirst()
            if !rollouts.isEmpty { s.schedule(at: s.now, .rollingUpdateStep) }
            return
        }
        let step = u.steps[u.next]
        let n = step.node
        if var canary = u.canary, case .rolling = canary.stage {
            canary.previous.append(nodes[n].release)
            u.canary = canary
        }
        u.next += 1
        u.current = n
        rollouts[0] = u
        // The pod stops and starts on the new image: it serves the new release once ready.
        if let r = step.release { setRelease(n, r) }
        let h = fleet.nodes[n].host
        let outage = SimTime.seconds(h.stopSeconds + h.startSeconds + h.readinessDelaySeconds)
        nodeDown(n, for: outage, &s)
        s.schedule(after: outage, .rollingUpdateStep)
    }

    /// The calls served and failed so far by the canary pods of `u`.
    func canaryCalls(_ u: Rollout) -> (served: Int, failed: Int) {
        var served = 0, failed = 0
        for i in 0..<(u.canary?.pods ?? 0) {
            let n = u.steps[i].node
            served += nodes[n].callsServed
            failed += nodes[n].callsFailed
            // Calls carried as a load count with their expected numbers.
            if hasLoad {
                served += Int(load.served[n].rounded())
                failed += Int(load.failed[n].rounded())
            }
        }
        return (served, failed)
    }
}
