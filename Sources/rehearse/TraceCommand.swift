import Experiments
import ArgumentParser
import Foundation
import SpecFiles
import Traffic

/// `rehearse trace`: import Gitaly logs into a trace store, summarise it, fit a traffic profile.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Import Gitaly and Praefect access logs into SQLite, summarise them, and fit a traffic profile.",
        subcommands: [Import.self, Stats.self, Fit.self, Generate.self, Replay.self, Bench.self])

    /// Turns the Traffic module's typed errors into one-line input errors (exit code 2).
    static func inputError(_ error: Error) -> Error {
        switch error {
        case let e as TraceInputError: InputError(e.description)
        case let e as TraceStoreError: InputError(e.description)
        case let e as TrafficProfileError: InputError(e.description)
        case let e as ReplayError: InputError(e.description)
        case let e as SpecError: InputError(e.description)
        default: error
        }
    }

    static func openStore(_ path: String, access: TraceStore.Access) throws -> TraceStore {
        do { return try TraceStore(path: path, access: access) } catch { throw inputError(error) }
    }

    /// Refuses an output path that names the input file (also through another spelling or a
    /// link): writing it would destroy what the command reads.
    static func refuseSameFile(output: String, input: String, outFlag: String, inFlag: String) throws {
        guard output != "-" else { return }
        let same: Bool
        var a = stat(), b = stat()
        if stat(output, &a) == 0, stat(input, &b) == 0 {
            same = a.st_dev == b.st_dev && a.st_ino == b.st_ino
        } else {
            same = URL(fileURLWithPath: output).standardizedFileURL.path == URL(fileURLWithPath: input).standardizedFileURL.path
        }
        if same { throw InputError("\(outFlag) \(output) is the file \(inFlag) reads; write the output elsewhere") }
    }

    /// Reads `--max-malformed`: a share such as 0.01, or a percentage such as 1%.
    static func parseShare(_ text: String) throws -> Double {
        let percent = text.hasSuffix("%")
        guard let v = Double(percent ? String(text.dropLast()) : text), v.isFinite else {
            throw InputError("a share is a number from 0 to 1, or a percentage such as 5%")
        }
        let share = percent ? v / 100 : v
        guard (0...1).contains(share) else { throw InputError("a share is a number from 0 to 1, or a percentage such as 5%") }
        return share
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import JSON access logs (plain or gzip) or CSV traces into a trace database, in one transaction.",
            discussion: """
                Keeps the per-call access lines (those with grpc.code) and counts every other valid \
                JSON line as skipped and every invalid one as malformed. Malformed lines (a line \
                cut by a log rotation, a stray text line) are tolerated: the first few are listed \
                on standard error. --strict refuses the import at the first one, --max-malformed \
                when more than a share of the lines are; both exit 2 and store nothing. Importing \
                the same lines twice adds nothing. Any error (a missing file, a truncated gzip \
                stream, an unreadable database) leaves the database as it was. CSV format: see \
                Sources/Traffic/README.md.
                """)

        @Argument(help: ArgumentHelp("Log files to import; '-' reads standard input.", valueName: "file"))
        var files: [String]

        @Option(help: ArgumentHelp("The trace database (SQLite), created when missing.", valueName: "path"))
        var db: String

        @Flag(help: "Refuse the import (exit 2, nothing stored) at the first malformed line.")
        var strict = false

        @Option(name: .customLong("max-malformed"), help: ArgumentHelp(
            "Refuse the import (exit 2, nothing stored) when more than this share of the lines are malformed: 0.01 or 1%.",
            valueName: "share"), transform: TraceCommand.parseShare)
        var maxMalformed: Double?

        @Flag(help: "Print one JSON object with the counts instead of text.")
        var json = false

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("name at least one log file to import, or '-' for standard input") }
            for f in files where f != "-" { try TraceCommand.refuseSameFile(output: db, input: f, outFlag: "--db", inFlag: "the import") }
        }

        /// Opens the store and imports; the store is closed when this returns, before the lock
        /// is released or the file undone.
        static func importFiles(_ files: [String], db: String, options: ImportOptions) throws -> ImportSummary {
            let store = try TraceStore(path: db, access: .create)
            return try TraceImporter(store: store, options: options).importFiles(files)
        }

        func run() throws {
            // The path is checked before the lock creates a file there.
            do { try TraceStore.checkPath(db) } catch { throw TraceCommand.inputError(error) }
            // A database this import creates (or finds empty) is removed (or emptied) again if
            // the import fails, so that a failed import leaves the file system as it found it.
            let lock = try ImportLock.acquire(db)
            defer { lock.release() }
            let summary: ImportSummary
            do {
                summary = try Self.importFiles(files, db: db, options: ImportOptions(strict: strict, maxMalformedShare: maxMalformed))
            } catch {
                lock.undo()
                throw TraceCommand.inputError(error)
            }
            // Tolerated junk goes to standard error, so that standard output stays the summary.
            for m in summary.malformedExamples {
                printError("rehearse: warning: \(m.source):\(m.line): malformed line skipped: \(m.reason)")
            }
            if summary.malformed > summary.malformedExamples.count {
                printError("rehearse: warning: \(summary.malformed - summary.malformedExamples.count) more malformed lines skipped")
            }
            if json {
                print(try TraceJSON.render(summary))
            } else {
                print("""
                    lines \(summary.lines), rpcs \(summary.rpcs) (\(summary.inserted) new, \(summary.duplicates) already stored), \
                    skipped \(summary.skipped), malformed \(summary.malformed)
                    arrivals \(summary.firstArrivalNs.map(Timestamp.format) ?? "-") to \(summary.lastArrivalNs.map(Timestamp.format) ?? "-")
                    """)
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
            let store = try TraceCommand.openStore(db, access: .readOnly)
            let stats: TraceStatistics
            do { stats = try TraceStatistics.compute(store, topCount: top) } catch { throw TraceCommand.inputError(error) }
            if json {
                print(try TraceJSON.render(stats))
                return
            }
            print("\(stats.rpcs) RPCs from \(Timestamp.format(ns: stats.firstArrivalNs)) to \(Timestamp.format(ns: stats.lastArrivalNs)) (\(fixed(stats.spanSeconds, 1)) s)")
            print("")
            print("method                                      op            count     rate/s   mean ms    p50 ms    p90 ms    p99 ms  p99.9 ms  errors")
            for m in stats.methods {
                let name = m.service.isEmpty ? m.method : "\(m.service.replacingOccurrences(of: "gitaly.", with: ""))/\(m.method)"
                print([TraceJSON.pad(name, 43), TraceJSON.pad(m.operation.name, 11), TraceJSON.lpad("\(m.count)", 8),
                       TraceJSON.lpad(fixed(m.ratePerSecond, 3), 10), TraceJSON.lpad(fixed(m.latencyMsMean, 1), 9),
                       TraceJSON.lpad(fixed(m.latencyMsP50, 1), 9), TraceJSON.lpad(fixed(m.latencyMsP90, 1), 9),
                       TraceJSON.lpad(fixed(m.latencyMsP99, 1), 9), TraceJSON.lpad(fixed(m.latencyMsP999, 1), 9),
                       TraceJSON.lpad("\(m.errors)", 7)].joined(separator: " "))
            }
            func list(_ title: String, _ items: [NamedCount]) {
                print("")
                print(title)
                for i in items {
                    print("  \(TraceJSON.lpad("\(i.count)", 9))  \(fixed(100 * Double(i.count) / Double(stats.rpcs), 1))%  \(i.name)")
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

    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}

extension TraceCommand {
    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit a traffic profile (rates with daily and weekly shape, service-time and size distributions, repository popularity) to a trace database.")

        @Option(help: ArgumentHelp("The trace database (SQLite).", valueName: "path"))
        var db: String

        @Option(help: ArgumentHelp("Where to write the profile (YAML).", valueName: "path"))
        var out: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the reservoir samples the fits use.", valueName: "n"), transform: parseSeed)
        var seed: UInt64 = 1

        func validate() throws {
            try TraceCommand.refuseSameFile(output: out, input: db, outFlag: "--out", inFlag: "--db")
        }

        func run() throws {
            let store = try TraceCommand.openStore(db, access: .readOnly)
            var options = TraceFit.Options()
            options.seed = seed
            let text: String
            do {
                let profile = try TraceFit.fit(store, options: options)
                text = try profile.encodeYAML(header: """
                    Traffic profile fitted by `rehearse trace fit --db \(db) --seed \(seed)`.
                    Rates are per second (mean over a week); hourOfDay and dayOfWeek are relative (mean 1, UTC,
                    Monday first); serviceTimeMs and cpuMs in milliseconds, sizes in bytes. `ks` is the
                    Kolmogorov-Smirnov statistic of the chosen family, `candidates` those of every family tried.
                    """)
            } catch {
                throw TraceCommand.inputError(error)
            }
            do { try TextFile.write(text, to: out) } catch { throw TraceCommand.inputError(error) }
            print("wrote \(out)")
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw synthetic traffic from a profile and write it as a CSV trace (importable with `trace import`).")

        @Option(help: ArgumentHelp("The traffic profile (YAML), from `trace fit` or written by hand.", valueName: "path"))
        var profile: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Length of the synthetic trace in hours.", valueName: "hours"))
        var hours: Double = 1

        @Option(parsing: .unconditional, help: ArgumentHelp("Multiplies every rate of the profile (1.3 = 30% more traffic).", valueName: "factor"))
        var growth: Double = 1

        @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the random streams.", valueName: "n"), transform: parseSeed)
        var seed: UInt64 = 1

        @Option(help: ArgumentHelp("Where to write the CSV trace; '-' for standard output.", valueName: "path"))
        var out: String = "-"

        func validate() throws {
            try Limits.check(hours: hours)
            try TraceCommand.refuseSameFile(output: out, input: profile, outFlag: "--out", inFlag: "--profile")
            guard growth.isFinite, growth > 0 else { throw ValidationError("--growth must be a positive number, got \(growth)") }
            guard growth <= Limits.rateFactor else { throw InputError("--growth must be at most \(Int(Limits.rateFactor)), got \(growth)") }
        }

        func run() throws {
            do {
                let p = try TrafficProfile.decode(yaml: TextFile.read(path: profile), path: profile)
                let storages = p.storages?.map(\.name) ?? ["default"]
                let repositoryCount = min(p.repositories?.count ?? p.repositories?.weights?.count ?? 1, 1 << 20)
                let repositories = (1...max(1, repositoryCount)).map { "repo-\($0).git" }
                var source = try SyntheticTraffic(
                    profile: p, target: ReplayTarget(storages: storages, repositories: repositories),
                    horizon: .hours(hours), growth: growth, seed: seed)
                let startNs = p.start.flatMap(Timestamp.parseNs) ?? 4 * 86_400 * 1_000_000_000
                printError("seed \(seed)")
                var output = ""
                output.reserveCapacity(1 << 20)
                let handle: FileHandle
                if out == "-" {
                    handle = .standardOutput
                } else {
                    guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
                        throw InputError("\(out): cannot create the CSV file")
                    }
                    handle = h
                }
                output += TraceCSV.header + "\n"
                var count = 0
                while let a = try source.next() {
                    let m = source.methods[Int(a.method)]
                    output += TraceCSV.render(RPCRecord(
                        arrivalNs: startNs + a.time.nanoseconds, durationNs: a.cost.durationNs, service: m.service,
                        method: m.method, operation: m.operation, storage: a.storage >= 0 ? storages[Int(a.storage)] : nil,
                        repositoryPath: a.repository >= 0 ? repositories[Int(a.repository)] : nil, code: "OK",
                        requestBytes: a.cost.requestBytes, responseBytes: a.cost.responseBytes, packBytes: a.cost.packBytes,
                        cpuTimeMs: Double(a.cost.cpuNs) / 1e6)) + "\n"
                    count += 1
                    if output.utf8.count > 1 << 20 {
                        handle.write(Data(output.utf8))
                        output.removeAll(keepingCapacity: true)
                    }
                }
                handle.write(Data(output.utf8))
                if out != "-" { try handle.close() }
                printError("\(count) RPCs over \(hours) h (\(source.accepted) of \(source.candidates) thinning candidates kept)")
            } catch {
                throw TraceCommand.inputError(error)
            }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a trace database into an event loop that counts arrivals: checks a replay configuration and measures replay speed.")

        @Option(help: ArgumentHelp("The trace database (SQLite).", valueName: "path"))
        var db: String

        @Option(help: ArgumentHelp("Start of the window (RFC 3339); default the first arrival.", valueName: "time"))
        var from: String?

        @Option(help: ArgumentHelp("End of the window, exclusive (RFC 3339); default the end of the trace.", valueName: "time"))
        var to: String?

        @Option(parsing: .unconditional, help: ArgumentHelp("Replay this many times faster than recorded.", valueName: "factor"))
        var speedUp: Double = 1

        @Option(parsing: .unconditional, help: ArgumentHelp("Multiply the call rate: below 1 thins, above 1 adds jittered copies.", valueName: "factor"))
        var rate: Double = 1

        @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the thinning and copy streams.", valueName: "n"), transform: parseSeed)
        var seed: UInt64 = 1

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func run() throws {
            let store = try TraceCommand.openStore(db, access: .readWrite)
            var options = ReplayOptions()
            func time(_ text: String?, _ flag: String) throws -> Int64? {
                guard let text else { return nil }
                guard let ns = Timestamp.parseNs(text) else {
                    throw InputError("\(flag) \"\(text)\" is not an RFC 3339 time from \(Timestamp.validRangeText)")
                }
                return ns
            }
            options.windowStartNs = try time(from, "--from")
            options.windowEndNs = try time(to, "--to")
            options.speedUp = speedUp
            options.rateMultiplier = rate
            options.seed = seed
            let result: TrafficBenchmark.Result
            do { result = try TrafficBenchmark.replay(store: store, options: options) } catch { throw TraceCommand.inputError(error) }
            if json {
                print(#"{"rows":\#(result.rows),"seconds":\#(result.seconds),"rows_per_second":\#(result.rowsPerSecond),"seed":\#(seed)}"#)
            } else {
                print("seed \(seed): replayed \(result.rows) arrivals in \(fixed(result.seconds, 3)) s (\(fixed(result.rowsPerSecond, 0)) rows/s)")
            }
        }
    }
}

extension TraceCommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure import (lines/s of a generated Gitaly log) and replay (rows/s into a counting event loop).",
            discussion: "Writes its files into --dir and leaves them there; run on a release build.")

        @Option(help: ArgumentHelp("Scratch directory for the log and the databases.", valueName: "path"))
        var dir: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Lines of the generated access log to import.", valueName: "n"))
        var lines = 500_000

        @Option(parsing: .unconditional, help: ArgumentHelp("Rows of the store to replay.", valueName: "n"))
        var rows = 10_000_000

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            try Limits.check(lines, "--lines", maximum: Limits.benchLines)
            try Limits.check(rows, "--rows", maximum: Limits.benchRows)
        }

        func run() throws {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let log = dir + "/bench-gitaly.log"
                let importDb = dir + "/bench-import.sqlite"
                let replayDb = dir + "/bench-replay.sqlite"
                for path in [importDb, replayDb] { try? FileManager.default.removeItem(atPath: path) }
                try TrafficBenchmark.writeAccessLog(path: log, lines: lines)
                let imported = try TrafficBenchmark.importFiles([log], store: try TraceStore(path: importDb))
                let store = try TraceStore(path: replayDb)
                try TrafficBenchmark.fillStore(store, rows: rows)
                // The first replay after a fill also packs the replay chunks (cold); the second
                // reads them (warm).
                let cold = try TrafficBenchmark.replay(store: store)
                let warm = try TrafficBenchmark.replay(store: store)
                if json {
                    let fields: [(String, String)] = [
                        ("import_lines_read", "\(imported.linesRead)"), ("import_lines_parsed", "\(imported.rows)"),
                        ("import_seconds", jsonNumber(imported.seconds)), ("import_lines_per_second", jsonNumber(imported.rowsPerSecond)),
                        ("replay_cold_rows", "\(cold.rows)"), ("replay_cold_seconds", jsonNumber(cold.seconds)),
                        ("replay_cold_rows_per_second", jsonNumber(cold.rowsPerSecond)),
                        ("replay_warm_rows", "\(warm.rows)"), ("replay_warm_seconds", jsonNumber(warm.seconds)),
                        ("replay_warm_rows_per_second", jsonNumber(warm.rowsPerSecond)),
                    ]
                    print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
                    return
                }
                // The rate counts the access lines parsed into records, not the skipped ones (the
                // shape scripts/bench.py reads).
                print("trace import: \(imported.linesRead) lines (\(imported.rows) records) in \(fixed(imported.seconds, 2)) s = \(fixed(imported.rowsPerSecond, 0)) records/s")
                print("trace replay (first, packs chunks): \(cold.rows) rows in \(fixed(cold.seconds, 2)) s = \(fixed(cold.rowsPerSecond, 0)) rows/s")
                print("trace replay: \(warm.rows) rows in \(fixed(warm.seconds, 2)) s = \(fixed(warm.rowsPerSecond, 0)) rows/s")
            } catch {
                throw TraceCommand.inputError(error)
            }
        }
    }
}
