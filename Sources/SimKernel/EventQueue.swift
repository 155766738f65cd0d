/// A pending-event set: events come out in order of (time, insertion sequence), so events due
/// at the same instant leave in the order they were scheduled (FIFO ties), which is what makes
/// a run deterministic.
///
/// The kernel runs on `RadixEventQueue`; `BinaryHeapEventQueue` and `QuaternaryHeapEventQueue`
/// stay as the reference implementations the tests compare it against and the benchmark
/// measures it against (BENCHMARKS.md, "event queue").
public protocol EventQueue<Payload> {
    associatedtype Payload
    init()
    var count: Int { get }
    var isEmpty: Bool { get }
    /// The earliest pending time, if any. Mutating because a queue may reorganise itself to
    /// find it (never changing the order events leave in).
    mutating func peekTime() -> SimTime?
    /// Adds an event. `time` must not be before the last time popped: a discrete-event
    /// simulation never schedules into its own past.
    mutating func push(_ time: SimTime, _ payload: Payload)
    /// Removes and returns the earliest event (FIFO among equal times).
    mutating func pop() -> (time: SimTime, payload: Payload)?
    /// Drops every pending event.
    mutating func removeAll()
}
