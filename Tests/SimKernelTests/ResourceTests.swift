import Testing
@testable import SimKernel

@Suite struct ServerTests {
    /// Hand-built: 2 slots, room for 1 waiting. The third arrival waits, the fourth is turned
    /// away as Gitaly's limiter does at max_queue_size.
    @Test func admitsQueuesAndRejectsLikeAConcurrencyLimiter() {
        var s = Server<String>(servers: 2, queueLimit: 1)
        #expect(s.arrive("a", at: .zero) == .started)
        #expect(s.arrive("b", at: .zero) == .started)
        #expect(s.arrive("c", at: .seconds(1)) == .queued(ticket: 0))
        #expect(s.arrive("d", at: .seconds(1)) == .rejected(.queueFull))
        let next = s.release(at: .seconds(3))!
        #expect(next.job == "c" && next.waited == .seconds(2))
        #expect(s.release(at: .seconds(4)) == nil)
        #expect(s.busy == 1 && s.rejectedQueueFull == 1)
    }

    /// A timeout removes the job only while it still waits (Gitaly's max_queue_wait).
    @Test func abandonRemovesOnlyStillWaitingJobs() {
        var s = Server<Int>(servers: 1, maxQueueWait: .seconds(1))
        _ = s.arrive(0, at: .zero)
        guard case .queued(let t1) = s.arrive(1, at: .zero), case .queued(let t2) = s.arrive(2, at: .milliseconds(500)) else {
            Issue.record("expected both to queue"); return
        }
        // Job 1 times out at 1 s while still waiting.
        #expect(s.abandon(ticket: t1) == 1)
        // Job 2 gets the slot at 1.2 s, so its timeout at 1.5 s finds nothing.
        #expect(s.release(at: .milliseconds(1_200))?.job == 2)
        #expect(s.abandon(ticket: t2) == nil)
        #expect(s.rejectedWaitedTooLong == 1)
    }
}

@Suite struct BandwidthPoolTests {
    /// Drives a pool the way a model does: jump to each completion and collect finished flows.
    static func completions(_ pool: inout BandwidthPool) -> [(BandwidthPool.FlowID, SimTime)] {
        var out: [(BandwidthPool.FlowID, SimTime)] = []
        while let (t, _) = pool.nextCompletion() {
            for id in pool.finishDue(at: t) { out.append((id, t)) }
        }
        return out
    }

    @Test func transferThroughBottleneckLastsBytesOverRate() {
        var pool = BandwidthPool()
        let disk = pool.addResource(named: "disk", bytesPerSecond: 400e6)
        let link = pool.addResource(named: "link", bytesPerSecond: 125e6)
        let f = pool.start(bytes: 10e9, through: [disk, link], at: .zero)
        #expect(pool.rate(of: f) == 125e6)
        let done = Self.completions(&pool)
        #expect(done.count == 1)
        // 10 GB / 125 MB/s = 80 s, to the nanosecond.
        #expect(abs(done[0].1.nanoseconds - 80_000_000_000) <= 1)
    }

    /// Two flows on one 100 MB/s disk: 100 MB and 200 MB. Both run at 50 MB/s until the first
    /// finishes at 2 s; the second then has 100 MB left at 100 MB/s and finishes at 3 s.
    @Test func twoFlowsOnOneDiskFinishAsMaxMinPredicts() {
        var pool = BandwidthPool()
        let disk = pool.addResource(named: "disk", bytesPerSecond: 100e6)
        let a = pool.start(bytes: 100e6, through: [disk], at: .zero)
        let b = pool.start(bytes: 200e6, through: [disk], at: .zero)
        let done = Self.completions(&pool)
        #expect(done.map(\.0) == [a, b])
        #expect(abs(done[0].1.nanoseconds - 2_000_000_000) <= 1)
        #expect(abs(done[1].1.nanoseconds - 3_000_000_000) <= 1)
    }

    /// Capacity 100 shared by a flow capped at 10 and two uncapped flows: 10, 45, 45.
    @Test func cappedFlowLeavesItsShareToOthers() {
        var pool = BandwidthPool()
        let r = pool.addResource(named: "net", bytesPerSecond: 100)
        let capped = pool.start(bytes: 1e9, through: [r], capBytesPerSecond: 10, at: .zero)
        let x = pool.start(bytes: 1e9, through: [r], at: .zero)
        let y = pool.start(bytes: 1e9, through: [r], at: .zero)
        #expect(pool.rate(of: capped) == 10)
        #expect(abs(pool.rate(of: x)! - 45) < 1e-9 && abs(pool.rate(of: y)! - 45) < 1e-9)
    }

    /// Hand case over two resources: X = 10, Y = 4; flow 1 uses X, flow 2 uses X and Y, flow 3
    /// uses Y. Y is the bottleneck for flows 2 and 3 (2 each); flow 1 takes the rest of X, 8.
    @Test func progressiveFillingAcrossTwoResources() {
        var pool = BandwidthPool()
        let x = pool.addResource(named: "X", bytesPerSecond: 10)
        let y = pool.addResource(named: "Y", bytesPerSecond: 4)
        let f1 = pool.start(bytes: 1e6, through: [x], at: .zero)
        let f2 = pool.start(bytes: 1e6, through: [x, y], at: .zero)
        let f3 = pool.start(bytes: 1e6, through: [y], at: .zero)
        #expect(abs(pool.rate(of: f1)! - 8) < 1e-9)
        #expect(abs(pool.rate(of: f2)! - 2) < 1e-9)
        #expect(abs(pool.rate(of: f3)! - 2) < 1e-9)
        #expect(abs(pool.utilisation(x) - 1) < 1e-9 && abs(pool.utilisation(y) - 1) < 1e-9)
    }

    /// A disk that halves its speed halfway through: 100 MB at 100 MB/s for 0.5 s (50 MB), then
    /// 50 MB at 50 MB/s takes 1 s more: done at 1.5 s. The old completion event goes stale.
    @Test func capacityChangeRetimesCompletion() {
        var pool = BandwidthPool()
        let disk = pool.addResource(named: "disk", bytesPerSecond: 100e6)
        _ = pool.start(bytes: 100e6, through: [disk], at: .zero)
        let (_, oldVersion) = pool.nextCompletion()!
        pool.setCapacity(disk, bytesPerSecond: 50e6, at: .milliseconds(500))
        let (t, v) = pool.nextCompletion()!
        #expect(v != oldVersion)
        #expect(abs(t.nanoseconds - 1_500_000_000) <= 1)
        #expect(abs(pool.bytesThrough(disk) - 50e6) < 1)
    }

    @Test func cancelledFlowReportsRemainingBytes() {
        var pool = BandwidthPool()
        let disk = pool.addResource(named: "disk", bytesPerSecond: 10)
        let f = pool.start(bytes: 100, through: [disk], at: .zero)
        #expect(abs(pool.cancel(f, at: .seconds(3)) - 70) < 1e-9)
        #expect(!pool.isActive(f))
        #expect(pool.nextCompletion() == nil)
    }

    /// Goal: after any sequence of starts, cancels, capacity changes and completions the rates
    /// are max-min fair, whichever part of the pool a change recomputed. Independent truth: the
    /// bottleneck characterisation (Bertsekas and Gallager, "Data Networks", 6.5.2, Prop. 1):
    /// rates are max-min fair exactly when they are feasible and every flow is at its cap or
    /// crosses a saturated resource on which no flow runs faster. Method: 200 random pools (up to
    /// 12 resources, some of capacity 0; flows over 1–3 of them, a third capped), 60 changes
    /// each, the condition checked after every change against every flow.
    @Test func ratesStayMaxMinFairThroughRandomChanges() {
        var random = RandomStream(seed: 20_261_130)
        func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        for _ in 0..<200 {
            var pool = BandwidthPool()
            let resourceCount = 1 + below(12)
            let resources = (0..<resourceCount).map { i in
                pool.addResource(named: "r\(i)", bytesPerSecond: below(8) == 0 ? 0 : Double(1 + below(1_000)))
            }
            var live: [(id: BandwidthPool.FlowID, through: [Int], cap: Double)] = []
            var now = SimTime.zero
            for _ in 0..<60 {
                now = now + .milliseconds(Double(1 + below(500)))
                switch below(10) {
                case 0..<5:
                    var through = Set<Int>()
                    for _ in 0..<(1 + below(3)) { through.insert(below(resourceCount)) }
                    let order = through.sorted()
                    let cap = below(3) == 0 ? Double(1 + below(300)) : .infinity
                    let id = pool.start(bytes: Double(1 + below(10_000)), through: order.map { resources[$0] }, capBytesPerSecond: cap, at: now)
                    live.append((id, order, cap))
                case 5..<7 where !live.isEmpty:
                    pool.cancel(live.remove(at: below(live.count)).id, at: now)
                case 7:
                    pool.setCapacity(resources[below(resourceCount)], bytesPerSecond: Double(below(1_000)), at: now)
                default:
                    if let next = pool.nextCompletion(), next.time <= now + .seconds(5) {
                        let done = Set(pool.finishDue(at: next.time))
                        now = next.time
                        live.removeAll { done.contains($0.id) }
                    }
                }
                var used = [Double](repeating: 0, count: resourceCount)
                var fastest = [Double](repeating: 0, count: resourceCount)
                for f in live {
                    let rate = pool.rate(of: f.id)!
                    for r in f.through { used[r] += rate; fastest[r] = max(fastest[r], rate) }
                }
                let tolerance = 1e-9
                for r in 0..<resourceCount {
                    #expect(used[r] <= pool.capacities[r] * (1 + tolerance) + tolerance, "resource \(r) over capacity")
                }
                for f in live {
                    let rate = pool.rate(of: f.id)!
                    let atCap = rate >= f.cap * (1 - tolerance)
                    let bottlenecked = f.through.contains { r in
                        used[r] >= pool.capacities[r] * (1 - tolerance) - tolerance && rate >= fastest[r] * (1 - tolerance) - tolerance
                    }
                    #expect(atCap || bottlenecked, "flow \(f.id) at \(rate) is neither capped nor bottlenecked")
                    #expect(rate <= f.cap * (1 + tolerance))
                }
            }
        }
    }
    /// Goal: draining lazily (a flow brought up to date only when its rate changes or it ends)
    /// moves the bytes that draining every flow at every change moves. Independent truth: the
    /// test integrates each flow itself, at the rates the pool reports, between changes.
    /// Method: 100 random pools (1–6 resources, flows over 1–2 of them, a third capped), 80
    /// changes each (starts, cancels, capacity changes) with every completion in between: each
    /// finished flow has drained by the integral, a cancelled one hands back what the integral
    /// leaves, an unfinished one has what it leaves, and each resource has carried its flows'
    /// integrals.
    @Test func lazyDrainingAgreesWithAnEagerIntegral() {
        var random = RandomStream(seed: 20_261_201)
        func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-6 * max(1, abs(b)) }
        for _ in 0..<100 {
            var pool = BandwidthPool()
            let count = 1 + below(6)
            let resources = (0..<count).map { pool.addResource(named: "r\($0)", bytesPerSecond: Double(100 + below(1_000))) }
            var live: [(id: BandwidthPool.FlowID, through: [Int], bytes: Double, moved: Double, rate: Double)] = []
            var carried = [Double](repeating: 0, count: count)
            var now = SimTime.zero
            func drain(to t: SimTime) {
                let dt = (t - now).seconds
                for i in live.indices {
                    let m = min(live[i].bytes - live[i].moved, live[i].rate * dt)
                    live[i].moved += m
                    for r in live[i].through { carried[r] += m }
                }
                now = t
            }
            func readRates() { for i in live.indices { live[i].rate = pool.rate(of: live[i].id)! } }
            for _ in 0..<80 {
                let t = now + .milliseconds(Double(1 + below(2_000)))
                while let next = pool.nextCompletion(), next.time <= t {
                    drain(to: next.time)
                    let done = Set(pool.finishDue(at: next.time))
                    for f in live where done.contains(f.id) { #expect(close(f.moved, f.bytes), "finished with \(f.bytes - f.moved) left") }
                    live.removeAll { done.contains($0.id) }
                    readRates()
                }
                drain(to: t)
                switch below(4) {
                case 0, 1:
                    let through = below(3) == 0 && count > 1 ? [0, 1 + below(count - 1)] : [below(count)]
                    let bytes = Double(1 + below(5_000))
                    let cap = below(3) == 0 ? Double(1 + below(300)) : .infinity
                    let id = pool.start(bytes: bytes, through: through.map { resources[$0] }, capBytesPerSecond: cap, at: t)
                    live.append((id, through, bytes, 0, 0))
                case 2 where !live.isEmpty:
                    let f = live.remove(at: below(live.count))
                    #expect(close(pool.cancel(f.id, at: t), f.bytes - f.moved))
                default:
                    pool.setCapacity(resources[below(count)], bytesPerSecond: Double(50 + below(1_000)), at: t)
                }
                readRates()
                pool.advance(to: t)
                for f in live { #expect(close(pool.remaining(of: f.id)!, f.bytes - f.moved)) }
                for r in 0..<count { #expect(close(pool.bytesThrough(resources[r]), carried[r]), "resource \(r)") }
            }
        }
    }
}
