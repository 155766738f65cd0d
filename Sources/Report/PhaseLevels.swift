/// What a rollout review reads phase by phase, from the plotted replication's series: how long
/// each phase ran, the bytes it moved, and the apdex its monitoring windows saw; and how full
/// each storage got, and when. A sample at time t stands for the window that ended at t, so it
/// belongs to the phase with start < t ≤ end.
public struct PhaseLevels: Sendable, Equatable {
    public var phase: String
    public var startSeconds: Double
    public var endSeconds: Double
    public var bytesMoved: Double
    /// nil when no window ended inside the phase.
    public var lowestApdex: Double?
    public var meanApdex: Double?

    public static func of(_ series: RunSeries) -> [PhaseLevels] {
        series.phases.map { p in
            let windows = series.apdex.points.filter { $0.timeSeconds > p.startSeconds && $0.timeSeconds <= p.endSeconds }.map(\.value)
            return PhaseLevels(
                phase: p.name, startSeconds: p.startSeconds, endSeconds: p.endSeconds,
                bytesMoved: value(series.bytesMoved, at: p.endSeconds) - value(series.bytesMoved, at: p.startSeconds),
                lowestApdex: windows.min(),
                meanApdex: windows.isEmpty ? nil : windows.reduce(0, +) / Double(windows.count))
        }
    }

    /// A cumulative series' value at `t`: its last sample at or before t (0 before the first).
    static func value(_ s: TimeSeries, at t: Double) -> Double {
        s.points.last { $0.timeSeconds <= t }?.value ?? 0
    }
}

/// One storage's fullest moment in the plotted replication.
public struct PeakFill: Sendable, Equatable {
    public var storage: String
    public var fill: Double
    public var atSeconds: Double

    /// Each storage's highest fill and the first time it reached it, fullest storage first.
    public static func of(_ series: RunSeries) -> [PeakFill] {
        series.diskFill.compactMap { s in
            guard let top = s.points.max(by: { ($0.value, -$0.timeSeconds) < ($1.value, -$1.timeSeconds) }) else { return nil }
            return PeakFill(storage: s.name, fill: top.value, atSeconds: top.timeSeconds)
        }.sorted { ($0.fill, $1.storage) > ($1.fill, $0.storage) }
    }
}
