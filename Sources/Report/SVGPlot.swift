import Foundation

/// Settings that bound a report's size whatever the input.
public struct ReportOptions: Sendable, Equatable {
    /// Points drawn per series after downsampling (min/max per bucket, see `Downsample`).
    public var maxPointsPerSeries: Int
    /// Series drawn in colour on a per-storage plot; the rest become one grey min–max band.
    public var maxHighlightedSeries: Int

    public init(maxPointsPerSeries: Int = 800, maxHighlightedSeries: Int = 6) {
        precondition(maxPointsPerSeries >= 4 && maxHighlightedSeries >= 1)
        self.maxPointsPerSeries = maxPointsPerSeries
        self.maxHighlightedSeries = maxHighlightedSeries
    }
}

/// Colour and dash of the n-th series. Hues from Okabe and Ito's colour-blind-safe palette,
/// ordered so that neighbours differ in lightness, each with its own dash pattern so that the
/// lines stay apart when printed in grey.
struct SeriesStyle {
    static let colours = ["#1f3a93", "#d55e00", "#009e73", "#111111", "#e69f00", "#56b4e9", "#7a2e8e", "#cc79a7"]
    static let dashes = ["", "8 3", "2 2.5", "10 3 2 3", "4 4", "1 3"]

    let colour: String
    let dash: String

    init(index: Int) {
        colour = Self.colours[index % Self.colours.count]
        dash = Self.dashes[index % Self.dashes.count]
    }

    var strokeAttributes: String {
        "stroke=\"\(colour)\"" + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")
    }
}

/// How a value axis is labelled: the data are divided by `divisor` and the unit goes in the label.
struct ValueScaling {
    let divisor: Double
    let unit: String

    enum Kind {
        case number, fraction, bytes, seconds
    }

    init(kind: Kind, maxValue: Double) {
        switch kind {
        case .number:
            (divisor, unit) = (1, "")
        case .fraction:
            (divisor, unit) = (0.01, "%")
        case .bytes:
            let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
            var index = 0
            while index < units.count - 1 && maxValue >= pow(1024, Double(index + 1)) { index += 1 }
            (divisor, unit) = (pow(1024, Double(index)), units[index])
        case .seconds:
            if maxValue >= 2 * 3600 {
                (divisor, unit) = (3600, "h")
            } else if maxValue >= 120 {
                (divisor, unit) = (60, "min")
            } else {
                (divisor, unit) = (1, "s")
            }
        }
    }
}

/// The frame every plot shares: a fixed width, a legend above the plot area, ticks and axis
/// labels below and left. Knows how to turn data coordinates into SVG coordinates.
struct PlotFrame {
    static let width = 880.0
    static let left = 78.0
    static let right = 22.0
    static let bottom = 48.0
    static let legendRowHeight = 18.0
    static let legendColumnWidth = 210.0
    static let legendColumns = 4
    static let standardPlotHeight = 230.0

    let legendRows: Int
    /// Room for phase names above the plot area.
    let bandLabels: Bool
    let x: NiceScale
    let y: NiceScale
    var plotHeight = Self.standardPlotHeight

    var top: Double { 10 + Double(legendRows) * Self.legendRowHeight + (bandLabels ? 16 : 4) }
    var height: Double { top + plotHeight + Self.bottom }
    var plotWidth: Double { Self.width - Self.left - Self.right }

    func px(_ value: Double) -> Double { Self.left + (value - x.lower) / (x.upper - x.lower) * plotWidth }
    func py(_ value: Double) -> Double { top + plotHeight - (value - y.lower) / (y.upper - y.lower) * plotHeight }

    static func legendRows(entries: Int) -> Int { (entries + legendColumns - 1) / legendColumns }
}

/// Writes one `<svg>` element. Text passes through `HTMLText.escape`; numbers through `Format`.
struct SVGWriter {
    private(set) var text = ""
    let frame: PlotFrame
    let id: String

    init(id: String, title: String, description: String, frame: PlotFrame) {
        self.frame = frame
        self.id = id
        let w = Format.coordinate(PlotFrame.width)
        let h = Format.coordinate(frame.height)
        text += "<svg id=\"\(HTMLText.escape(id))\" class=\"plot\" role=\"img\" viewBox=\"0 0 \(w) \(h)\" width=\"\(w)\" height=\"\(h)\""
        text += " aria-labelledby=\"\(HTMLText.escape(id))-title \(HTMLText.escape(id))-desc\">\n"
        text += "<title id=\"\(HTMLText.escape(id))-title\">\(HTMLText.escape(title))</title>\n"
        text += "<desc id=\"\(HTMLText.escape(id))-desc\">\(HTMLText.escape(description))</desc>\n"
        let top = Format.coordinate(frame.top)
        text += "<clipPath id=\"\(HTMLText.escape(id))-clip\"><rect x=\"\(Format.coordinate(PlotFrame.left))\" y=\"\(top)\""
        text += " width=\"\(Format.coordinate(frame.plotWidth))\" height=\"\(Format.coordinate(frame.plotHeight))\"/></clipPath>\n"
    }

    mutating func append(_ raw: String) { text += raw }

    /// Phases as alternating grey bands across the plot area, each named above it when it fits.
    mutating func phaseBands(_ phases: [PhaseSpan], unitSeconds: Double) {
        for (index, phase) in phases.enumerated() {
            let x0 = max(frame.px(phase.startSeconds / unitSeconds), PlotFrame.left)
            let x1 = min(frame.px(phase.endSeconds / unitSeconds), PlotFrame.left + frame.plotWidth)
            guard x1 > x0 else { continue }
            let shade = index % 2 == 0 ? "#e8e8e8" : "#f4f4f4"
            text += "<rect class=\"phase\" x=\"\(Format.coordinate(x0))\" y=\"\(Format.coordinate(frame.top))\" width=\"\(Format.coordinate(x1 - x0))\""
            text += " height=\"\(Format.coordinate(frame.plotHeight))\" fill=\"\(shade)\"><title>phase \(HTMLText.escape(phase.name))</title></rect>\n"
            // About 6 px per character at 11 px: skip names that would spill into the next band.
            if frame.bandLabels && Double(phase.name.count) * 6.2 + 4 <= x1 - x0 {
                text += "<text class=\"phase-label\" x=\"\(Format.coordinate(x0 + 3))\" y=\"\(Format.coordinate(frame.top - 4))\">\(HTMLText.escape(phase.name))</text>\n"
            }
        }
    }

    /// Grid lines and tick labels on both axes, and the axis titles.
    mutating func axes(xTitle: String, yTitle: String, xLabel: (Double) -> String, yLabel: (Double) -> String) {
        let bottom = frame.top + frame.plotHeight
        let right = PlotFrame.left + frame.plotWidth
        for tick in frame.y.ticks {
            let y = Format.coordinate(frame.py(tick))
            text += "<line class=\"grid\" x1=\"\(Format.coordinate(PlotFrame.left))\" x2=\"\(Format.coordinate(right))\" y1=\"\(y)\" y2=\"\(y)\"/>"
            text += "<text class=\"tick\" x=\"\(Format.coordinate(PlotFrame.left - 6))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(HTMLText.escape(yLabel(tick)))</text>\n"
        }
        for tick in frame.x.ticks {
            let x = Format.coordinate(frame.px(tick))
            text += "<line class=\"grid\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(Format.coordinate(frame.top))\" y2=\"\(Format.coordinate(bottom))\"/>"
            text += "<text class=\"tick\" x=\"\(x)\" y=\"\(Format.coordinate(bottom + 16))\" text-anchor=\"middle\">\(HTMLText.escape(xLabel(tick)))</text>\n"
        }
        text += "<rect class=\"frame\" x=\"\(Format.coordinate(PlotFrame.left))\" y=\"\(Format.coordinate(frame.top))\" width=\"\(Format.coordinate(frame.plotWidth))\" height=\"\(Format.coordinate(frame.plotHeight))\"/>\n"
        text += "<text class=\"axis-title\" x=\"\(Format.coordinate(PlotFrame.left + frame.plotWidth / 2))\" y=\"\(Format.coordinate(bottom + 38))\" text-anchor=\"middle\">\(HTMLText.escape(xTitle))</text>\n"
        let middle = Format.coordinate(frame.top + frame.plotHeight / 2)
        text += "<text class=\"axis-title\" x=\"16\" y=\"\(middle)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(middle))\">\(HTMLText.escape(yTitle))</text>\n"
    }

    /// A polyline through data points already in axis units, clipped to the plot area.
    mutating func polyline(_ points: [(x: Double, y: Double)], style: SeriesStyle, width: Double = 1.6, name: String) {
        guard !points.isEmpty else { return }
        text += "<polyline clip-path=\"url(#\(HTMLText.escape(id))-clip)\" fill=\"none\" stroke-width=\"\(Format.coordinate(width))\" \(style.strokeAttributes) points=\""
        for (index, point) in points.enumerated() {
            if index > 0 { text += " " }
            text += Format.coordinate(frame.px(point.x)) + "," + Format.coordinate(frame.py(point.y))
        }
        text += "\"><title>\(HTMLText.escape(name))</title></polyline>\n"
    }

    /// A dashed horizontal line at `value` (axis units) with its label at the right end.
    mutating func referenceLine(at value: Double, label: String) {
        let y = Format.coordinate(frame.py(value))
        let right = PlotFrame.left + frame.plotWidth
        text += "<line class=\"reference\" x1=\"\(Format.coordinate(PlotFrame.left))\" x2=\"\(Format.coordinate(right))\" y1=\"\(y)\" y2=\"\(y)\"/>"
        text += "<text class=\"reference-label\" x=\"\(Format.coordinate(right - 4))\" y=\"\(Format.coordinate(frame.py(value) - 4))\" text-anchor=\"end\">\(HTMLText.escape(label))</text>\n"
    }

    /// The legend above the plot area: a short line sample and the name, in rows of columns.
    mutating func legend(_ entries: [LegendEntry]) {
        for (index, entry) in entries.enumerated() {
            let column = Double(index % PlotFrame.legendColumns)
            let row = Double(index / PlotFrame.legendColumns)
            let x = PlotFrame.left + column * PlotFrame.legendColumnWidth
            let y = 10 + row * PlotFrame.legendRowHeight + 9
            let yText = Format.coordinate(y)
            switch entry.mark {
            case .line(let style):
                text += "<line x1=\"\(Format.coordinate(x))\" x2=\"\(Format.coordinate(x + 26))\" y1=\"\(yText)\" y2=\"\(yText)\" stroke-width=\"2.2\" \(style.strokeAttributes)/>"
            case .band:
                text += "<rect x=\"\(Format.coordinate(x))\" y=\"\(Format.coordinate(y - 5))\" width=\"26\" height=\"10\" class=\"envelope\"/>"
            case .reference:
                text += "<line class=\"reference\" x1=\"\(Format.coordinate(x))\" x2=\"\(Format.coordinate(x + 26))\" y1=\"\(yText)\" y2=\"\(yText)\"/>"
            }
            // Long names are cut so that they never run into the next column; the full name is in the tooltip.
            let shown = entry.name.count > 28 ? String(entry.name.prefix(27)) + "…" : entry.name
            text += "<text class=\"legend\" x=\"\(Format.coordinate(x + 32))\" y=\"\(yText)\" dominant-baseline=\"middle\">\(HTMLText.escape(shown))<title>\(HTMLText.escape(entry.name))</title></text>\n"
        }
    }

    mutating func finish() -> String {
        text += "</svg>\n"
        return text
    }
}

struct LegendEntry {
    enum Mark {
        case line(SeriesStyle)
        case band
        case reference
    }

    let name: String
    let mark: Mark
}
