/// The current wave's pending repositories, one queue per source storage in plan order, and
/// which queues a scan must look at. A queue's head found without room stays blocked until a
/// slot frees on what blocked it (slots only free in `MigrationEngine.setStage`), so a scan
/// visits only the queues touched since: those never looked at this wave, the queue of a
/// source whose slot freed, and the queues whose head waits on a destination whose slot freed.
/// In source order, as a scan of every queue would, and with the same result: a queue not
/// visited would have been found blocked again.
struct PendingQueues: Sendable {
    private var queues: [[Int]]
    private var heads: [Int]
    /// Queues to look at, in no order, and a flag per queue that it is among them.
    private var touched: [Int] = []
    private var isTouched: [Bool]
    /// Per destination storage, the queues whose head was found waiting on it.
    private var waitingOn: [[Int]]

    init(storages: Int) {
        queues = Array(repeating: [], count: storages)
        heads = Array(repeating: 0, count: storages)
        isTouched = Array(repeating: false, count: storages)
        waitingOn = Array(repeating: [], count: storages)
    }

    /// A new wave: its repositories queued by source, every queue to be looked at.
    init(storages: Int, sources: some Sequence<(repository: Int, source: Int)>) {
        self.init(storages: storages)
        for (i, s) in sources { queues[s].append(i) }
        for s in queues.indices where !queues[s].isEmpty { touch(s) }
    }

    /// Some queue has repositories not yet begun.
    var hasPending: Bool { queues.indices.contains { heads[$0] < queues[$0].count } }
    /// No queue needs looking at: a scan would begin nothing.
    var allBlocked: Bool { touched.isEmpty }

    /// The head of queue `s`, if any.
    func head(_ s: Int) -> Int? { heads[s] < queues[s].count ? queues[s][heads[s]] : nil }

    mutating func advance(_ s: Int) { heads[s] += 1 }

    mutating func touch(_ s: Int) {
        if isTouched[s] { return }
        isTouched[s] = true
        touched.append(s)
    }

    /// A slot freed on `source` and (for a planned destination) on `destination`.
    mutating func slotFreed(source: Int, destination: Int?) {
        touch(source)
        guard let d = destination, !waitingOn[d].isEmpty else { return }
        for s in waitingOn[d] { touch(s) }
        waitingOn[d].removeAll(keepingCapacity: true)
    }

    /// Queue `s` is not marked to be looked at: its head, if any, was found without room and
    /// nothing it waits on has freed since.
    func isSettled(_ s: Int) -> Bool { !isTouched[s] }

    /// Queue `s`'s head waits on destination `d`'s slots. A queue found waiting again (its
    /// source freed first) is not listed twice in a row; a repeat further back costs only a
    /// second touch, which marks nothing twice.
    mutating func waits(_ s: Int, on d: Int) {
        if waitingOn[d].last != s { waitingOn[d].append(s) }
    }

    /// The queues to look at, in source order, no longer marked: the caller looks at each, or
    /// touches again the ones it does not reach.
    mutating func takeTouched() -> [Int] {
        let taken = touched.sorted()
        touched.removeAll(keepingCapacity: true)
        for s in taken { isTouched[s] = false }
        return taken
    }
}
