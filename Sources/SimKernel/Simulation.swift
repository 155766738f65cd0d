/// A simulated world: a value that reacts to its own events by changing state and
/// scheduling more events. Events are plain enums; the model switches over them.
public protocol DiscreteEventModel {
    associatedtype Event
    mutating func handle(_ event: Event, scheduler: inout EventScheduler<Event>)
}

/// Something that sees every event as it is handed to the model (trace hashing, logging).
public protocol EventObserver<Event> {
    associatedtype Event
    mutating func observe(_ time: SimTime, _ event: Event)
}

/// Why `run` returned.
public enum StopReason: Equatable, Sendable {
    /// No event is pending.
    case drained
    /// The next event lies after the time limit; the clock stands at the limit.
    case timeLimit
    /// The event budget is spent.
    case eventLimit
    /// The model called `scheduler.stop()`.
    case stopRequested
}

/// The run loop: pops events in (time, insertion) order and hands them to the model.
public struct Simulation<Model: DiscreteEventModel> {
    public var model: Model
    public var scheduler = EventScheduler<Model.Event>()

    public init(model: Model) { self.model = model }

    @inlinable public var now: SimTime { scheduler.now }
    @inlinable public var eventsProcessed: Int { scheduler.eventsProcessed }

    @inlinable public mutating func schedule(at time: SimTime, _ event: Model.Event) {
        scheduler.schedule(at: time, event)
    }

    /// Runs until no event is pending, the next event is after `limit` (the clock then stands at
    /// `limit`), `maxEvents` more events were handled, or the model asks to stop.
    @inlinable @discardableResult
    public mutating func run(until limit: SimTime = .max, maxEvents: Int = .max) -> StopReason {
        var none = NoObserver<Model.Event>()
        return run(until: limit, maxEvents: maxEvents, observer: &none)
    }

    @inlinable @discardableResult
    public mutating func run<O: EventObserver>(until limit: SimTime = .max, maxEvents: Int = .max, observer: inout O) -> StopReason
    where O.Event == Model.Event {
        scheduler.stopRequested = false
        var budget = maxEvents
        while budget > 0 {
            guard let event = scheduler.next(notAfter: limit) else {
                if scheduler.queue.isEmpty { return .drained }
                scheduler.advance(to: limit)
                return .timeLimit
            }
            budget -= 1
            observer.observe(scheduler.now, event)
            model.handle(event, scheduler: &scheduler)
            if scheduler.stopRequested { return .stopRequested }
        }
        return .eventLimit
    }
}

public struct NoObserver<Event>: EventObserver {
    @inlinable public init() {}
    @inlinable public mutating func observe(_ time: SimTime, _ event: Event) {}
}

/// Events that can be folded into a trace digest: a stable 64-bit code for the event's kind
/// and arguments (never a Swift `hashValue`, which is seeded per process).
public protocol TraceableEvent {
    var traceCode: UInt64 { get }
}

/// Folds every (time, event) into one 64-bit digest. Two runs are bit-identical exactly when
/// their digests agree (up to a 2^-64 collision), which is what the determinism tests compare.
public struct TraceDigest<Event: TraceableEvent>: EventObserver {
    @usableFromInline var _value: UInt64 = 0xcbf2_9ce4_8422_2325
    @inlinable public var value: UInt64 { _value }
    @usableFromInline var _events: Int = 0
    @inlinable public var events: Int { _events }
    public init() {}
    @inlinable public mutating func observe(_ time: SimTime, _ event: Event) {
        _value = TraceDigest.mix(value, UInt64(bitPattern: time.nanoseconds))
        _value = TraceDigest.mix(value, event.traceCode)
        _events += 1
    }
    @inlinable static func mix(_ h: UInt64, _ x: UInt64) -> UInt64 {
        var z = (h ^ x) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
