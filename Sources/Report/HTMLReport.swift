/// Renders a run, or a comparison of two runs, as one self-contained HTML page: inline CSS and
/// inline SVG, no script, no font, image or style sheet fetched from anywhere. The same input
/// gives the same bytes.
public enum HTMLReport {
    public static func render(_ run: RunReport, options: ReportOptions = ReportOptions()) -> String {
        var page = PageWriter(title: run.summary.title)
        page.summary(run.summary)
        page.heading("Over simulated time")
        page.timePlots(run.series, options: options)
        page.phaseTables(run.series)
        page.heading("Across replications")
        let marks = run.summary.predictions.durationHours
            .filter { $0.probability == 0.5 || $0.probability == 0.95 }
            .map { (label: $0.label, hours: $0.estimate.value) }
        let samples = [(name: run.summary.title, hours: run.durationHoursPerReplication)]
        page.figure(
            DistributionChart(id: PlotID.durationHistogram.rawValue, title: "Migration duration across replications", samples: samples, marks: marks).histogram(),
            caption: "Migration duration per replication; dashed lines at the predicted p50 and p95.")
        page.figure(
            DistributionChart(id: PlotID.durationCDF.rawValue, title: "Migration duration, empirical CDF", samples: samples, marks: marks).cdf(options),
            caption: "Share of replications finished by each duration.")
        let loss = run.summary.predictions.dataLoss
        page.figure(
            IntervalChart(id: PlotID.dataLoss.rawValue, title: "Data-loss risk", rows: [(run.summary.title, loss.probability, lossDetail(loss))]).svg(),
            caption: "Probability of losing any acknowledged write, with its interval (\(loss.method)).")
        return page.finish()
    }

    /// Two runs: the differences table first, then each plot with both runs overlaid
    /// (baseline solid, candidate dashed) and the storage plots side by side.
    public static func render(_ comparison: Comparison, options: ReportOptions = ReportOptions()) -> String {
        let a = comparison.baseline
        let b = comparison.candidate
        var page = PageWriter(title: "Comparison: \(a.summary.title) vs \(b.summary.title)")
        page.paragraph("Baseline: \(a.summary.title) (seed \(a.summary.seed), \(a.summary.replications) replications). "
            + "Candidate: \(b.summary.title) (seed \(b.summary.seed), \(b.summary.replications) replications).")
        page.heading("Differences")
        page.table(
            header: ["metric", "baseline", "candidate", "change", "significant", "test"],
            rows: comparison.differences.map { difference in
                let change = difference.candidate - difference.baseline
                let relative = difference.baseline != 0 ? " (" + (change >= 0 ? "+" : "") + Format.significant(change / abs(difference.baseline) * 100) + " %)" : ""
                return [
                    .text(difference.metric), .text(Format.value(difference.baseline, difference.unit)),
                    .text(Format.value(difference.candidate, difference.unit)),
                    .text((change >= 0 ? "+" : "") + Format.value(change, difference.unit) + relative),
                    .verdict(difference.significant, yes: "significant", no: "not significant"), .text(difference.test),
                ]
            })
        page.heading("Over simulated time")
        let domain = timeDomain([a.series, b.series])
        let names = (a.summary.title, b.summary.title)
        func pair(_ pick: (RunSeries) -> TimeSeries) -> [TimeSeries] {
            [TimeSeries(name: names.0, points: pick(a.series).points), TimeSeries(name: names.1, points: pick(b.series).points)]
        }
        let overlays: [(PlotID, String, String, ValueScaling.Kind, (RunSeries) -> TimeSeries)] = [
            (.movesInFlight, "Moves in flight", "moves in flight", .number, \.movesInFlight),
            (.bytesMoved, "Bytes moved", "bytes moved", .bytes, \.bytesMoved),
            (.replicationQueueDepth, "Replication queue depth", "queued replication jobs", .number, \.replicationQueueDepth),
            (.replicationLag, "Replication lag", "replication lag", .seconds, \.replicationLagSeconds),
        ]
        for (plot, title, valueTitle, kind, pick) in overlays {
            page.figure(
                LineChart(id: plot.comparisonID, title: title, valueTitle: valueTitle, valueKind: kind, series: pair(pick), phases: [], timeDomainSeconds: domain).svg(options),
                caption: "\(title): baseline solid, candidate dashed.")
        }
        page.figure(
            LineChart(
                id: PlotID.apdex.comparisonID, title: "Apdex", valueTitle: "apdex", valueKind: .number, series: pair(\.apdex),
                references: [(a.series.apdexObjective, "SLO \(Format.fixed(a.series.apdexObjective, decimals: 2))")],
                phases: [], timeDomainSeconds: domain, startsAtZero: false
            ).svg(options),
            caption: "Apdex per window: baseline solid, candidate dashed.")
        for (plot, title, valueTitle, kind, pick) in perStoragePlots {
            let sides = [(a, names.0, "baseline"), (b, names.1, "candidate")].map { run, name, role in
                let chart = LineChart(
                    id: plot.comparisonID + "-" + role, title: "\(title): \(name)", valueTitle: valueTitle, valueKind: kind,
                    series: pick(run.series), references: limit(plot, run.series), phases: run.series.phases,
                    timeDomainSeconds: domain, valueRange: range(plot), othersNoun: "storages")
                return (svg: chart.svg(options), caption: "\(title), \(role): \(name).")
            }
            page.sideBySide(sides[0], sides[1])
        }
        page.heading("Across replications")
        let samples = [(name: names.0, hours: a.durationHoursPerReplication), (name: names.1, hours: b.durationHoursPerReplication)]
        page.figure(
            DistributionChart(id: PlotID.durationCDF.comparisonID, title: "Migration duration, empirical CDF of both runs", samples: samples, marks: []).cdf(options),
            caption: "Share of replications finished by each duration.")
        page.figure(
            IntervalChart(
                id: PlotID.dataLoss.comparisonID, title: "Data-loss risk of both runs",
                rows: [a, b].map { ($0.summary.title, $0.summary.predictions.dataLoss.probability, lossDetail($0.summary.predictions.dataLoss)) }
            ).svg(),
            caption: "Probability of losing any acknowledged write, with its interval.")
        return page.finish()
    }

    static var perStoragePlots: [(PlotID, String, String, ValueScaling.Kind, (RunSeries) -> [TimeSeries])] {
        [
            (.storageWeights, "Storage weights", "weight", .number, \.storageWeights),
            (.diskFill, "Disk fill per storage", "disk fill", .fraction, \.diskFill),
        ]
    }

    static func limit(_ plot: PlotID, _ series: RunSeries) -> [(value: Double, label: String)] {
        plot == .diskFill ? [(series.diskFillLimit, "fill limit \(Format.significant(series.diskFillLimit * 100)) %")] : []
    }

    static func range(_ plot: PlotID) -> ClosedRange<Double>? { plot == .diskFill ? 0...1 : nil }

    /// The span every time axis of a page shares, so that plots line up.
    static func timeDomain(_ all: [RunSeries]) -> ClosedRange<Double> {
        var low = Double.infinity
        var high = -Double.infinity
        for series in all {
            let lines = series.storageWeights + series.diskFill
                + [series.movesInFlight, series.bytesMoved, series.replicationQueueDepth, series.replicationLagSeconds, series.apdex]
            for line in lines {
                if let first = line.points.first { low = min(low, first.timeSeconds) }
                if let last = line.points.last { high = max(high, last.timeSeconds) }
            }
            for phase in series.phases {
                low = min(low, phase.startSeconds)
                high = max(high, phase.endSeconds)
            }
        }
        guard low.isFinite else { return 0...3600 }
        return min(low, 0)...max(high, low + 60)
    }

    static func lossDetail(_ loss: LossProbability) -> String {
        "\(loss.replicationsWithLoss) of \(loss.replications) replications lost a write; P = "
            + Format.estimate(loss.probability, .probability)
    }
}
