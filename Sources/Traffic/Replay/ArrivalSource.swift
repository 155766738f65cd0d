import SimKernel

/// What one RPC costs the node that serves it, as recorded (replay) or drawn (synthesis).
public struct RPCCost: Sendable, Equatable {
    /// Handler time as the log recorded it: queueing, git processes and transfer together.
    public var durationNs: Int64
    /// CPU time of the git processes the call spawned (`command.cpu_time_ms`); 0 when unknown.
    public var cpuNs: Int64
    public var requestBytes: Int64
    public var responseBytes: Int64
    /// Pack bytes served (clones and fetches); 0 when none was logged.
    public var packBytes: Int64

    public init(durationNs: Int64, cpuNs: Int64 = 0, requestBytes: Int64 = 0, responseBytes: Int64 = 0, packBytes: Int64 = 0) {
        self.durationNs = durationNs; self.cpuNs = cpuNs
        self.requestBytes = requestBytes; self.responseBytes = responseBytes; self.packBytes = packBytes
    }
}

/// One RPC arriving in the simulated world, with names already mapped to the model's integer ids.
/// Fields are declared widest first so that the struct packs into 62 bytes, and two bytes of
/// padding make it exactly 64: every arrival is copied into and out of the event queue several
/// times. A 62-byte copy is done as four 16-byte moves, the last overlapping the third, and a
/// load that straddles two earlier stores cannot be forwarded from them, so each copy stalled
/// on the one before (`perf annotate`: a quarter of replay's time, issue 4); 64 bytes copy as
/// four disjoint moves.
public struct Arrival: Sendable, Equatable {
    /// Simulated arrival time.
    public var time: SimTime
    public var cost: RPCCost
    /// Index into the source's `methods` table.
    public var method: Int32
    /// Index into the model's storages, or -1 when the call names none.
    public var storage: Int32
    /// Index into the model's repositories, or -1 when the call names none.
    public var repository: Int32
    public var operation: OperationType
    /// True for an extra copy made by a rate multiplier above 1.
    public var isCopy: Bool
    /// Always zero; see the type's comment.
    private var padding: UInt16 = 0

    public init(time: SimTime, method: Int32, operation: OperationType, storage: Int32, repository: Int32, cost: RPCCost, isCopy: Bool = false) {
        self.time = time; self.method = method; self.operation = operation
        self.storage = storage; self.repository = repository; self.cost = cost; self.isCopy = isCopy
    }
}

/// A method as a source names it: `Arrival.method` indexes a table of these.
public struct MethodName: Sendable, Equatable, Hashable {
    public var service: String
    public var method: String
    public var operation: OperationType
    public init(service: String, method: String, operation: OperationType) {
        self.service = service; self.method = method; self.operation = operation
    }
}

/// A stream of arrivals in non-decreasing time order, pulled one at a time: trace replay and
/// synthetic traffic both conform, so a model takes either.
public protocol ArrivalSource {
    /// The method table `Arrival.method` indexes.
    var methods: [MethodName] { get }
    /// The next arrival, or nil when the source is exhausted.
    mutating func next() throws -> Arrival?
}

/// Feeds a source into a running simulation one event at a time: exactly one arrival of the
/// source is pending in the event queue at any moment, so memory stays bounded however long the
/// trace is. A model keeps one feeder and calls `scheduleNext` when it starts and after each
/// arrival event it handles.
///
/// `handle` cannot throw, so a failing source (a database read error) is kept in `failure` and
/// no further arrival is scheduled; the caller checks it after the run.
public struct ArrivalFeeder<Source: ArrivalSource> {
    public var source: Source
    public private(set) var failure: Error?
    public private(set) var delivered = 0

    public init(source: Source) { self.source = source }

    /// Pulls the next arrival and schedules `makeEvent(arrival)` at its time. Returns false when
    /// the source is exhausted or failed.
    @discardableResult
    public mutating func scheduleNext<Event>(_ scheduler: inout EventScheduler<Event>, _ makeEvent: (Arrival) -> Event) -> Bool {
        do {
            guard let a = try source.next() else { return false }
            // A source that starts before the run's clock (a window later than the clock) is
            // clamped to now rather than scheduled into the past.
            scheduler.schedule(at: max(a.time, scheduler.now), makeEvent(a))
            delivered += 1
            return true
        } catch {
            failure = error
            return false
        }
    }
}

/// Extra copies waiting for their turn, ordered by (time, sequence).
struct CopyHeap {
    struct Entry: Comparable {
        var sequence: UInt64
        var arrival: Arrival
        static func < (a: Entry, b: Entry) -> Bool { (a.arrival.time, a.sequence) < (b.arrival.time, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }
    var items = MinHeap<Entry>()
    var sequence: UInt64 = 0

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var minTime: SimTime? { items.min?.arrival.time }

    mutating func push(_ a: Arrival) {
        items.push(Entry(sequence: sequence, arrival: a))
        sequence += 1
    }

    mutating func pop() -> Arrival? { items.pop()?.arrival }
}
