import Foundation

/// A line chart over simulated time: one or many series, phases shaded, optional dashed
/// reference lines (a fill limit, an SLO). With more series than `maxHighlightedSeries`, the
/// series with the highest peaks are drawn in colour and the rest as one grey band from their
/// minimum to their maximum at each pixel column, so the plot stays readable and bounded in size
/// with thousands of storages.
struct LineChart {
    var id: String
    var title: String
    var valueTitle: String
    var valueKind: ValueScaling.Kind
    var series: [TimeSeries]
    var references: [(value: Double, label: String)] = []
    var phases: [PhaseSpan]
    var timeDomainSeconds: ClosedRange<Double>
    /// A fixed value range in data units (e.g. 0...1 for a fill); nil fits the data.
    var valueRange: ClosedRange<Double>? = nil
    /// What the grey band's series are, e.g. "storages".
    var othersNoun: String = "series"
    /// Counts, sizes and fills read best from zero; a ratio near 1 (apdex) reads best zoomed in.
    var startsAtZero = true

    func svg(_ options: ReportOptions) -> String {
        let ranked = rankByPeak()
        let highlighted = ranked.prefix(options.maxHighlightedSeries)
        let others = ranked.dropFirst(options.maxHighlightedSeries)

        var low = valueRange?.lowerBound ?? .infinity
        var high = valueRange?.upperBound ?? -.infinity
        if valueRange == nil {
            for series in self.series {
                for point in series.points where point.value.isFinite {
                    low = min(low, point.value)
                    high = max(high, point.value)
                }
            }
            for reference in references {
                low = min(low, reference.value)
                high = max(high, reference.value)
            }
            if !low.isFinite { (low, high) = (0, 1) }
            // Counts, sizes and fills read best from zero.
            if low > 0 && startsAtZero { low = 0 }
        }
        let scaling = ValueScaling(kind: valueKind, maxValue: max(abs(low), abs(high)))
        let timeUnit = TimeUnit(spanSeconds: timeDomainSeconds.upperBound - timeDomainSeconds.lowerBound)

        var legend = highlighted.map { LegendEntry(name: series[$0].name, mark: .line(SeriesStyle(index: $0))) }
        if !others.isEmpty { legend.append(LegendEntry(name: "range of \(others.count) other \(othersNoun)", mark: .band)) }
        for reference in references { legend.append(LegendEntry(name: reference.label, mark: .reference)) }

        let frame = PlotFrame(
            legendRows: PlotFrame.legendRows(entries: legend.count), bandLabels: !phases.isEmpty,
            x: NiceScale(low: timeDomainSeconds.lowerBound / timeUnit.seconds, high: timeDomainSeconds.upperBound / timeUnit.seconds, maxTicks: 10),
            y: NiceScale(low: low / scaling.divisor, high: high / scaling.divisor, maxTicks: 6))
        let description = "\(valueTitle) over simulated time; \(series.count) series"
            + (others.isEmpty ? "" : ", \(highlighted.count) drawn, \(others.count) as a band")
            + (phases.isEmpty ? "" : "; phases shaded: " + phases.map(\.name).joined(separator: ", "))
        var writer = SVGWriter(id: id, title: title, description: description, frame: frame)
        writer.legend(legend)
        writer.phaseBands(phases, unitSeconds: timeUnit.seconds)
        let xDecimals = frame.x.decimals
        let yDecimals = frame.y.decimals
        writer.axes(
            xTitle: "simulated time (\(timeUnit.label))",
            yTitle: valueTitle + (scaling.unit.isEmpty ? "" : " (\(scaling.unit))"),
            xLabel: { Format.fixed($0, decimals: xDecimals) },
            yLabel: { Format.fixed($0, decimals: yDecimals) })
        if !others.isEmpty {
            writer.append(envelope(of: others.map { series[$0] }, frame: frame, unitSeconds: timeUnit.seconds, divisor: scaling.divisor))
        }
        for index in highlighted.reversed() {
            let points = Downsample.minMax(series[index].points.filter { $0.value.isFinite && $0.timeSeconds.isFinite }, maxPoints: options.maxPointsPerSeries)
                .map { (x: $0.timeSeconds / timeUnit.seconds, y: $0.value / scaling.divisor) }
            writer.polyline(points, style: SeriesStyle(index: index), name: series[index].name)
        }
        for reference in references { writer.referenceLine(at: reference.value / scaling.divisor, label: reference.label) }
        return writer.finish()
    }

    /// Series indices by peak value, highest first; ties by name then position, so the choice
    /// never depends on anything but the input.
    private func rankByPeak() -> [Int] {
        let peaks = series.map { $0.points.reduce(-Double.infinity) { max($0, $1.value) } }
        return series.indices.sorted { a, b in
            if peaks[a] != peaks[b] { return peaks[a] > peaks[b] }
            if series[a].name != series[b].name { return series[a].name < series[b].name }
            return a < b
        }
    }

    /// One polygon from the lowest to the highest value of `group` in each pixel column.
    private func envelope(of group: [TimeSeries], frame: PlotFrame, unitSeconds: Double, divisor: Double) -> String {
        let columns = Int(frame.plotWidth / 2)
        var lows = [Double](repeating: .infinity, count: columns)
        var highs = [Double](repeating: -.infinity, count: columns)
        for series in group {
            for point in series.points where point.value.isFinite && point.timeSeconds.isFinite {
                let x = (frame.px(point.timeSeconds / unitSeconds) - PlotFrame.left) / frame.plotWidth
                let column = min(columns - 1, max(0, Int(x * Double(columns))))
                lows[column] = min(lows[column], point.value / divisor)
                highs[column] = max(highs[column], point.value / divisor)
            }
        }
        let filled = (0..<columns).filter { lows[$0].isFinite }
        guard !filled.isEmpty else { return "" }
        let columnWidth = frame.plotWidth / Double(columns)
        func x(_ column: Int) -> String { Format.coordinate(PlotFrame.left + (Double(column) + 0.5) * columnWidth) }
        var points: [String] = []
        for column in filled { points.append(x(column) + "," + Format.coordinate(frame.py(highs[column]))) }
        for column in filled.reversed() { points.append(x(column) + "," + Format.coordinate(frame.py(lows[column]))) }
        return "<polygon class=\"envelope\" clip-path=\"url(#\(HTMLText.escape(id))-clip)\" points=\"\(points.joined(separator: " "))\">"
            + "<title>range of \(group.count) other \(HTMLText.escape(othersNoun))</title></polygon>\n"
    }
}
