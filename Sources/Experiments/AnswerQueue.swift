import Migration
import SimKernel

/// The driver's answers on their way to the engine, taken in order of arrival and, at one
/// instant, of sending. The simulated GitLab answers after one latency (`gitlab.apiLatency`), so
/// an answer nearly always goes last: a ring, where a sorted array moved its hundreds of
/// waiting answers at every removal (2% of a GitLab.com-scale drain) and a heap sifted each one
/// down (3%; `perf`, BENCHMARKS.md).
struct AnswerQueue {
    private var ring = RingBuffer<(at: SimTime, input: EngineInput)>()

    var isEmpty: Bool { ring.isEmpty }
    /// When the next answer arrives.
    var nextArrival: SimTime? { ring.first?.at }

    /// `input`, arriving at `t`, behind every answer that arrives by `t`.
    mutating func push(_ input: EngineInput, at t: SimTime) {
        guard let last = ring.last, last.at > t else { return ring.append((t, input)) }
        // Quicker than an answer sent before it (never with one latency): laid out again.
        var all: [(at: SimTime, input: EngineInput)] = []
        while let a = ring.popFirst() { all.append(a) }
        all.insert((t, input), at: all.firstIndex { $0.at > t }!)
        for a in all { ring.append(a) }
    }

    /// The next answer, taken out.
    mutating func pop() -> (at: SimTime, input: EngineInput)? { ring.popFirst() }
}
