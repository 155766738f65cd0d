import ArgumentParser
import Foundation
import Traffic

/// `rehearse trace`: import Gitaly logs into a trace store, summarise it, fit a traffic profile.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Import Gitaly and Praefect access logs into SQLite, summarise them, and fit a traffic profile.",
        subcommands: [Import.self, Stats.self])

    /// Turns the Traffic module's typed errors into one-line input errors (exit code 2).
    static func inputError(_ error: Error) -> Error {
        switch error {
        case let e as TraceInputError: InputError(e.description)
        case let e as TraceStoreError: InputError(e.description)
        default: error
        }
    }

    static func openStore(_ path: String, create: Bool) throws -> TraceStore {
        do { return try TraceStore(path: path, create: create) } catch { throw inputError(error) }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import JSON access logs (plain or gzip) or CSV traces into a trace database, in one transaction.",
            discussion: """
                Keeps the per-call access lines (those with grpc.code) and counts every other valid \
                JSON line as skipped and every invalid one as malformed. Importing the same lines \
                twice adds nothing. Any error (a missing file, a truncated gzip stream, an \
                unreadable database) leaves the database as it was. CSV format: see \
                Sources/Traffic/README.md.
                """)

        @Argument(help: ArgumentHelp("Log files to import; '-' reads standard input.", valueName: "file"))
        var files: [String]

        @Option(help: ArgumentHelp("The trace database (SQLite), created when missing.", valueName: "path"))
        var db: String

        @Flag(help: "Print one JSON object with the counts instead of text.")
        var json = false

        func run() throws {
            let store = try TraceCommand.openStore(db, create: true)
            let summary: ImportSummary
            do {
                summary = try TraceImporter(store: store).importFiles(files)
            } catch {
                throw TraceCommand.inputError(error)
            }
            if json {
                print(try TraceJSON.render(summary))
            } else {
                print("""
                    lines \(summary.lines), rpcs \(summary.rpcs) (\(summary.inserted) new, \(summary.duplicates) already stored), \
                    skipped \(summary.skipped), malformed \(summary.malformed)
                    arrivals \(summary.firstArrivalNs.map(Timestamp.format) ?? "-") to \(summary.lastArrivalNs.map(Timestamp.format) ?? "-")
                    """)
                for m in summary.malformedExamples {
                    print("malformed: \(m.source):\(m.line): \(m.reason)")
                }
            }
        }
    }
}

extension TraceCommand {
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise a trace database: per-method counts, rates and latency quantiles, operation mix, busiest repositories and storages, traffic by hour.")

        @Option(help: ArgumentHelp("The trace database (SQLite).", valueName: "path"))
        var db: String

        @Option(help: ArgumentHelp("How many repositories and storages to list.", valueName: "n"))
        var top = 10

        @Flag(help: "Print one JSON object instead of tables.")
        var json = false

        func validate() throws {
            guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
        }

        func run() throws {
            let store = try TraceCommand.openStore(db, create: false)
            let stats: TraceStatistics
            do { stats = try TraceStatistics.compute(store, topCount: top) } catch { throw TraceCommand.inputError(error) }
            if json {
                print(try TraceJSON.render(stats))
                return
            }
            print("\(stats.rpcs) RPCs from \(Timestamp.format(ns: stats.firstArrivalNs)) to \(Timestamp.format(ns: stats.lastArrivalNs)) (\(TraceJSON.fixed(stats.spanSeconds, 1)) s)")
            print("")
            print("method                                      op            count     rate/s   mean ms    p50 ms    p90 ms    p99 ms  p99.9 ms  errors")
            for m in stats.methods {
                let name = m.service.isEmpty ? m.method : "\(m.service.replacingOccurrences(of: "gitaly.", with: ""))/\(m.method)"
                print([TraceJSON.pad(name, 43), TraceJSON.pad(m.operation.name, 11), TraceJSON.lpad("\(m.count)", 8),
                       TraceJSON.lpad(TraceJSON.fixed(m.ratePerSecond, 3), 10), TraceJSON.lpad(TraceJSON.fixed(m.latencyMsMean, 1), 9),
                       TraceJSON.lpad(TraceJSON.fixed(m.latencyMsP50, 1), 9), TraceJSON.lpad(TraceJSON.fixed(m.latencyMsP90, 1), 9),
                       TraceJSON.lpad(TraceJSON.fixed(m.latencyMsP99, 1), 9), TraceJSON.lpad(TraceJSON.fixed(m.latencyMsP999, 1), 9),
                       TraceJSON.lpad("\(m.errors)", 7)].joined(separator: " "))
            }
            func list(_ title: String, _ items: [NamedCount]) {
                print("")
                print(title)
                for i in items {
                    print("  \(TraceJSON.lpad("\(i.count)", 9))  \(TraceJSON.fixed(100 * Double(i.count) / Double(stats.rpcs), 1))%  \(i.name)")
                }
            }
            list("operation mix", stats.operations)
            list("codes", stats.codes)
            list("busiest storages", stats.storages)
            list("busiest repositories", stats.topRepositories)
            print("")
            print("by hour of day (UTC)")
            for (h, n) in stats.byHourOfDay.enumerated() { print("  \(h < 10 ? "0" : "")\(h):00  \(n)") }
        }
    }
}

/// Stable machine-readable output: sorted keys, snake_case names.
enum TraceJSON {
    struct ImportOutput: Encodable {
        var lines, rpcs, inserted, duplicates, skipped, malformed: Int
        var first_arrival: String?
        var last_arrival: String?
        var first_arrival_ns: Int64?
        var last_arrival_ns: Int64?
        var malformed_examples: [Example]
        struct Example: Encodable { var source: String; var line: Int; var reason: String }
    }

    static func render(_ s: ImportSummary) throws -> String {
        try encode(ImportOutput(
            lines: s.lines, rpcs: s.rpcs, inserted: s.inserted, duplicates: s.duplicates, skipped: s.skipped,
            malformed: s.malformed, first_arrival: s.firstArrivalNs.map(Timestamp.format),
            last_arrival: s.lastArrivalNs.map(Timestamp.format), first_arrival_ns: s.firstArrivalNs,
            last_arrival_ns: s.lastArrivalNs,
            malformed_examples: s.malformedExamples.map { .init(source: $0.source, line: $0.line, reason: $0.reason) }))
    }

    static func render(_ s: TraceStatistics) throws -> String { try encode(s) }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}
