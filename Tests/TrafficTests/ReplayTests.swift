import Foundation
import GRDB
import SimKernel
import Testing
@testable import Traffic

/// Replay: order, count, window, speed-up, rate multiplier and storage mapping.
@Suite struct ReplayTests {
    static let start: Int64 = 1_700_000_000_000_000_000

    /// A store holding a generated log of two methods over ten minutes, with its calls.
    static func store(_ name: String, seconds: Double = 600) throws -> (TraceStore, [Fixtures.GeneratedCall]) {
        let dir = Fixtures.scratch(name)
        let calls = Fixtures.generate(seed: 11, startNs: start, seconds: seconds, methods: [
            .init(service: "gitaly.RefService", method: "FindBranch", ratePerSecond: 8, mu: 0.5, sigma: 0.7),
            .init(service: "gitaly.SmartHTTPService", method: "PostUploadPackWithSidechannel", ratePerSecond: 2, mu: 5, sigma: 1),
        ])
        let log = dir.appendingPathComponent("gitaly.log")
        Fixtures.write(calls.map(\.line), to: log)
        let store = try TraceStore(path: dir.appendingPathComponent("t.sqlite").path)
        _ = try TraceImporter(store: store).importFiles([log.path])
        return (store, calls)
    }

    static func drain(_ replay: TraceReplay) throws -> [Arrival] {
        var r = replay
        var out: [Arrival] = []
        while let a = try r.next() { out.append(a) }
        return out
    }

    /// Goal: replay yields every stored call once, in arrival order, at (arrival − first) /
    /// speed-up, through the event loop. Method: compare with the generator's own arrivals,
    /// sorted, with a batch size that forces many SQLite round trips.
    @Test func replayPreservesOrderAndCount() throws {
        let (store, calls) = try Self.store("replay-order")
        var options = ReplayOptions()
        options.batchSize = 97
        options.speedUp = 4
        let replay = try TraceReplay(store: store, target: ReplayTarget(storages: ["default"], repositories: ["r"]), options: options)
        let arrivals = try Self.drain(replay)
        let expected = calls.map(\.arrivalNs).sorted()
        #expect(arrivals.count == calls.count)
        #expect(arrivals.map(\.time.nanoseconds) == expected.map { Int64((Double($0 - expected[0]) / 4).rounded()) })
        #expect(arrivals.allSatisfy { $0.storage == 0 && $0.repository == 0 && !$0.isCopy })

        // The same through the event loop: one arrival pending at a time.
        var sim = Simulation(model: ArrivalCountingModel(source: try TraceReplay(store: store, target: ReplayTarget(storages: ["default"], repositories: ["r"]), options: options)))
        sim.model.start(&sim.scheduler)
        sim.run()
        #expect(sim.model.count == calls.count)
        #expect(sim.model.inOrder)
        #expect(sim.model.feeder.failure == nil)
        #expect(sim.model.costNs == calls.reduce(0) { $0 + Int64(($1.durationMs * 1e6).rounded()) })
    }

    /// Goal: the packed chunks and the row-by-row reader are two implementations of the same
    /// replay; they must agree arrival for arrival, under a window and a speed-up. And an import
    /// that adds rows must make the next replay see them (the chunks are rebuilt).
    @Test func packedChunksAgreeWithRowsAndFollowImports() throws {
        let (store, calls) = try Self.store("replay-packed", seconds: 1200)
        var o = ReplayOptions()
        o.windowStartNs = Self.start + 7_000_000_000
        o.windowEndNs = Self.start + 1_100_000_000_000
        o.speedUp = 3
        o.batchSize = 333
        let target = ReplayTarget(storages: ["default"], repositories: ["a", "b", "c"])
        o.packed = true
        let packed = try Self.drain(try TraceReplay(store: store, target: target, options: o))
        o.packed = false
        let rows = try Self.drain(try TraceReplay(store: store, target: target, options: o))
        #expect(packed.count > 0)
        #expect(packed == rows)

        let extra = Fixtures.accessLine(endNs: Self.start + 2_000_000_000_000, durationMs: 1, service: "gitaly.RefService",
                                        method: "FindBranch", storage: "default", repository: "late.git", correlation: "late")
        let dir = Fixtures.scratch("replay-packed-extra")
        Fixtures.write([extra], to: dir.appendingPathComponent("late.log"))
        _ = try TraceImporter(store: store).importFiles([dir.appendingPathComponent("late.log").path])
        let all = try Self.drain(try TraceReplay(store: store, target: target, options: ReplayOptions()))
        #expect(all.count == calls.count + 1)
    }

    /// Goal: a multiplier of 2 doubles the count exactly (one jittered copy each), copies stay in
    /// order, and fractional multipliers scale the count within sampling error. Method: the count
    /// under m = 0.5 is Binomial(n, 0.5) and under m = 1.5 is n + Binomial(n, 0.5); both are
    /// checked within 4 standard deviations, for three seeds.
    @Test(arguments: [UInt64(1), 2, 3])
    func rateMultiplierScalesCount(seed: UInt64) throws {
        let (store, calls) = try Self.store("replay-rate-\(seed)", seconds: 300)
        let n = Double(calls.count)
        let target = ReplayTarget(storages: ["default"], repositories: ["r"])
        func count(_ m: Double) throws -> (Int, Bool, Int) {
            var o = ReplayOptions()
            o.rateMultiplier = m
            o.seed = seed
            o.batchSize = 256
            let a = try Self.drain(try TraceReplay(store: store, target: target, options: o))
            let ordered = zip(a, a.dropFirst()).allSatisfy { $0.time <= $1.time }
            return (a.count, ordered, a.filter(\.isCopy).count)
        }
        let (doubled, orderedDoubled, copies) = try count(2)
        #expect(doubled == 2 * calls.count, "seed \(seed)")
        #expect(copies == calls.count, "seed \(seed)")
        #expect(orderedDoubled, "seed \(seed)")
        let sd = (n * 0.25).squareRoot()
        let (half, orderedHalf, _) = try count(0.5)
        #expect(abs(Double(half) - n / 2) < 4 * sd, "seed \(seed): \(half) of \(calls.count)")
        #expect(orderedHalf)
        let (oneAndHalf, orderedOneAndHalf, _) = try count(1.5)
        #expect(abs(Double(oneAndHalf) - 1.5 * n) < 4 * sd, "seed \(seed): \(oneAndHalf) of \(calls.count)")
        #expect(orderedOneAndHalf)
    }

    /// Goal: a time window replays exactly the calls whose arrival lies in it, timed from the
    /// window's start. Method: count the generator's arrivals in the window.
    @Test func windowSelectsArrivalsInIt() throws {
        let (store, calls) = try Self.store("replay-window")
        var o = ReplayOptions()
        o.windowStartNs = Self.start + 100_000_000_000
        o.windowEndNs = Self.start + 200_000_000_000
        o.batchSize = 50
        let a = try Self.drain(try TraceReplay(store: store, target: ReplayTarget(storages: ["x"], repositories: ["y"]), options: o))
        let inside = calls.map(\.arrivalNs).filter { $0 >= o.windowStartNs! && $0 < o.windowEndNs! }.sorted()
        #expect(a.count == inside.count)
        #expect(a.first?.time.nanoseconds == inside.first! - o.windowStartNs!)
        #expect(a.last.map { $0.time.nanoseconds < 100_000_000_000 } == true)
    }

    /// Goal: storages and repositories map onto the model's names: explicit entries win, equal
    /// names map to themselves, the rest spread by a stable hash; an entry naming no model
    /// storage is an error.
    @Test func storageMappingFollowsExplicitMapThenNameThenHash() throws {
        let names = ["", "nfs-file01", "nfs-file02", "gitaly-9"]
        let model = ["gitaly-1", "nfs-file02", "gitaly-2"]
        let mapped = try TraceReplay.map(names, kind: "storage", explicit: ["nfs-file01": "gitaly-2"], onto: model)
        #expect(mapped[1] == 2)
        #expect(mapped[2] == 1)
        #expect(mapped[3] == Int32(TraceReplay.stableHash("gitaly-9") % 3))
        #expect(throws: ReplayError.unknownTarget(kind: "storage", traceName: "nfs-file01", modelName: "nope")) {
            _ = try TraceReplay.map(names, kind: "storage", explicit: ["nfs-file01": "nope"], onto: model)
        }
    }
}

/// The benchmark's inputs are what they claim to be, so that its figures mean something.
@Suite struct BenchmarkInputTests {
    /// Goal: the generated benchmark log is 90 % access lines and 10 % other lines, all valid,
    /// and the filled store replays exactly its row count. Method: counts by construction.
    @Test func benchmarkLogAndStoreHoldWhatTheySay() throws {
        let dir = Fixtures.scratch("bench-inputs")
        let log = dir.appendingPathComponent("bench.log").path
        try TrafficBenchmark.writeAccessLog(path: log, lines: 1000, seed: 3)
        let store = try TraceStore(path: dir.appendingPathComponent("i.sqlite").path)
        let imported = try TraceImporter(store: store).importFiles([log])
        #expect(imported.lines == 1000)
        #expect(imported.rpcs == 900)
        #expect(imported.skipped == 100)
        #expect(imported.malformed == 0)
        let filled = try TraceStore(path: dir.appendingPathComponent("r.sqlite").path)
        try TrafficBenchmark.fillStore(filled, rows: 5000)
        let result = try TrafficBenchmark.replay(store: filled)
        #expect(result.rows == 5000)
    }
}
