import SimKernel

/// How an RPC ended, with the gRPC code Gitaly or Praefect would return.
public enum RPCOutcome: Int, CaseIterable, Sendable {
    case ok
    /// The concurrency limiter refused it (queue full or waited too long): ResourceExhausted.
    case resourceExhausted
    /// The node was down, or a transaction lost its quorum: Unavailable / Internal.
    case unavailable
    /// The repository is read-only (a move in progress, an outdated primary): FailedPrecondition.
    case readOnly
    /// No healthy up-to-date replica for a read (`ErrNoSuitableNode`).
    case noSuitableNode
    /// The node has no such repository (its data was lost): NotFound.
    case notFound
    /// The client's deadline passed first: DeadlineExceeded (`World+RPC`, deadlines).
    case deadlineExceeded

    /// Whether GitLab's error ratio counts it: ResourceExhausted and FailedPrecondition are
    /// excluded (runbooks `metrics-catalog/services/gitaly.jsonnet`, GITALY_LOGS.md §5).
    public var countsAsError: Bool {
        switch self {
        case .ok, .resourceExhausted, .readOnly, .notFound: return false
        // A regular deadline counts (GITALY_LOGS.md §5: DeadlineExceeded is excluded only with
        // `deadline_type: limited`, which the model never sets).
        case .unavailable, .noSuitableNode, .deadlineExceeded: return true
        }
    }
}

/// Requests, errors and apdex over one time window.
public struct WindowStats: Sendable, Equatable {
    public var start: SimTime
    public var requests = 0
    public var errors = 0
    public var apdexSatisfied = 0
    public var apdexTolerated = 0
    public var apdexCounted = 0
    /// The same for calls carried as a load (`BackgroundLoad`): expected counts while the
    /// window is open, whole counts drawn around them once it closed.
    public var loadRequests = 0.0
    public var loadErrors = 0.0
    public var loadSatisfied = 0.0
    public var loadTolerated = 0.0
    public var loadCounted = 0.0
    public init(start: SimTime) { self.start = start }

    /// Apdex = (satisfied + tolerated / 2) / counted over both kinds of calls; nil when
    /// nothing counted.
    public var apdex: Double? {
        let counted = allCounted
        return counted > 0 ? (Double(apdexSatisfied) + loadSatisfied + (Double(apdexTolerated) + loadTolerated) / 2) / counted : nil
    }
    public var errorRatio: Double? {
        let requests = allRequests
        return requests > 0 ? (Double(errors) + loadErrors) / requests : nil
    }
    /// Requests of both kinds: the weight of the window's error ratio.
    public var allRequests: Double { Double(requests) + loadRequests }
    /// Calls apdex counts, of both kinds: the weight of the window's apdex.
    public var allCounted: Double { Double(apdexCounted) + loadCounted }

    /// Apdex thresholds of GitLab's Gitaly service (GITALY_LOGS.md §5): unary methods
    /// satisfied at 0.5 s and tolerated at 1 s; OperationService writes at 10 s and 30 s;
    /// streaming clones and pushes and housekeeping are not counted.
    static func apdexThresholds(_ c: RPCClass) -> (Double, Double)? {
        switch c {
        case .read: return (0.5, 1)
        case .write: return (10, 30)
        case .uploadPack, .receivePack, .maintenance: return nil
        }
    }

    mutating func record(_ c: RPCClass, outcome: RPCOutcome, latencySeconds: Double) {
        requests += 1
        if outcome.countsAsError { errors += 1 }
        if let (s, t) = Self.apdexThresholds(c) {
            apdexCounted += 1
            if latencySeconds <= s { apdexSatisfied += 1 } else if latencySeconds <= t { apdexTolerated += 1 }
        }
    }
}
