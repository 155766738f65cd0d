import Foundation
import GRDB
import SimKernel

/// A model that only counts the arrivals it is handed: the replay benchmark's event loop, and
/// the smallest example of feeding an `ArrivalSource` into a simulation.
/// The event a model makes of an arrival. Declared outside the generic model on purpose: an enum
/// nested in a generic type is itself generic, and the compiler then copied every event through
/// its runtime value witness (an out-of-line 62-byte copy, found by `perf` as a sixth of replay's
/// time, issue 4); a plain enum is copied inline.
public enum ArrivalEvent: Sendable {
    case arrival(Arrival)
}

public struct ArrivalCountingModel<Source: ArrivalSource>: DiscreteEventModel {
    public typealias Event = ArrivalEvent

    public var feeder: ArrivalFeeder<Source>
    public private(set) var count = 0
    public private(set) var copies = 0
    public private(set) var lastTime = SimTime.zero
    /// False if an arrival ever came before the one handled before it.
    public private(set) var inOrder = true
    public private(set) var costNs: Int64 = 0

    public init(source: Source) { feeder = ArrivalFeeder(source: source) }

    /// Schedules the first arrival; call once before running.
    public mutating func start(_ scheduler: inout EventScheduler<Event>) {
        feeder.scheduleNext(&scheduler) { .arrival($0) }
    }

    public mutating func handle(_ event: Event, scheduler: inout EventScheduler<Event>) {
        switch event {
        case .arrival(let a):
            count += 1
            if a.isCopy { copies += 1 }
            if a.time < lastTime { inOrder = false }
            lastTime = a.time
            costNs &+= a.cost.durationNs
            feeder.scheduleNext(&scheduler) { .arrival($0) }
        }
    }
}

/// Benchmarks for `make bench` (Sources/Traffic/README.md, "Measurements").
public enum TrafficBenchmark {
    public struct Result: Sendable {
        /// Rows replayed, or access lines parsed into calls by an import (not the lines it
        /// skipped or could not read, so that the rate is one of work done).
        public var rows: Int
        /// Every line an import read, parsed or not; equal to `rows` for a replay.
        public var linesRead: Int = 0
        public var seconds: Double
        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    /// Replays the whole store into an event loop that counts the arrivals; wall time of the run.
    public static func replay(store: TraceStore, options: ReplayOptions = ReplayOptions(),
                              target: ReplayTarget = ReplayTarget(storages: ["default"], repositories: ["repository"]),
                              clock: ContinuousClock = ContinuousClock()) throws -> Result {
        let begin = clock.now
        let source = try TraceReplay(store: store, target: target, options: options)
        var simulation = Simulation(model: ArrivalCountingModel(source: source))
        simulation.model.start(&simulation.scheduler)
        simulation.run()
        if let failure = simulation.model.feeder.failure { throw failure }
        let elapsed = clock.now - begin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Result(rows: simulation.model.count, linesRead: simulation.model.count, seconds: seconds)
    }

    /// Imports `paths` into the store; wall time of the whole import.
    public static func importFiles(_ paths: [String], store: TraceStore, clock: ContinuousClock = ContinuousClock()) throws -> Result {
        let begin = clock.now
        let summary = try TraceImporter(store: store).importFiles(paths)
        let elapsed = clock.now - begin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Result(rows: summary.rpcs, linesRead: summary.lines, seconds: seconds)
    }

    /// Writes a benchmark log of `lines` current-format Gitaly access lines (one non-access
    /// `diskcache state change` line every tenth line, as real logs interleave them). Each access
    /// line carries the fields of the shared PostReceivePack example (GITALY_LOGS.md §2, line 4,
    /// about 1.4 kB), with its method, time, duration, storage and repository varied from `seed`.
    public static func writeAccessLog(path: String, lines: Int, seed: UInt64 = 1) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw TraceInputError.cannotOpen(path: path, reason: "cannot create the benchmark log")
        }
        defer { try? out.close() }
        var rng = RandomStreams(seed: seed).stream("traffic.benchmark.log")
        let methods = [("gitaly.SmartHTTPService", "PostUploadPackWithSidechannel"), ("gitaly.CommitService", "FindCommit"),
                       ("gitaly.RefService", "FindDefaultBranchName"), ("gitaly.SmartHTTPService", "PostReceivePack"),
                       ("gitaly.CommitService", "ListCommits")]
        let startNs: Int64 = 1_697_414_400_000_000_000  // 2023-10-16T00:00:00Z
        var text = ""
        text.reserveCapacity(1 << 21)
        for i in 0..<lines {
            let (service, method) = methods[rng.below(methods.count)]
            let endNs = startNs + Int64(i) * 5_000_000
            let time = String(Timestamp.format(ns: endNs).prefix(23)) + "Z"
            if i % 10 == 9 {
                text += #"{"level":"info","msg":"diskcache state change","time":"\#(time)"}"# + "\n"
                continue
            }
            let ms = Double(Int(rng.exponential(rate: 1.0 / 12_000) * 1000)) / 1000 + 0.001
            let repo = rng.below(5000)
            text += #"{"command.count":2,"command.cpu_time_ms":420,"command.inblock":0,"command.majflt":0,"command.maxrss":3342152,"command.minflt":24316,"command.oublock":56,"command.real_time_ms":626,"command.spawn_token_fork_ms":4,"command.spawn_token_wait_ms":0,"command.system_time_ms":172,"command.user_time_ms":248,"component":"gitaly.StreamServerInterceptor","correlation_id":"C\#(i)","environment":"gprd","feature_flags":"","fqdn":"file-99-stor-gprd.c.gitlab-production.internal","grpc.code":"OK","grpc.meta.auth_version":"v2","grpc.meta.client_name":"gitlab-workhorse","grpc.meta.deadline_type":"none","grpc.meta.method_type":"bidi_stream","grpc.method":"\#(method)","grpc.request.fullMethod":"/\#(service)/\#(method)","grpc.request.glProjectPath":"group/project-\#(repo)","grpc.request.glRepository":"project-\#(repo)","grpc.request.payload_bytes":911,"grpc.request.repoPath":"@hashed/\#(repo % 256)/\#(repo).git","grpc.request.repoStorage":"nfs-file\#(repo % 50)","grpc.response.payload_bytes":54,"grpc.service":"\#(service)","grpc.start_time":"2023-10-16T20:40:08.836","grpc.time_ms":\#(ms),"hostname":"file-99-stor-gprd","level":"info","msg":"finished streaming call with code OK","pid":1741362,"remote_ip":"108.163.136.48","shard":"default","span.kind":"server","stage":"main","system":"grpc","tag":"gitaly","tier":"stor","time":"\#(time)","trace.traceid":"AAB3QAeD8G+H9VNmzOi2CztMAcJv1+g4+l1cAgA=","type":"gitaly","user_id":"user-14857500","username":"ctx_ckottke"}"# + "\n"
            if text.utf8.count >= 1 << 21 {
                out.write(Data(text.utf8))
                text.removeAll(keepingCapacity: true)
            }
        }
        out.write(Data(text.utf8))
    }

    /// Fills an empty store with `rows` calls for the replay benchmark, directly in SQL (a
    /// recursive common table expression, no log to parse): one every 5 ms, five methods, three
    /// storages and repositories.
    public static func fillStore(_ store: TraceStore, rows: Int) throws {
        try store.translatingErrors {
            try store.queue.write { db in
                try db.execute(sql: """
                    INSERT OR IGNORE INTO method (id, service, name, operation) VALUES
                        (1, 'gitaly.SmartHTTPService', 'PostUploadPackWithSidechannel', 1),
                        (2, 'gitaly.CommitService', 'FindCommit', 1), (3, 'gitaly.RefService', 'FindBranch', 1),
                        (4, 'gitaly.SmartHTTPService', 'PostReceivePack', 2), (5, 'gitaly.CommitService', 'ListCommits', 1);
                    INSERT OR IGNORE INTO storage (id, name) VALUES (1, 's1'), (2, 's2'), (3, 's3');
                    INSERT OR IGNORE INTO repository (id, storage_id, relative_path) VALUES (1, 1, 'a.git'), (2, 2, 'b.git'), (3, 3, 'c.git');
                    INSERT OR IGNORE INTO code (id, name) VALUES (1, 'OK');
                    """)
                try db.execute(sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT OR IGNORE INTO rpc (line_hash, arrival_ns, duration_ns, method_id, operation, storage_id,
                        repository_id, client_id, code_id, request_bytes, response_bytes, pack_bytes, cpu_ms)
                    SELECT i, 1697414400000000000 + i * 5000000, 1000000 + (i * 104729 % 500000000), 1 + i % 5, 1,
                        1 + i % 3, 1 + i % 3, NULL, 1, 100, 1000, NULL, 1.5 FROM n
                    """, arguments: [rows])
                try ReplayChunks.invalidate(db)
            }
        }
    }
}
