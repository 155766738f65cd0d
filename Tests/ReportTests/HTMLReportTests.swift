import Foundation
import Testing
@testable import Report

/// Checks that start and end tags nest, the way an XML parser would, skipping HTML void
/// elements. Returns the first problem, or nil.
func tagNestingProblem(_ html: String) -> String? {
    let void: Set<String> = ["meta", "br", "!doctype"]
    var open: [String] = []
    var rest = Substring(html)
    while let start = rest.firstIndex(of: "<") {
        guard let end = rest[start...].firstIndex(of: ">") else { return "unterminated tag" }
        let tag = rest[rest.index(after: start)..<end]
        rest = rest[rest.index(after: end)...]
        let isClosing = tag.hasPrefix("/")
        let name = (isClosing ? tag.dropFirst() : tag).prefix { !$0.isWhitespace && $0 != "/" }.lowercased()
        if isClosing {
            let closing = name
            guard open.last == closing else { return "</\(closing)> closes <\(open.last ?? "nothing")>" }
            open.removeLast()
        } else if !tag.hasSuffix("/") && !void.contains(name) {
            open.append(name)
        }
    }
    return open.isEmpty ? nil : "unclosed <\(open.joined(separator: "> <"))>"
}

func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

@Suite struct HTMLReportTests {
    static let hostile = "<script>alert(\"x\")</script>&'"

    @Test func escapingReplacesEveryMarkupCharacter() {
        #expect(HTMLText.escape(Self.hostile) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;")
        #expect(HTMLText.escape("gitaly-pod-1 ✓") == "gitaly-pod-1 ✓")
        #expect(HTMLText.escape("a\u{0}b\u{7}c\nd") == "abc\nd")
    }

    /// A run whose every outside string is hostile: storage, phase, file, claim, title.
    func hostileRun() -> RunReport {
        var run = SampleReport.run(title: "run " + Self.hostile, storages: 3, pointsPerSeries: 50, replications: 20)
        run.series.storageWeights[0].name = Self.hostile
        run.series.diskFill[1].name = "\"><svg onload=alert(1)>"
        run.series.phases[0].name = Self.hostile
        run.summary.inputs[0].path = "models/" + Self.hostile + ".yaml"
        run.summary.claims[0].statement = Self.hostile
        run.summary.fidelity[0].level = "</td></tr></table><img src=x>"
        return run
    }

    @Test func hostileNamesAreEscapedEverywhere() {
        let html = HTMLReport.render(hostileRun())
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("\"><svg onload"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(tagNestingProblem(html) == nil, "\(tagNestingProblem(html) ?? "")")
    }

    @Test func everyPlotIsPresentOnceWithATitleAndTheTagsNest() {
        let html = HTMLReport.render(SampleReport.run())
        for plot in PlotID.allCases {
            #expect(occurrences(of: "<svg id=\"\(plot.rawValue)\"", in: html) == 1, "\(plot.rawValue)")
            #expect(html.contains("<title id=\"\(plot.rawValue)-title\">"), "\(plot.rawValue) has no accessible title")
        }
        #expect(occurrences(of: "<svg", in: html) == PlotID.allCases.count)
        #expect(occurrences(of: "</svg>", in: html) == PlotID.allCases.count)
        #expect(tagNestingProblem(html) == nil, "\(tagNestingProblem(html) ?? "")")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }

    @Test(arguments: [false, true])
    func nothingIsFetchedFromOutside(comparison: Bool) {
        let html = comparison ? HTMLReport.render(SampleReport.comparison()) : HTMLReport.render(SampleReport.run())
        for forbidden in ["http:", "https:", "//", "<script", "<link", "src=", "@import", "@font-face", "<img"] {
            let hits = forbidden == "//" ? occurrences(of: "//", in: html) - occurrences(of: "://", in: html) : occurrences(of: forbidden, in: html)
            #expect(hits == 0, "\(forbidden) appears \(hits) times")
        }
        // The only url() references are the page's own clip paths.
        #expect(occurrences(of: "url(", in: html) == occurrences(of: "url(#", in: html))
    }

    @Test func sameInputGivesTheSameBytes() {
        let first = HTMLReport.render(SampleReport.run())
        let second = HTMLReport.render(SampleReport.run())
        #expect(first == second)
        #expect(HTMLReport.render(SampleReport.comparison()) == HTMLReport.render(SampleReport.comparison()))
        // And the input matters: another seed's durations change the page.
        var other = SampleReport.run()
        other.durationHoursPerReplication[0] += 1
        #expect(HTMLReport.render(other) != first)
    }

    @Test func claimsAndSignificanceReadWithoutColour() {
        let run = SampleReport.run()
        let html = HTMLReport.render(run)
        #expect(occurrences(of: "✓ holds", in: html) == run.summary.claims.filter(\.holds).count)
        #expect(occurrences(of: "✗ fails", in: html) == run.summary.claims.filter { !$0.holds }.count)
        let comparison = SampleReport.comparison()
        let page = HTMLReport.render(comparison)
        #expect(occurrences(of: "✓ significant", in: page) == comparison.differences.filter(\.significant).count)
        #expect(occurrences(of: "✗ not significant", in: page) == comparison.differences.filter { !$0.significant }.count)
    }

    @Test func comparisonPageHasEveryPlotOfBothRuns() {
        let html = HTMLReport.render(SampleReport.comparison())
        let overlaid: [PlotID] = [.movesInFlight, .bytesMoved, .replicationQueueDepth, .replicationLag, .apdex, .durationCDF, .dataLoss]
        for plot in overlaid { #expect(html.contains("<svg id=\"\(plot.comparisonID)\""), "\(plot.comparisonID)") }
        for plot in [PlotID.storageWeights, .diskFill] {
            #expect(html.contains("<svg id=\"\(plot.comparisonID)-baseline\""))
            #expect(html.contains("<svg id=\"\(plot.comparisonID)-candidate\""))
        }
        #expect(tagNestingProblem(html) == nil, "\(tagNestingProblem(html) ?? "")")
    }

    /// Goal: the page stays bounded however large the run. Method: 300 storages of 4 000 points
    /// each (ten times the point bound); count what was drawn against the options' bounds.
    @Test func largeRunsAreDrawnWithinTheBounds() {
        let options = ReportOptions(maxPointsPerSeries: 400, maxHighlightedSeries: 5)
        let run = SampleReport.run(storages: 300, pointsPerSeries: 4_000, replications: 5_000)
        let html = HTMLReport.render(run, options: options)
        let svgs = html.components(separatedBy: "<svg ").dropFirst()
        for svg in svgs {
            for polyline in svg.components(separatedBy: "<polyline ").dropFirst() {
                let points = polyline.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
                #expect(points.split(separator: " ").count <= options.maxPointsPerSeries)
            }
            #expect(occurrences(of: "<polyline ", in: svg) <= options.maxHighlightedSeries)
        }
        #expect(html.contains("range of 295 other storages"))
        #expect(html.utf8.count < 1_000_000, "\(html.utf8.count) bytes")
    }
}

@Suite struct DegenerateInputTests {
    /// Goal: a run the runner cut short still gives a complete page. Method: no storages, empty
    /// series, one replication, a NaN and an infinity among the points; every plot must still be
    /// there and nest, and no coordinate may be NaN.
    @Test func emptyAndNonFiniteInputsStillRenderEveryPlot() {
        var run = SampleReport.run(storages: 2, pointsPerSeries: 3, replications: 1)
        run.series.storageWeights = []
        run.series.diskFill = []
        run.series.phases = []
        run.series.movesInFlight.points = []
        run.series.apdex.points[1].value = .nan
        run.series.bytesMoved.points[2].value = .infinity
        run.durationHoursPerReplication = [.nan, 40]
        run.summary.claims = []
        run.summary.inputs = []
        let html = HTMLReport.render(run)
        for plot in PlotID.allCases { #expect(html.contains("<svg id=\"\(plot.rawValue)\""), "\(plot.rawValue)") }
        #expect(tagNestingProblem(html) == nil, "\(tagNestingProblem(html) ?? "")")
        let words = Set(html.lowercased().split { !$0.isLetter }.map(String.init))
        #expect(!words.contains("nan") && !words.contains("inf") && !words.contains("infinity"))
        // Whole counts on the histogram's axis even with one replication.
        let histogram = html.components(separatedBy: "<svg id=\"plot-duration-histogram\"")[1].components(separatedBy: "</svg>")[0]
        let ticks = histogram.components(separatedBy: "text-anchor=\"end\" dominant-baseline=\"middle\">").dropFirst().map { $0.prefix { $0 != "<" } }
        #expect(ticks == ["0", "1", "2", "3", "4", "5"])
    }
}

/// Goal: the per-phase table and the peak-fill table read the plotted replication correctly.
/// Method, by hand: phases a (0–100 s) and b (100–300 s); apdex windows ending at 60 s (0.99)
/// belong to a, at 120, 180 and 300 s (0.95, 1.0, 0.97) to b: a's lowest and mean 0.99, b's
/// lowest 0.95 and mean 2.92/3; cumulative bytes 0, 50 at 100 s, 200 at 250 s: a moved 50, b
/// 150. Storage s2 peaks at 0.9 (10 s), past the 0.8 limit, s1 at 0.5 first at 50 s; s2 comes
/// first, and the page says s2 is past the limit.
@Test func phaseLevelsAndPeakFillMatchAHandWorkedSeries() {
    func series(_ name: String, _ points: [(Double, Double)]) -> TimeSeries {
        TimeSeries(name: name, points: points.map { SeriesPoint(timeSeconds: $0.0, value: $0.1) })
    }
    let s = RunSeries(
        phases: [PhaseSpan(name: "a", startSeconds: 0, endSeconds: 100), PhaseSpan(name: "b", startSeconds: 100, endSeconds: 300)],
        storageWeights: [], movesInFlight: series("moves", []), bytesMoved: series("bytes", [(0, 0), (100, 50), (250, 200), (300, 200)]),
        diskFill: [series("s1", [(0, 0.1), (50, 0.5), (70, 0.5), (90, 0.4)]), series("s2", [(0, 0.7), (10, 0.9)])],
        diskFillLimit: 0.8, replicationQueueDepth: series("q", []), replicationLagSeconds: series("lag", []),
        apdex: series("apdex", [(60, 0.99), (120, 0.95), (180, 1.0), (300, 0.97)]), apdexObjective: 0.995)
    let levels = PhaseLevels.of(s)
    #expect(levels.map(\.bytesMoved) == [50, 150])
    #expect(levels.map(\.lowestApdex) == [0.99, 0.95])
    #expect(levels[0].meanApdex == 0.99 && abs(levels[1].meanApdex! - 2.92 / 3) < 1e-12)
    #expect(PeakFill.of(s) == [PeakFill(storage: "s2", fill: 0.9, atSeconds: 10), PeakFill(storage: "s1", fill: 0.5, atSeconds: 50)])
    var page = PageWriter(title: "t")
    page.phaseTables(s)
    let html = page.finish()
    #expect(html.contains("<h2>By phase</h2>") && html.contains("<h2>Peak fill per storage</h2>"))
    #expect(html.contains("✗ 90.0 % (past the 80.0 % limit)") && html.contains("✓ 50.0 %"), "\(html)")
}
