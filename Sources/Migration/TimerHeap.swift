/// The instants the engine waits for, each with the repository it belongs to: a binary
/// min-heap ordered by (instant, repository) with lazy deletion. An entry stays when its
/// repository's stage moves on; whoever pops it checks that the stage still carries it. So a
/// timer costs O(log n) and an answer no longer scans every repository in flight.
struct TimerHeap: Sendable {
    private var items: [Entry] = []

    struct Entry: Sendable {
        var at: EngineInstant
        var repository: Int
        func before(_ o: Entry) -> Bool { at < o.at || (at == o.at && repository < o.repository) }
    }

    var top: Entry? { items.first }

    mutating func push(_ at: EngineInstant, _ repository: Int) {
        items.append(Entry(at: at, repository: repository))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].before(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let l = 2 * parent + 1, r = l + 1
                var least = parent
                if l < items.count && items[l].before(items[least]) { least = l }
                if r < items.count && items[r].before(items[least]) { least = r }
                if least == parent { break }
                items.swapAt(parent, least)
                parent = least
            }
        }
        return first
    }
}

extension Stage {
    /// Whether the engine must act at `t` for this stage: a retry, a move's deadline or its
    /// next poll (a waiting stage's end is kept apart, `waitTimers`).
    func awaitsRequest(at t: EngineInstant) -> Bool {
        let (a, b) = requestInstants
        return a == t || b == t
    }

    /// The instants `awaitsRequest` answers true for.
    var requestInstants: (EngineInstant?, EngineInstant?) {
        switch self {
        case .lookingUp(.retryAt(let u)), .clearingReadOnly(.retryAt(let u)): (u, nil)
        case .moving(let p), .failing(let p):
            if case .retryAt(let u) = p.poll { (p.deadline, u) } else { (p.deadline, nil) }
        case .lookingUp, .clearingReadOnly, .scheduling, .waiting, .pending, .done, .givenUp: (nil, nil)
        }
    }

    var waitsUntil: EngineInstant? {
        if case .waiting(let until, _) = self { until } else { nil }
    }
}
