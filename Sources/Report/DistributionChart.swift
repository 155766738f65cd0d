import Foundation

/// The spread of migration duration across replications: a histogram with nice bin edges, and
/// an empirical CDF (one or more runs overlaid), each with the predicted quantiles marked.
struct DistributionChart {
    var id: String
    var title: String
    /// Durations in hours, per run drawn; a replication with no finite duration is left out.
    let samples: [(name: String, hours: [Double])]
    /// Quantile marks (e.g. p50 and p95 of the first run), in hours.
    let marks: [(label: String, hours: Double)]

    init(id: String, title: String, samples: [(name: String, hours: [Double])], marks: [(label: String, hours: Double)]) {
        self.id = id
        self.title = title
        self.samples = samples.map { ($0.name, $0.hours.filter(\.isFinite)) }
        self.marks = marks.filter { $0.hours.isFinite }
    }

    /// Bin edges: about √n bins (5 to 40), widths rounded to a nice number.
    static func bins(_ values: [Double]) -> (scale: NiceScale, counts: [Int]) {
        let low = values.min() ?? 0
        let high = values.max() ?? 1
        let target = min(40, max(5, Int(Double(values.count).squareRoot())))
        let scale = NiceScale(low: low, high: high, maxTicks: target + 1)
        let count = max(1, Int(((scale.upper - scale.lower) / scale.step).rounded()))
        var counts = [Int](repeating: 0, count: count)
        for value in values {
            let bin = Int(((value - scale.lower) / scale.step).rounded(.down))
            counts[min(count - 1, max(0, bin))] += 1
        }
        return (scale, counts)
    }

    func histogram() -> String {
        let values = samples.first?.hours ?? []
        let (binScale, counts) = Self.bins(values)
        let axisScale = NiceScale(low: binScale.lower, high: binScale.upper, maxTicks: 10)
        let frame = PlotFrame(
            legendRows: 0, bandLabels: !marks.isEmpty, x: axisScale,
            // Counts are whole: at least 5 on the axis so that no tick falls between integers.
            y: NiceScale(low: 0, high: Double(max(counts.max() ?? 0, 5)), maxTicks: 6))
        let description = "histogram of migration duration over \(values.count) replications, bins of \(Format.plain(binScale.step)) h"
        var writer = SVGWriter(id: id, title: title, description: description, frame: frame)
        let xDecimals = axisScale.decimals
        writer.axes(
            xTitle: "migration duration (hours)", yTitle: "replications",
            xLabel: { Format.fixed($0, decimals: xDecimals) }, yLabel: { Format.fixed($0, decimals: 0) })
        for (bin, count) in counts.enumerated() where count > 0 {
            let x0 = frame.px(binScale.lower + Double(bin) * binScale.step)
            let x1 = frame.px(binScale.lower + Double(bin + 1) * binScale.step)
            let y = frame.py(Double(count))
            let from = Format.plain(binScale.lower + Double(bin) * binScale.step)
            let to = Format.plain(binScale.lower + Double(bin + 1) * binScale.step)
            writer.append("<rect class=\"bar\" x=\"\(Format.coordinate(x0 + 0.5))\" y=\"\(Format.coordinate(y))\" width=\"\(Format.coordinate(max(0.5, x1 - x0 - 1)))\"")
            writer.append(" height=\"\(Format.coordinate(frame.py(0) - y))\"><title>\(from)–\(to) h: \(count) replications</title></rect>\n")
        }
        writer.append(quantileMarks(frame))
        return writer.finish()
    }

    func cdf(_ options: ReportOptions) -> String {
        let all = samples.flatMap(\.hours)
        let axisScale = NiceScale(low: all.min() ?? 0, high: all.max() ?? 1, maxTicks: 10)
        let legend = samples.count > 1
            ? samples.indices.map { LegendEntry(name: samples[$0].name, mark: .line(SeriesStyle(index: $0))) } : []
        let frame = PlotFrame(
            legendRows: PlotFrame.legendRows(entries: legend.count), bandLabels: !marks.isEmpty,
            x: axisScale, y: NiceScale(low: 0, high: 1, maxTicks: 6))
        let description = "empirical cumulative distribution of migration duration: "
            + samples.map { "\($0.name), \($0.hours.count) replications" }.joined(separator: "; ")
        var writer = SVGWriter(id: id, title: title, description: description, frame: frame)
        writer.legend(legend)
        let xDecimals = axisScale.decimals
        writer.axes(
            xTitle: "migration duration (hours)", yTitle: "share of replications (%)",
            xLabel: { Format.fixed($0, decimals: xDecimals) }, yLabel: { Format.fixed($0 * 100, decimals: 0) })
        for (index, sample) in samples.enumerated() {
            let sorted = sample.hours.sorted()
            // A step function: at each sorted value the share jumps from i/n to (i+1)/n.
            var steps: [SeriesPoint] = []
            steps.reserveCapacity(sorted.count * 2)
            let n = Double(sorted.count)
            for (rank, value) in sorted.enumerated() {
                steps.append(SeriesPoint(timeSeconds: value, value: Double(rank) / n))
                steps.append(SeriesPoint(timeSeconds: value, value: Double(rank + 1) / n))
            }
            let points = Downsample.minMax(steps, maxPoints: options.maxPointsPerSeries).map { (x: $0.timeSeconds, y: $0.value) }
            writer.polyline(points, style: SeriesStyle(index: index), width: 2, name: sample.name)
        }
        writer.append(quantileMarks(frame))
        return writer.finish()
    }

    /// Vertical dashed lines at the quantiles, labels above the plot area; a label that would
    /// overlap the previous one moves to the other side of its line.
    private func quantileMarks(_ frame: PlotFrame) -> String {
        var text = ""
        var previousRight = -Double.infinity
        for mark in marks.sorted(by: { $0.hours < $1.hours }) {
            let x = frame.px(mark.hours)
            let label = "\(mark.label) \(Format.duration(seconds: mark.hours * 3600))"
            let width = Double(label.count) * 6.2
            let leftAligned = x - width / 2 > previousRight + 4
            let anchor = leftAligned ? "middle" : "start"
            let labelX = leftAligned ? x : x + 4
            previousRight = leftAligned ? x + width / 2 : x + 4 + width
            text += "<line class=\"quantile\" x1=\"\(Format.coordinate(x))\" x2=\"\(Format.coordinate(x))\" y1=\"\(Format.coordinate(frame.top))\" y2=\"\(Format.coordinate(frame.top + frame.plotHeight))\"/>"
            text += "<text class=\"quantile-label\" x=\"\(Format.coordinate(labelX))\" y=\"\(Format.coordinate(frame.top - 4))\" text-anchor=\"\(anchor)\">\(HTMLText.escape(label))</text>\n"
        }
        return text
    }
}

/// Probabilities with their intervals, one row each: a dot at the estimate and a bar across
/// the interval, on a linear axis from zero.
struct IntervalChart {
    var id: String
    var title: String
    var rows: [(name: String, estimate: Estimate, detail: String)]
    /// What the values are: a probability (ticks in percent) or any other quantity.
    var unit: Quantity = .probability
    var axisTitle = "probability that a replication loses an acknowledged write"

    static let rowHeight = 44.0

    func svg() -> String {
        var high = 0.0
        for row in rows { high = max(high, row.estimate.value, row.estimate.interval?.upperBound ?? 0) }
        let scale = NiceScale(low: 0, high: high > 0 ? high : 1e-3, maxTicks: 8)
        // Rows are spread over the standard plot height; the value axis carries the ticks.
        let frame = PlotFrame(
            legendRows: 0, bandLabels: false, x: scale, y: NiceScale(low: 0, high: Double(max(rows.count, 1)), maxTicks: 50),
            plotHeight: Self.rowHeight * Double(max(rows.count, 1)) + 16)
        // Ticks as percentages with only the decimals the step needs; scientific below 0.1 %.
        let percentDecimals = max(0, scale.decimals - 2)
        let unit = self.unit
        let tickLabel: (Double) -> String = { tick in
            guard unit == .probability else { return tick == 0 ? "0" : Format.value(tick, unit) }
            return tick == 0 ? "0" : scale.upper >= 1e-3 ? Format.fixed(tick * 100, decimals: percentDecimals) + " %" : Format.scientific(tick)
        }
        let description = rows.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
        var writer = SVGWriter(id: id, title: title, description: description, frame: frame)
        let bottom = frame.top + frame.plotHeight
        for tick in scale.ticks {
            let x = Format.coordinate(frame.px(tick))
            writer.append("<line class=\"grid\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(Format.coordinate(frame.top))\" y2=\"\(Format.coordinate(bottom))\"/>")
            writer.append("<text class=\"tick\" x=\"\(x)\" y=\"\(Format.coordinate(bottom + 16))\" text-anchor=\"middle\">\(HTMLText.escape(tickLabel(tick)))</text>\n")
        }
        writer.append("<rect class=\"frame\" x=\"\(Format.coordinate(PlotFrame.left))\" y=\"\(Format.coordinate(frame.top))\" width=\"\(Format.coordinate(frame.plotWidth))\" height=\"\(Format.coordinate(frame.plotHeight))\"/>\n")
        writer.append("<text class=\"axis-title\" x=\"\(Format.coordinate(PlotFrame.left + frame.plotWidth / 2))\" y=\"\(Format.coordinate(bottom + 38))\" text-anchor=\"middle\">\(HTMLText.escape(axisTitle))</text>\n")
        for (index, row) in rows.enumerated() {
            let y = frame.py(Double(rows.count - index) - 0.5)
            let style = SeriesStyle(index: index)
            if let interval = row.estimate.interval {
                let x0 = Format.coordinate(frame.px(interval.lowerBound))
                let x1 = Format.coordinate(frame.px(interval.upperBound))
                let yText = Format.coordinate(y)
                writer.append("<line x1=\"\(x0)\" x2=\"\(x1)\" y1=\"\(yText)\" y2=\"\(yText)\" stroke=\"\(style.colour)\" stroke-width=\"3\"/>")
                for x in [x0, x1] {
                    writer.append("<line x1=\"\(x)\" x2=\"\(x)\" y1=\"\(Format.coordinate(y - 8))\" y2=\"\(Format.coordinate(y + 8))\" stroke=\"\(style.colour)\" stroke-width=\"2\"/>")
                }
            }
            writer.append("<circle cx=\"\(Format.coordinate(frame.px(row.estimate.value)))\" cy=\"\(Format.coordinate(y))\" r=\"5\" fill=\"\(style.colour)\"><title>\(HTMLText.escape(row.detail))</title></circle>")
            writer.append("<text class=\"row-label\" x=\"\(Format.coordinate(PlotFrame.left + 8))\" y=\"\(Format.coordinate(y - 12))\">\(HTMLText.escape(row.name + ": " + row.detail))</text>\n")
        }
        return writer.finish()
    }
}
