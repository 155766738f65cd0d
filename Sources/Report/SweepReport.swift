/// Everything a sweep's page shows: one row per point, its parameters and its run's headline
/// predictions. Each point is a run of its own in the results database, so its full report is
/// `rehearse report DB --run ID`.
public struct SweepReport: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var runID: Int64
        /// The parameters' values, in the order of `SweepReport.parameters`.
        public var values: [String]
        public var replications: Int
        public var unfinished: Int
        public var predictions: Predictions
        /// The highest error ratio of any monitoring window of any replication.
        public var worstErrorRatio: Double
        public var claims: [ClaimResult]
        public init(runID: Int64, values: [String], replications: Int, unfinished: Int, predictions: Predictions, worstErrorRatio: Double, claims: [ClaimResult]) {
            self.runID = runID
            self.values = values
            self.replications = replications
            self.unfinished = unfinished
            self.predictions = predictions
            self.worstErrorRatio = worstErrorRatio
            self.claims = claims
        }

        /// "perSource=5, faultRateScale=10".
        func label(_ parameters: [String]) -> String { zip(parameters, values).map { "\($0)=\($1)" }.joined(separator: ", ") }
    }
    public var title: String
    public var experiment: String
    public var seed: UInt64
    public var parameters: [String]
    public var points: [Point]
    public init(title: String, experiment: String, seed: UInt64, parameters: [String], points: [Point]) {
        self.title = title
        self.experiment = experiment
        self.seed = seed
        self.parameters = parameters
        self.points = points
    }
}

extension HTMLReport {
    /// A sweep: the points' table, then each headline prediction per point with its interval.
    public static func render(_ sweep: SweepReport) -> String {
        var page = PageWriter(title: sweep.title)
        let replications = Set(sweep.points.map(\.replications)).sorted().map(String.init).joined(separator: " or ")
        page.paragraph("Experiment \(sweep.experiment), seed \(sweep.seed): \(sweep.points.count) points × \(replications) replications, "
            + "every point with the same seed, so they differ only by their parameters (common random numbers). "
            + "Each point is a run of its own: rehearse report DB --run ID draws its full page.")
        page.heading("Points")
        let claimCount = sweep.points.map(\.claims.count).max() ?? 0
        page.table(
            header: ["run"] + sweep.parameters + ["duration p50", "duration p95", "unfinished", "write-unavailable (mean)", "longest read-only (mean)",
                                                  "P(data loss)", "worst window error ratio"] + (claimCount > 0 ? ["claims"] : []),
            rows: sweep.points.map { point in
                let p = point.predictions
                let quantile = { (q: Double) in p.durationHours.first { $0.probability == q }.map { Format.estimate($0.estimate, .hours) } ?? "–" }
                var row: [PageWriter.Cell] = [.text(String(point.runID))] + point.values.map { .code($0) }
                row += [.text(quantile(0.5)), .text(quantile(0.95)), .text("\(point.unfinished) of \(point.replications)"),
                        .text(Format.estimate(p.writeUnavailableRepositorySeconds, .repositorySeconds)),
                        .text(Format.estimate(p.longestReadOnlySeconds, .seconds)),
                        .text(Format.estimate(p.dataLoss.probability, .probability)), .text(Format.value(point.worstErrorRatio, .probability))]
                if claimCount > 0 {
                    let held = point.claims.filter(\.holds).count
                    row.append(.verdict(held == point.claims.count, yes: "\(held) of \(point.claims.count) hold", no: "\(held) of \(point.claims.count) hold"))
                }
                return row
            })
        let charts: [(id: String, title: String, unit: Quantity, axis: String, pick: (Predictions) -> Estimate?)] = [
            ("sweep-duration-p95", "Migration duration p95 by point", .hours, "migration duration, p95", { p in p.durationHours.first { $0.probability == 0.95 }?.estimate }),
            ("sweep-write-unavailable", "Write unavailability by point", .repositorySeconds, "write-unavailable repository-seconds, mean", { $0.writeUnavailableRepositorySeconds }),
            ("sweep-data-loss", "Data-loss risk by point", .probability, "probability that a replication loses an acknowledged write", { $0.dataLoss.probability }),
        ]
        page.heading("By point")
        for chart in charts {
            let rows = sweep.points.compactMap { point in
                chart.pick(point.predictions).map { (name: point.label(sweep.parameters), estimate: $0, detail: Format.estimate($0, chart.unit)) }
            }
            page.figure(IntervalChart(id: chart.id, title: chart.title, rows: rows, unit: chart.unit, axisTitle: chart.axis).svg(),
                        caption: "\(chart.title), with its 95% interval where one exists.")
        }
        return page.finish()
    }
}
