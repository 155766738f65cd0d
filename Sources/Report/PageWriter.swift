/// Builds the HTML around the plots: head with inline CSS, tables, figures.
struct PageWriter {
    private var body = ""
    private let title: String

    init(title: String) { self.title = title }

    enum Cell {
        case text(String)
        case code(String)
        /// A pass/fail or significant/not cell, with a symbol so that it reads without colour.
        case verdict(Bool, yes: String, no: String)
    }

    mutating func heading(_ text: String) { body += "<h2>\(HTMLText.escape(text))</h2>\n" }

    mutating func paragraph(_ text: String) { body += "<p>\(HTMLText.escape(text))</p>\n" }

    mutating func table(header: [String], rows: [[Cell]]) {
        body += "<table>\n<thead><tr>" + header.map { "<th>\(HTMLText.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows {
            body += "<tr>"
            for cell in row {
                switch cell {
                case .text(let text): body += "<td>\(HTMLText.escape(text))</td>"
                case .code(let text): body += "<td><code>\(HTMLText.escape(text))</code></td>"
                case .verdict(let holds, let yes, let no):
                    body += holds ? "<td class=\"pass\">✓ \(HTMLText.escape(yes))</td>" : "<td class=\"fail\">✗ \(HTMLText.escape(no))</td>"
                }
            }
            body += "</tr>\n"
        }
        body += "</tbody>\n</table>\n"
    }

    /// The plotted replication phase by phase (`PhaseLevels`) and each storage's peak fill.
    mutating func phaseTables(_ series: RunSeries) {
        let levels = PhaseLevels.of(series)
        if !levels.isEmpty {
            heading("By phase")
            table(header: ["phase", "from", "to", "lasted", "bytes moved", "lowest window apdex", "mean window apdex"], rows: levels.map { l in
                [.text(l.phase), .text(Format.duration(seconds: l.startSeconds)), .text(Format.duration(seconds: l.endSeconds)),
                 .text(Format.duration(seconds: l.endSeconds - l.startSeconds)), .text(Format.bytes(l.bytesMoved)),
                 .text(l.lowestApdex.map { Format.fixed($0, decimals: 4) } ?? "no window"), .text(l.meanApdex.map { Format.fixed($0, decimals: 4) } ?? "no window")]
            })
        }
        let peaks = PeakFill.of(series)
        if !peaks.isEmpty {
            heading("Peak fill per storage")
            table(header: ["storage", "peak fill", "first reached at"], rows: peaks.map { p in
                [.code(p.storage), .verdict(p.fill <= series.diskFillLimit, yes: Format.probability(p.fill), no: Format.probability(p.fill) + " (past the \(Format.probability(series.diskFillLimit)) limit)"),
                 .text(Format.duration(seconds: p.atSeconds))]
            })
        }
    }

    mutating func figure(_ svg: String, caption: String) {
        body += "<figure>\n\(svg)<figcaption>\(HTMLText.escape(caption))</figcaption>\n</figure>\n"
    }

    mutating func sideBySide(_ left: (svg: String, caption: String), _ right: (svg: String, caption: String)) {
        body += "<div class=\"pair\">\n"
        for side in [left, right] { figure(side.svg, caption: side.caption) }
        body += "</div>\n"
    }

    /// The run's headline predictions, claims, fidelity and inputs.
    mutating func summary(_ summary: RunSummary) {
        paragraph("Experiment \(summary.experiment) · seed \(summary.seed) · \(summary.replications) replications")
        heading("Predictions")
        let predictions = summary.predictions
        var rows: [[Cell]] = predictions.durationHours.map { quantile in
            [.text("migration duration, \(quantile.label)"), .text(Format.estimate(quantile.estimate, .hours))]
        }
        rows.append([.text("write-unavailable repository-seconds"), .text(Format.estimate(predictions.writeUnavailableRepositorySeconds, .repositorySeconds))])
        rows.append([.text("longest read-only time of any repository"), .text(Format.estimate(predictions.longestReadOnlySeconds, .seconds))])
        rows.append([.text("probability of any data loss (\(predictions.dataLoss.method))"), .text(HTMLReport.lossDetail(predictions.dataLoss))])
        rows.append([.text("acknowledged writes lost per replication"), .text(Format.estimate(predictions.lostWrites, .count))])
        table(header: ["prediction", "estimate"], rows: rows)
        if !summary.claims.isEmpty {
            heading("Claims")
            table(
                header: ["claim", "observed", "result"],
                rows: summary.claims.map { [.code($0.statement), .text($0.observed), .verdict($0.holds, yes: "holds", no: "fails")] })
        }
        heading("Fidelity")
        table(header: ["part", "simulated at"], rows: summary.fidelity.map { [.text($0.part), .text($0.level)] })
        heading("Inputs")
        table(header: ["file", "SHA-256"], rows: summary.inputs.map { [.code($0.path), .code($0.sha256)] })
    }

    /// The line charts over simulated time of one run, sharing one time axis.
    mutating func timePlots(_ series: RunSeries, options: ReportOptions) {
        let domain = HTMLReport.timeDomain([series])
        for (plot, title, valueTitle, kind, pick) in HTMLReport.perStoragePlots {
            figure(
                LineChart(
                    id: plot.rawValue, title: title, valueTitle: valueTitle, valueKind: kind, series: pick(series),
                    references: HTMLReport.limit(plot, series), phases: series.phases, timeDomainSeconds: domain,
                    valueRange: HTMLReport.range(plot), othersNoun: "storages"
                ).svg(options),
                caption: plot == .diskFill
                    ? "\(title); dashed: the fill limit above which a storage takes no new repository." : "\(title) for new repositories.")
        }
        let singles: [(PlotID, String, String, ValueScaling.Kind, TimeSeries)] = [
            (.movesInFlight, "Moves in flight", "moves in flight", .number, series.movesInFlight),
            (.bytesMoved, "Bytes moved", "bytes moved", .bytes, series.bytesMoved),
            (.replicationQueueDepth, "Replication queue depth", "queued replication jobs", .number, series.replicationQueueDepth),
            (.replicationLag, "Replication lag", "replication lag", .seconds, series.replicationLagSeconds),
        ]
        for (plot, title, valueTitle, kind, line) in singles {
            figure(
                LineChart(id: plot.rawValue, title: title, valueTitle: valueTitle, valueKind: kind, series: [line], phases: series.phases, timeDomainSeconds: domain).svg(options),
                caption: "\(title); phases shaded.")
        }
        figure(
            LineChart(
                id: PlotID.apdex.rawValue, title: "Apdex", valueTitle: "apdex", valueKind: .number, series: [series.apdex],
                references: [(series.apdexObjective, "SLO \(Format.fixed(series.apdexObjective, decimals: 2))")],
                phases: series.phases, timeDomainSeconds: domain, startsAtZero: false
            ).svg(options),
            caption: "Apdex per window; dashed: the SLO threshold.")
    }

    func finish() -> String {
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            + "<title>\(HTMLText.escape(title))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
            + "<h1>\(HTMLText.escape(title))</h1>\n" + body + "</body>\n</html>\n"
    }

    static let css = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #111; margin: 24px auto; max-width: 1800px; padding: 0 16px; }
        h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
        th { background: #f0f0f0; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; overflow-wrap: anywhere; }
        td.pass { color: #0a5d2c; font-weight: 600; } td.fail { color: #a11; font-weight: 700; }
        figure { margin: 12px 0 20px; } figcaption { font-size: 12px; color: #444; }
        .pair { display: flex; flex-wrap: wrap; gap: 12px; } .pair figure { flex: 1 1 0; min-width: 420px; }
        svg.plot { max-width: 100%; height: auto; font-size: 11px; background: #fff; }
        svg .grid { stroke: #ddd; stroke-width: 1; } svg .frame { fill: none; stroke: #888; }
        svg .tick, svg .legend, svg .phase-label, svg .row-label { fill: #222; }
        svg .axis-title { fill: #222; font-size: 12px; }
        svg .phase-label { fill: #555; font-style: italic; }
        svg .reference { stroke: #b00; stroke-width: 1.5; stroke-dasharray: 6 4; }
        svg .reference-label { fill: #b00; }
        svg .reference-label, svg .quantile-label, svg .row-label { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
        svg .envelope { fill: #999; fill-opacity: 0.35; stroke: #888; stroke-width: 0.5; }
        svg .bar { fill: #1f3a93; fill-opacity: 0.75; }
        svg .quantile { stroke: #d55e00; stroke-width: 1.5; stroke-dasharray: 5 3; }
        svg .quantile-label { fill: #a04000; }

        """
}
