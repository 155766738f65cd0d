import Foundation

/// What a move costs on this machine, measured with the moves' own git commands on
/// repositories made for it (`SyntheticRepositories`), so that a simulated fleet can be given
/// this machine's figures: a copy's fixed cost and its bytes per second alone, the bytes per
/// second of `concurrency` copies at once (they share the cores), one checksum, one removal.
public struct Calibration: Sendable, Equatable {
    /// Copy seconds = `copyOverheadSeconds` + bytes / `copyBytesPerSecond` (least squares).
    public var copyOverheadSeconds: Double
    public var copyBytesPerSecond: Double
    /// Bytes per second of `concurrency` copies together.
    public var concurrentBytesPerSecond: Double
    public var concurrency: Int
    /// One `CalculateChecksum` (the mean over every repository measured, each side).
    public var checksumSeconds: Double
    /// Removing a source repository.
    public var cleanupSeconds: Double
    /// The state's own transactions of one move (schedule, start, switch, cleanup).
    public var bookkeepingSeconds: Double
    public var cores: Int
    /// Each measured copy: bytes and seconds.
    public var copies: [(bytes: Int, seconds: Double)]

    public static func == (a: Calibration, b: Calibration) -> Bool {
        a.copyOverheadSeconds == b.copyOverheadSeconds && a.copyBytesPerSecond == b.copyBytesPerSecond
            && a.concurrentBytesPerSecond == b.concurrentBytesPerSecond && a.checksumSeconds == b.checksumSeconds && a.cleanupSeconds == b.cleanupSeconds
            && a.bookkeepingSeconds == b.bookkeepingSeconds
    }

    /// Measures in `source` and `destination` (folders of the storages to calibrate), under a
    /// folder of its own in each that it removes after. ASSUMED sizes 256 KiB to 32 MiB, twice
    /// each: the range of the repositories a local validation moves.
    public static func measure(source: String, destination: String, git: Git, concurrency: Int,
                               sizes: [Int] = [1 << 18, 1 << 20, 1 << 22, 1 << 24, 1 << 25], repeats: Int = 2,
                               progress: (String) -> Void = { _ in }) async throws -> Calibration {
        let tag = ".rehearse-calibration-\(ProcessInfo.processInfo.processIdentifier)"
        let (from, to) = ("\(source)/\(tag)", "\(destination)/\(tag)")
        defer {
            try? FileManager.default.removeItem(atPath: from)
            try? FileManager.default.removeItem(atPath: to)
        }
        for d in [from, to] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let maker = SyntheticRepositories(git: git)
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        var copies: [(Int, Double)] = [], checksums: [Double] = [], cleanups: [Double] = []
        var n = 0
        for r in 0..<repeats {
            for size in sizes {
                n += 1
                let (a, b) = ("\(from)/r\(n).git", "\(to)/r\(n).git")
                try await maker.make(at: a, bytes: size, seed: UInt64(n))
                var t = clock.now
                try await git.run(LocalMoveWorkers.copyArguments(from: a, to: b))
                copies.append((size, seconds(clock.now - t)))
                t = clock.now
                let same = try await git.checksum(of: a) == git.checksum(of: b)
                guard same else { throw LocalMoveError("calibration: the copy of \(a) has another checksum") }
                checksums.append(seconds(clock.now - t) / 2)
                t = clock.now
                try FileManager.default.removeItem(atPath: a)
                cleanups.append(seconds(clock.now - t))
                try FileManager.default.removeItem(atPath: b)
            }
            progress("calibrate: round \(r + 1) of \(repeats)")
        }
        // Least squares of seconds on bytes.
        let xs = copies.map { Double($0.0) }, ys = copies.map(\.1)
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        let slope = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let overhead = max(0, my - slope * mx)
        // Copies at once: `concurrency` of each size, each size `repeats` times; what they move
        // together per second over all of them (one burst alone varies by a quarter).
        var together = 0.0, busy = 0.0
        for r in 0..<repeats {
            for size in sizes {
                var pairs: [(String, String)] = []
                for _ in 0..<concurrency {
                    n += 1
                    let pair = ("\(from)/c\(n).git", "\(to)/c\(n).git")
                    try await maker.make(at: pair.0, bytes: size, seed: UInt64(n))
                    pairs.append(pair)
                }
                let start = clock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (a, b) in pairs { group.addTask { try await git.run(LocalMoveWorkers.copyArguments(from: a, to: b)) } }
                    try await group.waitForAll()
                }
                busy += seconds(clock.now - start)
                together += Double(size * concurrency)
                for (a, b) in pairs { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
            }
            progress("calibrate: \(concurrency) copies at once, round \(r + 1) of \(repeats)")
        }
        // Per-copy overheads counted once per burst: the rate is of the bytes alone.
        let overheadShare = Double(repeats * sizes.count) * overhead
        together = together / max(busy - overheadShare, busy / 2)
        // One move's transactions on a state of its own, as the driver makes them.
        let state = try LocalGitLab.create(path: "\(from)/state.sqlite", storages: [.init(name: "from", directory: from), .init(name: "to", directory: to)],
                                           repositories: [.init(id: .init(1), storage: "from", relativePath: "r.git", sizeBytes: 0)])
        let t0 = clock.now
        let cycles = 20
        for i in 0..<cycles {
            guard case .success(let m) = try state.schedule(.init(1), destination: i % 2 == 0 ? "to" : "from"), try state.start(m) != nil,
                  try state.finishReplication(m) else { throw LocalMoveError("calibration: a move's bookkeeping failed") }
            try state.finishCleanup(m)
        }
        let bookkeeping = seconds(clock.now - t0) / Double(cycles)
        return Calibration(copyOverheadSeconds: overhead, copyBytesPerSecond: slope > 0 ? 1 / slope : .infinity, concurrentBytesPerSecond: together,
                           concurrency: concurrency, checksumSeconds: checksums.reduce(0, +) / Double(checksums.count),
                           cleanupSeconds: cleanups.reduce(0, +) / Double(cleanups.count), bookkeepingSeconds: bookkeeping, cores: ProcessInfo.processInfo.activeProcessorCount,
                           copies: copies.map { (bytes: $0.0, seconds: $0.1) })
    }
}
