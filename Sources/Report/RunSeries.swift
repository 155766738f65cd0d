/// The time series of one representative replication (or of a run's per-time summary), in
/// simulated seconds since the start of the run. Any length: the report downsamples each
/// series before drawing it.
public struct RunSeries: Sendable, Equatable {
    public var phases: [PhaseSpan]
    /// Each GitLab storage's weight for new repositories (0–100).
    public var storageWeights: [TimeSeries]
    public var movesInFlight: TimeSeries
    /// Cumulative bytes copied by finished and running moves.
    public var bytesMoved: TimeSeries
    /// Each Gitaly storage's disk fill as a fraction of its capacity (0–1).
    public var diskFill: [TimeSeries]
    /// The fill above which a storage takes no new repository (a fraction, e.g. 0.85).
    public var diskFillLimit: Double
    public var replicationQueueDepth: TimeSeries
    public var replicationLagSeconds: TimeSeries
    /// Apdex per window (0–1).
    public var apdex: TimeSeries
    /// The apdex the SLO asks for (e.g. 0.95).
    public var apdexObjective: Double

    public init(
        phases: [PhaseSpan], storageWeights: [TimeSeries], movesInFlight: TimeSeries, bytesMoved: TimeSeries,
        diskFill: [TimeSeries], diskFillLimit: Double, replicationQueueDepth: TimeSeries,
        replicationLagSeconds: TimeSeries, apdex: TimeSeries, apdexObjective: Double
    ) {
        self.phases = phases
        self.storageWeights = storageWeights
        self.movesInFlight = movesInFlight
        self.bytesMoved = bytesMoved
        self.diskFill = diskFill
        self.diskFillLimit = diskFillLimit
        self.replicationQueueDepth = replicationQueueDepth
        self.replicationLagSeconds = replicationLagSeconds
        self.apdex = apdex
        self.apdexObjective = apdexObjective
    }
}

/// A phase of the migration plan (e.g. "gprd-cny"), shaded as a band on every time axis.
public struct PhaseSpan: Sendable, Equatable {
    public var name: String
    public var startSeconds: Double
    public var endSeconds: Double

    public init(name: String, startSeconds: Double, endSeconds: Double) {
        precondition(endSeconds >= startSeconds, "phase \(name) ends before it starts")
        self.name = name
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
    }
}

/// One named series of (time, value) points, times in simulated seconds, non-decreasing.
public struct TimeSeries: Sendable, Equatable {
    public var name: String
    public var points: [SeriesPoint]

    public init(name: String, points: [SeriesPoint]) {
        self.name = name
        self.points = points
    }

    public init(name: String, timesSeconds: [Double], values: [Double]) {
        precondition(timesSeconds.count == values.count, "series \(name): \(timesSeconds.count) times, \(values.count) values")
        self.init(name: name, points: zip(timesSeconds, values).map { SeriesPoint(timeSeconds: $0, value: $1) })
    }
}

public struct SeriesPoint: Sendable, Equatable {
    public var timeSeconds: Double
    public var value: Double

    public init(timeSeconds: Double, value: Double) {
        self.timeSeconds = timeSeconds
        self.value = value
    }
}
