import Foundation
import Testing
@testable import Report

/// Debian's chromium, if installed (CI: scripts/install-deps.sh installs it when it can).
let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs chromium headless with `arguments` and returns (exit status, stdout, stderr). A bound of
/// two minutes guards against a hung browser; it is a safety net, not a timing assertion.
func runChromium(_ arguments: [String], profile: URL) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromiumPath!)
    process.arguments = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
    ] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: killer)
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    killer.cancel()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

/// Goal: a real browser lays the page out with every plot and reports no error. Method: write
/// the sample run and comparison, let chromium dump the DOM it built (every plot id must be in
/// it, as an <svg>) and take a screenshot; its console log must hold no error. Set
/// REPORT_SAMPLE_DIR to keep the HTML and PNGs (that is how the README's screenshot is made).
@Suite(.enabled(if: chromiumPath != nil, "chromium is not installed (apt-get install -y chromium); skipping the browser rendering test"))
struct ReportRenderingTests {
    @Test(arguments: ["sample", "compare"])
    func chromiumRendersEveryPlotWithoutErrors(page: String) throws {
        let directory = ProcessInfo.processInfo.environment["REPORT_SAMPLE_DIR"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("report-render-\(page)-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let profile = directory.appendingPathComponent("chromium-profile-\(page)")
        defer {
            try? FileManager.default.removeItem(at: profile)
            if ProcessInfo.processInfo.environment["REPORT_SAMPLE_DIR"] == nil { try? FileManager.default.removeItem(at: directory) }
        }
        let html = page == "sample" ? HTMLReport.render(SampleReport.run()) : HTMLReport.render(SampleReport.comparison())
        let file = directory.appendingPathComponent("\(page).html")
        try html.write(to: file, atomically: true, encoding: .utf8)
        let ids = page == "sample"
            ? PlotID.allCases.map(\.rawValue)
            : [PlotID.movesInFlight, .bytesMoved, .replicationQueueDepth, .replicationLag, .apdex, .durationCDF, .dataLoss].map(\.comparisonID)
                + [PlotID.storageWeights, .diskFill].flatMap { [$0.comparisonID + "-baseline", $0.comparisonID + "-candidate"] }

        let (status, dom, log) = try runChromium(["--dump-dom", file.absoluteString], profile: profile)
        #expect(status == 0, "chromium exited \(status): \(log.suffix(2_000))")
        for id in ids { #expect(dom.contains("<svg id=\"\(id)\""), "\(id) missing from chromium's DOM") }
        #expect(occurrences(of: "</svg>", in: dom) == ids.count)
        let consoleErrors = log.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        #expect(consoleErrors.isEmpty, "\(consoleErrors)")

        let png = directory.appendingPathComponent("\(page).png")
        let (shotStatus, _, shotLog) = try runChromium(["--screenshot=\(png.path)", "--window-size=1400,3000", file.absoluteString], profile: profile)
        #expect(shotStatus == 0, "\(shotLog.suffix(2_000))")
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
    }
}
