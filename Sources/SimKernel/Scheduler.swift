/// The clock and the pending-event set that a model sees while it handles an event.
///
/// A model never reads a wall clock: `now` moves only when the run loop pops the next event.
public struct EventScheduler<Event> {
    @usableFromInline var _now: SimTime = .zero
    @inlinable public var now: SimTime { _now }
    @usableFromInline var queue = AdaptiveEventQueue<Event>()
    /// Events handed to the model so far.
    @usableFromInline var _eventsProcessed: Int = 0
    @inlinable public var eventsProcessed: Int { _eventsProcessed }
    @usableFromInline var stopRequested = false

    public init() {}

    @inlinable public var pendingCount: Int { queue.count }
    @inlinable public mutating func nextEventTime() -> SimTime? { queue.peekTime() }

    /// Schedules `event` at an absolute time, which must not be before `now`.
    @inlinable public mutating func schedule(at time: SimTime, _ event: Event) {
        precondition(time >= now, "cannot schedule at \(time), before now (\(now))")
        queue.push(time, event)
    }

    /// Schedules `event` after a delay from `now`.
    @inlinable public mutating func schedule(after delay: SimTime, _ event: Event) {
        queue.push(now + delay, event)
    }

    /// Asks the run loop to return after the event being handled.
    @inlinable public mutating func stop() { stopRequested = true }

    @inlinable mutating func next(notAfter limit: SimTime) -> Event? {
        // Peek before popping: popping and pushing back would send the event behind others
        // due at the same instant and break FIFO ties between chunked and whole runs.
        if limit != .max {
            guard let t = queue.peekTime(), t <= limit else { return nil }
        }
        guard let (t, e) = queue.pop() else { return nil }
        _now = t
        _eventsProcessed &+= 1
        return e
    }

    @inlinable mutating func advance(to time: SimTime) {
        if time > now { _now = time }
    }
}
