import GRDB
import GRDBSQLite
import SimKernel

/// How a trace is replayed into a model.
public struct ReplayOptions: Sendable {
    /// First arrival replayed (Unix-epoch ns, inclusive); nil starts at the trace's first arrival.
    public var windowStartNs: Int64?
    /// End of the window (exclusive); nil runs to the end of the trace.
    public var windowEndNs: Int64?
    /// Simulated arrival = (recorded arrival − window start) / speedUp: 2 replays an hour of
    /// traffic in half an hour of simulated time. Costs are not scaled (an RPC costs what it cost).
    public var speedUp: Double = 1
    /// Below 1, each RPC is kept with this probability (independent thinning keeps a Poisson
    /// process Poisson at the thinned rate). Above 1, each RPC is replayed once plus
    /// ⌊m⌋ − 1 copies plus one more with probability m − ⌊m⌋, each copy shifted later by a uniform
    /// jitter so that copies do not arrive in lockstep with their original.
    public var rateMultiplier: Double = 1
    /// Copies land uniformly in [original, original + jitter) of simulated time.
    public var copyJitter: SimTime = .seconds(1)
    /// Trace storage name → model storage name. Storages not listed keep their name when the
    /// model has it, else are spread over the model's storages by a stable hash of the name.
    public var storageMap: [String: String] = [:]
    /// Trace repository relative path → model repository name, with the same fallbacks.
    public var repositoryMap: [String: String] = [:]
    /// Seed and replication of the random streams (thinning, copies, jitter).
    public var seed: UInt64 = 1
    public var replication: Int = 0
    /// Rows read from SQLite per query when reading the `rpc` table; bounds memory with the copy
    /// jitter.
    public var batchSize: Int = 8192
    /// Read the packed replay chunks (built on first use, see `ReplayChunks`) rather than the
    /// `rpc` table row by row. Both give the same arrivals; a read-only database falls back to rows.
    public var packed: Bool = true

    public init() {}
}

/// The model's names that a replay maps the trace onto.
public struct ReplayTarget: Sendable {
    public var storages: [String]
    public var repositories: [String]
    public init(storages: [String], repositories: [String]) {
        self.storages = storages
        self.repositories = repositories
    }
}

public enum ReplayError: Error, Equatable, CustomStringConvertible {
    case invalidOption(name: String, value: String, reason: String)
    case unknownTarget(kind: String, traceName: String, modelName: String)

    public var description: String {
        switch self {
        case .invalidOption(let name, let value, let reason): "replay option \(name) = \(value): \(reason)"
        case .unknownTarget(let kind, let traceName, let modelName):
            "replay \(kind) map: \(traceName) → \(modelName), but the model has no \(kind) called \(modelName)"
        }
    }
}

/// Streams a stored trace in arrival order, a batch of rows at a time (keyset pagination on the
/// table's clustering key `(arrival_ns, line_hash)`), so that a trace of any length replays in bounded memory: the batch,
/// plus the copies a rate multiplier above 1 holds back, about rate × jitter of them.
///
/// Names are mapped to the model's integer ids once, when the replay opens; the rows carry only
/// integers.
public struct TraceReplay: ArrivalSource {
    public let options: ReplayOptions
    public let methods: [MethodName]
    let store: TraceStore
    var queue: DatabaseQueue { store.queue }
    /// Trace ids → model indices (-1 for none), indexed by the trace's interned id.
    let storageIndex: [Int32]
    let repositoryIndex: [Int32]
    let startNs: Int64
    let endNs: Int64
    var lastArrivalNs: Int64
    /// The key of the last row read; rows after it come next.
    var lastHash: Int64 = .min
    var started = false
    /// Reading packed chunks, and the id of the last chunk read.
    var packed: Bool
    var lastChunkId: Int64 = 0
    var buffer: [Arrival] = []
    var bufferPosition = 0
    var exhausted = false
    var copies = CopyHeap()
    var sampling: RandomStream
    var jitter: RandomStream

    public init(store: TraceStore, target: ReplayTarget, options: ReplayOptions = ReplayOptions()) throws {
        guard options.speedUp.isFinite, options.speedUp > 0 else {
            throw ReplayError.invalidOption(name: "speedUp", value: "\(options.speedUp)", reason: "must be a positive number")
        }
        guard options.rateMultiplier.isFinite, options.rateMultiplier > 0, options.rateMultiplier <= 1000 else {
            throw ReplayError.invalidOption(name: "rateMultiplier", value: "\(options.rateMultiplier)", reason: "must be in (0, 1000]")
        }
        guard options.batchSize >= 1 else {
            throw ReplayError.invalidOption(name: "batchSize", value: "\(options.batchSize)", reason: "must be at least 1")
        }
        self.options = options
        self.store = store
        let streams = RandomStreams(seed: options.seed, replication: options.replication)
        sampling = streams.stream("traffic.replay.sampling")
        jitter = streams.stream("traffic.replay.jitter")
        let loaded = try store.translatingErrors { try store.queue.read { db -> ([MethodName], [Int32], [Int32], Int64?, Int64?) in
            var methods: [MethodName] = []
            for r in try Row.fetchAll(db, sql: "SELECT id, service, name, operation FROM method ORDER BY id") {
                let id: Int = r["id"]
                let op = OperationType(rawValue: r["operation"]) ?? .unknown
                while methods.count < id { methods.append(MethodName(service: "", method: "", operation: .unknown)) }
                methods.append(MethodName(service: r["service"], method: r["name"], operation: op))
            }
            let storageNames = try TraceStore.names(db, table: "storage")
            let storageIdx = try Self.map(storageNames, kind: "storage", explicit: options.storageMap, onto: target.storages)
            let repoRows = try Row.fetchAll(db, sql: "SELECT id, relative_path FROM repository ORDER BY id")
            var repoNames = [String](repeating: "", count: (repoRows.last.map { $0["id"] as Int } ?? 0) + 1)
            for r in repoRows { repoNames[r["id"] as Int] = r["relative_path"] }
            let repoIdx = try Self.map(repoNames, kind: "repository", explicit: options.repositoryMap, onto: target.repositories)
            let first = try Int64.fetchOne(db, sql: "SELECT MIN(arrival_ns) FROM rpc")
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(arrival_ns) FROM rpc")
            for ns in [first, last].compactMap({ $0 }) where !Timestamp.validNs.contains(ns) {
                throw StoredCall.Invalid(reason: "a call arrives at \(ns) ns, outside \(Timestamp.validRangeText)")
            }
            return (methods, storageIdx, repoIdx, first, last)
        } }
        methods = loaded.0
        storageIndex = loaded.1
        repositoryIndex = loaded.2
        for (name, ns) in [("windowStart", options.windowStartNs), ("windowEnd", options.windowEndNs)] {
            if let ns, !Timestamp.validNs.contains(ns) {
                throw ReplayError.invalidOption(name: name, value: "\(ns) ns", reason: "must be within \(Timestamp.validRangeText)")
            }
        }
        startNs = options.windowStartNs ?? loaded.3 ?? 0
        endNs = options.windowEndNs ?? Int64.max
        // Slowed down (speed-up below 1), the trace must still end inside the simulated clock.
        if let last = loaded.4, last > startNs, Double(last - startNs) / options.speedUp >= 9.2e18 {
            throw ReplayError.invalidOption(name: "speedUp", value: "\(options.speedUp)",
                                            reason: "stretches the trace's \((last - startNs) / 1_000_000_000) s past the simulated clock's 292 years")
        }
        lastArrivalNs = startNs
        if loaded.3 == nil { exhausted = true }
        // The cache is built only once the options are known good, so that a refused replay
        // leaves the store as it was.
        var usePacked = options.packed
        if usePacked {
            try store.translatingErrors {
                do {
                    try store.queue.write { try ReplayChunks.ensure($0) }
                } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_READONLY {
                    // A trace shared read-only cannot hold the cache: read the rows instead.
                    usePacked = false
                }
            }
        }
        packed = usePacked
    }

    /// Maps interned trace names (index = id; index 0 unused) onto model indices.
    static func map(_ names: [String], kind: String, explicit: [String: String], onto model: [String]) throws -> [Int32] {
        var byName: [String: Int32] = [:]
        for (i, n) in model.enumerated() where byName[n] == nil { byName[n] = Int32(i) }
        // Explicit entries must name something the model has: a typo would otherwise silently
        // fall back to hashing.
        for key in explicit.keys.sorted() where byName[explicit[key]!] == nil {
            throw ReplayError.unknownTarget(kind: kind, traceName: key, modelName: explicit[key]!)
        }
        var out = [Int32](repeating: -1, count: names.count)
        guard !model.isEmpty else { return out }
        for (id, name) in names.enumerated() where id > 0 {
            if let m = explicit[name], let i = byName[m] {
                out[id] = i
            } else if let i = byName[name] {
                out[id] = i
            } else {
                out[id] = Int32(Self.stableHash(name) % UInt64(model.count))
            }
        }
        return out
    }

    /// FNV-1a over UTF-8 bytes: the same name lands on the same model storage or repository in
    /// every run and on every machine.
    static func stableHash(_ s: String) -> UInt64 { fnv1a(s.utf8) }

    public mutating func next() throws -> Arrival? {
        // The common case, a plain replay with nothing held back, takes no other branch.
        if options.rateMultiplier == 1 && copies.isEmpty && bufferPosition < buffer.count {
            bufferPosition += 1
            return buffer[bufferPosition - 1]
        }
        while true {
            // A chunk may hold no call inside the window: read on until one does or none is left.
            while bufferPosition == buffer.count && !exhausted { try refill() }
            let original = bufferPosition < buffer.count ? buffer[bufferPosition] : nil
            // A held-back copy goes first when it is due strictly before the next original;
            // ties go to the original, so the order is fixed by the seed alone.
            if let t = copies.minTime, original.map({ t < $0.time }) ?? true {
                return copies.pop()
            }
            guard var a = original else { return nil }
            bufferPosition += 1
            let m = options.rateMultiplier
            if m < 1 {
                if !sampling.bernoulli(m) { continue }
                return a
            }
            var extra = Int(m) - 1
            let fraction = m - m.rounded(.down)
            if fraction > 0 && sampling.bernoulli(fraction) { extra += 1 }
            if extra > 0 {
                a.isCopy = true
                let base = a.time
                let span = Double(options.copyJitter.nanoseconds)
                for _ in 0..<extra {
                    a.time = base + SimTime(nanoseconds: Int64(jitter.nextDouble() * span))
                    copies.push(a)
                }
                a.time = base
                a.isCopy = false
            }
            return a
        }
    }

    /// Simulated nanoseconds of a recorded arrival: exact at speed 1, rounded otherwise.
    @inline(__always) static func simulatedNs(_ arrivalNs: Int64, startNs: Int64, speedUp: Double) -> Int64 {
        speedUp == 1 ? arrivalNs - startNs : Int64((Double(arrivalNs - startNs) / speedUp).rounded())
    }

    mutating func refill() throws {
        let store = self.store
        try store.translatingErrors {
            if packed { try refillFromChunk() } else { try refillFromRows() }
        }
    }

    /// Decodes the next chunk that overlaps the window, keeping the calls inside it.
    mutating func refillFromChunk() throws {
        var rows: [Arrival] = []
        swap(&rows, &buffer)
        rows.removeAll(keepingCapacity: true)
        bufferPosition = 0
        let (startNs, endNs, after, speedUp) = (self.startNs, self.endNs, lastChunkId, options.speedUp)
        let (storageIndex, repositoryIndex) = (self.storageIndex, self.repositoryIndex)
        let methodCount = methods.count
        var chunkId: Int64?
        try queue.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT id, row_count, data FROM replay_chunk
                WHERE id > ? AND last_arrival_ns >= ? AND first_arrival_ns < ? ORDER BY id LIMIT 1
                """)
            let s = statement.sqliteStatement
            sqlite3_reset(s)
            defer { sqlite3_reset(s) }
            sqlite3_bind_int64(s, 1, after)
            sqlite3_bind_int64(s, 2, startNs)
            sqlite3_bind_int64(s, 3, endNs)
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            chunkId = sqlite3_column_int64(s, 0)
            let count = Int(sqlite3_column_int64(s, 1))
            let bytes = Int(sqlite3_column_bytes(s, 2))
            guard let base = sqlite3_column_blob(s, 2), bytes == count * ReplayChunks.rowBytes else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "replay chunk \(chunkId!) holds \(bytes) bytes for \(count) calls")
            }
            let data = UnsafeRawBufferPointer(start: base, count: bytes)
            rows.reserveCapacity(count)
            // The id tables are read through buffer pointers: the ids are range-checked below,
            // so the array's own check per access was only repeated work on every call.
            try storageIndex.withUnsafeBufferPointer { storageIndex in
                try repositoryIndex.withUnsafeBufferPointer { repositoryIndex in
                    let storageCount = storageIndex.count, repositoryCount = repositoryIndex.count
                    for i in 0..<count {
                        let c = ReplayChunks.load(data, at: i)
                        guard c.arrivalNs >= startNs && c.arrivalNs < endNs else { continue }
                        try StoredCall.check(arrivalNs: c.arrivalNs, durationNs: c.durationNs, methodId: Int64(c.methodId),
                                             methodCount: methodCount, requestBytes: c.requestBytes,
                                             responseBytes: c.responseBytes, packBytes: c.packBytes)
                        let storageId = Int(c.storageId), repositoryId = Int(c.repositoryId)
                        rows.append(Arrival(
                            time: SimTime(nanoseconds: Self.simulatedNs(c.arrivalNs, startNs: startNs, speedUp: speedUp)),
                            method: c.methodId,
                            operation: OperationType(rawValue: c.operation) ?? .unknown,
                            storage: storageId > 0 && storageId < storageCount ? storageIndex[storageId] : -1,
                            repository: repositoryId > 0 && repositoryId < repositoryCount ? repositoryIndex[repositoryId] : -1,
                            cost: RPCCost(durationNs: c.durationNs, cpuNs: c.cpuNs, requestBytes: c.requestBytes,
                                          responseBytes: c.responseBytes, packBytes: c.packBytes)))
                    }
                }
            }
        }
        if let chunkId { lastChunkId = chunkId } else { exhausted = true }
        buffer = rows
    }

    /// Reads the next batch of rows after (lastArrivalNs, lastHash).
    mutating func refillFromRows() throws {
        // Take the buffer's storage out of `self` so that appending does not copy it.
        var rows: [Arrival] = []
        swap(&rows, &buffer)
        rows.removeAll(keepingCapacity: true)
        bufferPosition = 0
        let (fromNs, fromHash, endNs, limit) = (lastArrivalNs, lastHash, endNs, options.batchSize)
        // The first batch includes the window's first instant; later ones start after the last row.
        let after = started ? ">" : ">="
        started = true
        let (startNs, speedUp) = (self.startNs, options.speedUp)
        let (storageIndex, repositoryIndex) = (self.storageIndex, self.repositoryIndex)
        let methodCount = methods.count
        var last = (fromNs, fromHash)
        try queue.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT line_hash, arrival_ns, duration_ns, method_id, operation, storage_id, repository_id,
                       cpu_ms, request_bytes, response_bytes, pack_bytes
                FROM rpc WHERE arrival_ns >= ? AND arrival_ns < ? AND (arrival_ns, line_hash) \(after) (?, ?)
                ORDER BY arrival_ns, line_hash LIMIT ?
                """)
            // Rows are read through SQLite's C API: GRDB's `Row` cursor decodes each column
            // through a generic conversion and held replay to about a million rows a second
            // (Sources/Traffic/README.md, "Measurements"). A NULL reads as 0 from `sqlite3_column_*`, which
            // is the "none" every nullable column here maps to.
            let s = statement.sqliteStatement
            sqlite3_reset(s)
            sqlite3_bind_int64(s, 1, fromNs)
            sqlite3_bind_int64(s, 2, endNs)
            sqlite3_bind_int64(s, 3, fromNs)
            sqlite3_bind_int64(s, 4, fromHash)
            sqlite3_bind_int64(s, 5, Int64(limit))
            defer { sqlite3_reset(s) }
            let storageCount = storageIndex.count, repositoryCount = repositoryIndex.count
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                let arrival = sqlite3_column_int64(s, 1)
                last = (arrival, sqlite3_column_int64(s, 0))
                let storageId = Int(sqlite3_column_int64(s, 5))
                let repositoryId = Int(sqlite3_column_int64(s, 6))
                let cost = RPCCost(durationNs: sqlite3_column_int64(s, 2),
                                   cpuNs: try StoredCall.cpuNs(sqlite3_column_double(s, 7), arrivalNs: arrival),
                                   requestBytes: sqlite3_column_int64(s, 8), responseBytes: sqlite3_column_int64(s, 9),
                                   packBytes: sqlite3_column_int64(s, 10))
                try StoredCall.check(arrivalNs: arrival, durationNs: cost.durationNs, methodId: sqlite3_column_int64(s, 3),
                                     methodCount: methodCount, requestBytes: cost.requestBytes,
                                     responseBytes: cost.responseBytes, packBytes: cost.packBytes)
                rows.append(Arrival(
                    time: SimTime(nanoseconds: Self.simulatedNs(arrival, startNs: startNs, speedUp: speedUp)),
                    method: Int32(truncatingIfNeeded: sqlite3_column_int64(s, 3)),
                    operation: OperationType(rawValue: UInt8(truncatingIfNeeded: sqlite3_column_int64(s, 4))) ?? .unknown,
                    storage: storageId > 0 && storageId < storageCount ? storageIndex[storageId] : -1,
                    repository: repositoryId > 0 && repositoryId < repositoryCount ? repositoryIndex[repositoryId] : -1,
                    cost: cost))
            }
        }
        if rows.count < limit { exhausted = true }
        (lastArrivalNs, lastHash) = last
        buffer = rows
    }
}
