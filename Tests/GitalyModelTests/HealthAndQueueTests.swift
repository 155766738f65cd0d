import Testing
import SimKernel
@testable import GitalyModel

@Test func consensusNeedsHalfOfActivePraefectsWithinTenSeconds() {
    var h = HealthView(praefects: 3, nodes: 1)
    let t0 = SimTime.seconds(100)
    h.recordCheck(praefect: 0, node: 0, at: t0, healthy: true)
    h.recordCheck(praefect: 1, node: 0, at: t0, healthy: false)
    h.recordCheck(praefect: 2, node: 0, at: t0, healthy: false)
    // 3 active Praefects: ⌈3/2⌉ = 2 must have seen the node; only one did.
    #expect(!h.consensusHealthy(node: 0, at: t0))
    h.recordCheck(praefect: 1, node: 0, at: t0, healthy: true)
    #expect(h.consensusHealthy(node: 0, at: t0))
    // Seen at t0, unseen since: healthy at t0+10 s, not after.
    #expect(h.consensusHealthy(node: 0, at: t0 + .seconds(10)))
    #expect(!h.consensusHealthy(node: 0, at: t0 + .seconds(11)))
}

@Test func praefectsSilentForAMinuteLeaveTheQuorum() {
    var h = HealthView(praefects: 3, nodes: 1)
    // Praefects 1 and 2 went silent at t = 0; Praefect 0 keeps checking and sees the node.
    h.recordCheck(praefect: 1, node: 0, at: .zero, healthy: false)
    h.recordCheck(praefect: 2, node: 0, at: .zero, healthy: false)
    // At 59 s all three still count as active, so one sighting is below ⌈3/2⌉ = 2.
    h.recordCheck(praefect: 0, node: 0, at: .seconds(59), healthy: true)
    #expect(!h.consensusHealthy(node: 0, at: .seconds(59)))
    // At 61 s only Praefect 0 is active: ⌈1/2⌉ = 1 sighting suffices.
    h.recordCheck(praefect: 0, node: 0, at: .seconds(61), healthy: true)
    #expect(h.consensusHealthy(node: 0, at: .seconds(61)))
}

@Test func enqueueDeduplicatesReadyJobs() {
    var q = ReplicationQueue()
    #expect(q.enqueue(repository: 7, virtualStorage: 0, source: 0, target: 1, change: .update, at: .zero) != nil)
    #expect(q.enqueue(repository: 7, virtualStorage: 0, source: 0, target: 1, change: .update, at: .seconds(1)) == nil)
    #expect(q.enqueue(repository: 7, virtualStorage: 0, source: 0, target: 2, change: .update, at: .seconds(1)) != nil)
    #expect(q.count == 2)
}

@Test func dequeueTakesBatchesOfTenOldestFirst() {
    var q = ReplicationQueue()
    for r in 0..<25 { q.enqueue(repository: r, virtualStorage: 0, source: 0, target: 1, change: .update, at: .seconds(Double(r))) }
    let first = q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(30))
    #expect(first.map { q.job($0)!.repository } == Array(0..<10))
    #expect(first.allSatisfy { q.job($0)!.attemptsLeft == 2 })
    let second = q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(30))
    #expect(second.map { q.job($0)!.repository } == Array(10..<20))
}

@Test func jobDiesAfterThreeFailedAttempts() {
    var q = ReplicationQueue()
    q.enqueue(repository: 1, virtualStorage: 0, source: 0, target: 1, change: .update, at: .zero)
    for attempt in 1...3 {
        let jobs = q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(Double(attempt)))
        #expect(jobs.count == 1, "attempt \(attempt)")
        q.acknowledge(jobs[0], success: false)
    }
    #expect(q.count == 0 && q.deadJobs == 1)
    #expect(q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(9)).isEmpty)
}

@Test func lockedRepositoryIsNotDequeuedTwice() {
    var q = ReplicationQueue()
    q.enqueue(repository: 1, virtualStorage: 0, source: 0, target: 1, change: .update, at: .zero)
    let a = q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(1))
    q.enqueue(repository: 1, virtualStorage: 0, source: 0, target: 1, change: .update, at: .seconds(2))
    #expect(q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(3)).isEmpty, "the repository lock is held")
    q.acknowledge(a[0], success: true)
    #expect(q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(4)).count == 1)
}

/// Collapsing (gitaly `datastore/queue.go`, Acknowledge): a failed job retried later completes
/// every ready job of the same lock, change and source created before its retry began.
@Test func successCollapsesOlderReadyJobs() {
    var q = ReplicationQueue()
    q.enqueue(repository: 1, virtualStorage: 0, source: 0, target: 1, change: .update, at: .zero)
    let a = q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(1))
    q.acknowledge(a[0], success: false)
    q.enqueue(repository: 1, virtualStorage: 0, source: 0, target: 1, change: .update, at: .seconds(2))
    q.enqueue(repository: 1, virtualStorage: 0, source: 2, target: 1, change: .update, at: .seconds(2))
    #expect(q.count == 2, "the failed job and one ready job: the second ready job is deduplicated whatever its source")
    let retry = q.dequeue(virtualStorage: 0, target: 1, limit: 10, at: .seconds(3))
    #expect(retry == a, "the older failed job is the (lock, change) candidate")
    #expect(q.acknowledge(retry[0], success: true) == 2)
    #expect(q.collapsed == 1)
    #expect(q.count == 0)
}

@Test func idleTargetBacksOffOneTwoFourFiveSeconds() {
    var spec = PraefectSpec(instances: [PraefectInstanceSpec(name: "p")], virtualStorages: [])
    spec.replication = ReplicationSpec()
    var p = Praefect(spec: spec, memberNodes: [[0]], nodes: 1)
    p.health.markAllHealthy(at: .zero)
    _ = p.refreshMasks(at: .zero)
    var now = SimTime.zero
    var waits: [Double] = []
    for _ in 0..<5 {
        #expect(p.workerStep(praefect: 0, virtualStorage: 0, at: now) == nil)
        let next = p.nextWorkerWake(praefect: 0, virtualStorage: 0, now: now)
        waits.append((next - now).seconds)
        now = next
    }
    #expect(waits == [1, 2, 4, 5, 5])
    // Work resets the backoff. While its batch runs the target is out of the queue; done, it
    // re-enters at once and, idle again, backs off from 1 s.
    p.queue.enqueue(repository: 0, virtualStorage: 0, source: 0, target: 0, change: .update, at: now)
    #expect(p.workerStep(praefect: 0, virtualStorage: 0, at: now)?.jobs.count == 1)
    #expect(p.workerStep(praefect: 0, virtualStorage: 0, at: now) == nil)
    #expect(p.nextWorkerWake(praefect: 0, virtualStorage: 0, now: now) == .max, "the busy target waits for its batch")
    p.targetDone(praefect: 0, virtualStorage: 0, target: 0)
    #expect(p.workerStep(praefect: 0, virtualStorage: 0, at: now) == nil)
    #expect(p.nextWorkerWake(praefect: 0, virtualStorage: 0, now: now) - now == .seconds(1))
}
