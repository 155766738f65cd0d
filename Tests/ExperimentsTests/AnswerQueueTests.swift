import Migration
import SimKernel
import Testing
@testable import Experiments

/// Goal: answers reach the engine in order of arrival and, at one instant, in the order they
/// were sent, however their arrivals interleave. Method: 20,000 pushes and pops in seeded
/// turns, arrivals mostly in order (one latency) with a fifth of them earlier than the last one
/// queued, many on the same instant; every answer taken out is checked against a reference
/// kept as a plain list, the earliest (arrival, order sent) taken out by a scan. Independent
/// truth: the scan. It fails when an early answer goes last (tried: the ring without its
/// laying out again).
@Test func answersLeaveInOrderOfArrivalThenOfSending() {
    var random = SplitMix64(state: 11)
    var queue = AnswerQueue()
    var reference: [(at: SimTime, order: Int)] = []
    var sent = 0, now: Int64 = 0, taken = 0, laidOut = 0
    for _ in 0..<20_000 {
        if random.next() % 3 != 0 || reference.isEmpty {
            now += Int64(random.next() % 3)
            // One latency most of the time; now and then a quicker answer.
            let early = random.next() % 5 == 0
            let at = SimTime(nanoseconds: early ? now + Int64(random.next() % 3) : now + 3)
            if let last = reference.map(\.at).max(), at < last { laidOut += 1 }
            queue.push(.moveStatus(MoveID(Int64(sent)), .started), at: at)
            reference.append((at, sent))
            sent += 1
        } else {
            let i = reference.indices.min { (reference[$0].at, reference[$0].order) < (reference[$1].at, reference[$1].order) }!
            let expected = reference.remove(at: i)
            #expect(queue.nextArrival == expected.at)
            let got = queue.pop()
            guard case .moveStatus(let id, _) = got?.input, got?.at == expected.at else { Issue.record("no answer where \(expected) was due"); return }
            #expect(Int(id.value) == expected.order, "answer \(id.value) taken where \(expected.order) was due")
            taken += 1
        }
    }
    #expect(taken > 5_000 && laidOut > 500, "\(taken) taken, \(laidOut) pushed before the last")
    while !reference.isEmpty {
        let i = reference.indices.min { (reference[$0].at, reference[$0].order) < (reference[$1].at, reference[$1].order) }!
        let expected = reference.remove(at: i)
        guard case .moveStatus(let id, _) = queue.pop()?.input else { Issue.record("the queue ran out early"); return }
        #expect(Int(id.value) == expected.order)
    }
    #expect(queue.isEmpty && queue.nextArrival == nil)
}
