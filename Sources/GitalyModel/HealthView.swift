import SimKernel

/// The `node_status` table and the two health views Praefect derives from it
/// (gitaly `nodes/health_manager.go`, migration `20210525143540_healthy_storages_view.go`;
/// PRAEFECT.md §4).
///
/// - **Local** health is each Praefect's latest check of each node; it drives routing and
///   replication.
/// - **Consensus** health drives elections: a node is healthy when at least ⌈N/2⌉ Praefects (and
///   at least one) saw it active within the consensus window (10 s), N being the Praefects with a
///   contact attempt within the active window (60 s).
public struct HealthView: Sendable {
    public let praefects: Int
    public let nodes: Int
    public let consensusWindow: SimTime
    public let activeWindow: SimTime
    /// Row-major [praefect][node]; `never` when not seen yet.
    var lastSeenActive: FlatTable<SimTime>
    var lastContactAttempt: [SimTime]
    var local: FlatTable<Bool>

    static let never = SimTime(nanoseconds: Int64.min / 2)

    public init(praefects: Int, nodes: Int, consensusWindow: SimTime = .seconds(10), activeWindow: SimTime = .seconds(60)) {
        self.praefects = praefects
        self.nodes = nodes
        self.consensusWindow = consensusWindow
        self.activeWindow = activeWindow
        lastSeenActive = FlatTable(rows: praefects, columns: nodes, repeating: Self.never)
        lastContactAttempt = Array(repeating: Self.never, count: praefects)
        local = FlatTable(rows: praefects, columns: nodes, repeating: false)
    }

    /// A fleet that has been running: every Praefect has seen every node at `time`.
    public mutating func markAllHealthy(at time: SimTime) {
        lastSeenActive = FlatTable(rows: praefects, columns: nodes, repeating: time)
        local = FlatTable(rows: praefects, columns: nodes, repeating: true)
        for p in lastContactAttempt.indices { lastContactAttempt[p] = time }
    }

    /// Praefect `praefect` finished a health round started at `time`: one check per node.
    /// Gitaly's health manager writes a round's results together, once every check has answered
    /// or timed out; the caller applies the round at that moment.
    /// With `stored` false (Praefect's database is down) only the local view changes.
    public mutating func recordCheck(praefect p: Int, node n: Int, at time: SimTime, healthy: Bool, stored: Bool = true) {
        local[p, n] = healthy
        guard stored else { return }
        lastContactAttempt[p] = max(lastContactAttempt[p], time)
        if healthy { lastSeenActive[p, n] = time }
    }

    public func locallyHealthy(praefect p: Int, node n: Int) -> Bool { local[p, n] }

    /// Whether the `healthy_storages` view lists node `n` at `now`.
    public func consensusHealthy(node n: Int, at now: SimTime) -> Bool {
        var active = 0
        var seen = 0
        for p in 0..<praefects {
            if now - lastContactAttempt[p] <= activeWindow { active += 1 }
            if now - lastSeenActive[p, n] <= consensusWindow { seen += 1 }
        }
        return seen >= max(1, (active + 1) / 2)
    }
}
