/// A multi-server FIFO resource with `servers` slots, an optional bound on waiting requests and
/// an optional bound on how long a request may wait: the shape of Gitaly's concurrency limiter.
///
/// Gitaly's limiter (gitaly `internal/limiter/concurrency_limiter.go`; docs "Concurrency
/// limiting", ../shared/domain/GITALY_LOGS.md §1 and §4) admits up to `max_per_repo` requests,
/// queues up to `max_queue_size` more, and rejects a request with ResourceExhausted when the
/// queue is full (`limit.concurrency_dropped: max_size`) or when it has waited `max_queue_wait`
/// (`max_time`). This type keeps that state; the model owns the clock and the events.
///
/// Protocol: `arrive` either starts the job, queues it (the model then schedules a timeout at
/// `now + maxQueueWait` carrying the ticket, if a wait bound is set) or rejects it. `release`
/// frees a slot and starts the next waiting job. A timeout calls `abandon(ticket)`, which
/// removes the job only if it is still waiting.
public struct Server<Job> {
    public enum Rejection: Equatable, Sendable {
        /// The queue held `queueLimit` jobs already (Gitaly: `max_size`).
        case queueFull
        /// The job waited `maxQueueWait` without getting a slot (Gitaly: `max_time`).
        case waitedTooLong
    }
    public enum Admission: Equatable, Sendable {
        case started
        case queued(ticket: UInt64)
        case rejected(Rejection)
    }
    public struct Waiting {
        public var job: Job
        public var ticket: UInt64
        public var enqueuedAt: SimTime
        @inlinable init(job: Job, ticket: UInt64, enqueuedAt: SimTime) { self.job = job; self.ticket = ticket; self.enqueuedAt = enqueuedAt }
    }

    public let servers: Int
    public let queueLimit: Int?
    public let maxQueueWait: SimTime?
    @usableFromInline var _busy: Int = 0
    @inlinable public var busy: Int { _busy }
    @usableFromInline var waiting = RingBuffer<Waiting>()
    @usableFromInline var nextTicket: UInt64 = 0
    @usableFromInline var _started: Int = 0
    @inlinable public var started: Int { _started }
    @usableFromInline var _rejectedQueueFull: Int = 0
    @inlinable public var rejectedQueueFull: Int { _rejectedQueueFull }
    @usableFromInline var _rejectedWaitedTooLong: Int = 0
    @inlinable public var rejectedWaitedTooLong: Int { _rejectedWaitedTooLong }

    public init(servers: Int, queueLimit: Int? = nil, maxQueueWait: SimTime? = nil) {
        precondition(servers >= 1, "a server needs at least one slot, got \(servers)")
        precondition(queueLimit.map { $0 >= 0 } ?? true, "queue limit must be ≥ 0")
        self.servers = servers
        self.queueLimit = queueLimit
        self.maxQueueWait = maxQueueWait
    }

    @inlinable public var queueLength: Int { waiting.count }
    @inlinable public var isIdle: Bool { busy == 0 && waiting.isEmpty }

    @inlinable public mutating func arrive(_ job: Job, at now: SimTime) -> Admission {
        if busy < servers {
            _busy += 1
            _started += 1
            return .started
        }
        if let limit = queueLimit, waiting.count >= limit {
            _rejectedQueueFull += 1
            return .rejected(.queueFull)
        }
        let ticket = nextTicket
        nextTicket &+= 1
        waiting.append(Waiting(job: job, ticket: ticket, enqueuedAt: now))
        return .queued(ticket: ticket)
    }

    /// Frees one slot. If a job is waiting it takes the slot at once and is returned with the
    /// time it waited.
    @inlinable public mutating func release(at now: SimTime) -> (job: Job, waited: SimTime)? {
        precondition(busy > 0, "release on an idle server")
        if let w = waiting.popFirst() {
            _started += 1
            return (w.job, now - w.enqueuedAt)
        }
        _busy -= 1
        return nil
    }

    /// A waiting job's timeout fired: removes and returns it if it is still waiting, nil if it
    /// already got a slot. With one wait bound for all jobs and FIFO service, a job still waiting
    /// at its deadline is always at the head: every job queued before it had an earlier or equal
    /// deadline, and timeouts due at the same instant fire in queueing order.
    @inlinable public mutating func abandon(ticket: UInt64) -> Job? {
        guard let head = waiting.first, head.ticket == ticket else {
            // Tickets rise in queueing order, so a head with a smaller ticket means an older job
            // outlived its own deadline: the model skipped or reordered a timeout.
            precondition(waiting.first.map { $0.ticket >= ticket } ?? true,
                         "timeout for ticket \(ticket) fired while an older job still waits")
            return nil
        }
        waiting.popFirst()
        _rejectedWaitedTooLong += 1
        return head.job
    }
}
