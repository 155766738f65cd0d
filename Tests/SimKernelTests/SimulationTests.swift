import Testing
import Foundation
@testable import SimKernel

/// A toy model: each "tick" event of source k schedules the next one after a random delay, and
/// every tenth tick schedules a burst of same-instant events. Enough ties and interleaving to
/// expose any ordering difference between runs.
struct TickModel: DiscreteEventModel {
    enum Event: TraceableEvent {
        case tick(source: Int)
        case burst(source: Int, index: Int)
        var traceCode: UInt64 {
            switch self {
            case .tick(let s): UInt64(s) << 8 | 1
            case .burst(let s, let i): UInt64(s) << 8 | UInt64(i) << 32 | 2
            }
        }
    }
    var streams: [RandomStream]
    var ticks = 0
    var limit: Int

    init(seed: UInt64, sources: [String], limit: Int) {
        let rs = RandomStreams(seed: seed)
        // Components are kept in name order, as every model in Rehearse keeps them, so the order
        // in which a caller lists or creates them cannot reach the schedule.
        streams = sources.sorted().map { rs.stream($0) }
        self.limit = limit
    }

    mutating func handle(_ event: Event, scheduler: inout EventScheduler<Event>) {
        switch event {
        case .tick(let s):
            ticks += 1
            guard ticks < limit else { return }
            let delay = SimTime(nanoseconds: Int64(streams[s].below(1_000)) * 1_000_000)
            scheduler.schedule(after: delay, .tick(source: s))
            if ticks % 10 == 0 {
                for i in 0..<3 { scheduler.schedule(after: delay, .burst(source: s, index: i)) }
            }
        case .burst:
            break
        }
    }
}

@Suite struct SimulationTests {
    static func digest(seed: UInt64, sources: [String], chunks: Int = 1) -> UInt64 {
        var sim = Simulation(model: TickModel(seed: seed, sources: sources, limit: 20_000))
        for s in sources.indices { sim.schedule(at: .zero, .tick(source: s)) }
        var observer = TraceDigest<TickModel.Event>()
        if chunks == 1 {
            sim.run(observer: &observer)
        } else {
            // Chunk boundaries land on event times (multiples of 1 ms) and between them.
            var t = SimTime.zero
            while sim.run(until: t, observer: &observer) != .drained { t = t + SimTime(nanoseconds: 7_000_000) }
        }
        return observer.value
    }

    @Test func sameSeedGivesBitIdenticalTrace() {
        let a = Self.digest(seed: 99, sources: ["gitaly-1", "gitaly-2", "praefect"])
        let b = Self.digest(seed: 99, sources: ["gitaly-1", "gitaly-2", "praefect"])
        #expect(a == b)
        #expect(a != Self.digest(seed: 100, sources: ["gitaly-1", "gitaly-2", "praefect"]))
    }

    @Test func creationOrderOfComponentsDoesNotChangeTheTrace() {
        let a = Self.digest(seed: 17, sources: ["gitaly-1", "gitaly-2", "praefect"])
        let b = Self.digest(seed: 17, sources: ["praefect", "gitaly-1", "gitaly-2"])
        #expect(a == b)
    }

    @Test func runningInChunksGivesTheSameTraceAsOneRun() {
        #expect(Self.digest(seed: 5, sources: ["a", "b"], chunks: 50) == Self.digest(seed: 5, sources: ["a", "b"]))
    }

    /// Streams are derived by name, so creating components in another order changes nothing.
    @Test func componentCreationOrderDoesNotChangeDraws() {
        let rs = RandomStreams(seed: 2024)
        var forward = ["gitaly-1", "gitaly-2", "praefect"].map { rs.stream($0) }
        var backward = ["praefect", "gitaly-2", "gitaly-1"].map { rs.stream($0) }
        for _ in 0..<1_000 {
            #expect(forward[0].next() == backward[2].next())
            #expect(forward[1].next() == backward[1].next())
            #expect(forward[2].next() == backward[0].next())
        }
    }

    @Test func addingAComponentLeavesOtherStreamsUnchanged() {
        let before = RandomStreams(seed: 3, replication: 1)
        var a = before.stream("gitaly-1")
        _ = before.stream("new-component")
        var b = RandomStreams(seed: 3, replication: 1).stream("gitaly-1")
        for _ in 0..<100 { #expect(a.next() == b.next()) }
        var otherReplication = RandomStreams(seed: 3, replication: 2).stream("gitaly-1")
        var c = RandomStreams(seed: 3, replication: 1).stream("gitaly-1")
        #expect((0..<4).map { _ in otherReplication.next() } != (0..<4).map { _ in c.next() })
    }

    @Test func timeLimitStopsBeforeLaterEventsAndAdvancesClock() {
        var sim = Simulation(model: TickModel(seed: 1, sources: ["a"], limit: 5))
        sim.schedule(at: .seconds(10), .tick(source: 0))
        #expect(sim.run(until: .seconds(4)) == .timeLimit)
        #expect(sim.now == .seconds(4))
        #expect(sim.eventsProcessed == 0)
        #expect(sim.run(maxEvents: 1) == .eventLimit)
        #expect(sim.now == .seconds(10))
    }
}

@Suite struct RandomStreamTests {
    /// Goal: an exponential time with a mean of a century (a fault's MTBF at the longest a
    /// model accepts) never overflows simulated time; a draw past the cap (146 years) is the
    /// cap, and the rest are unchanged. Method: 20,000 draws with a mean of 100 years; by hand
    /// P(draw > 146.2 years) = exp(−146.2 / 100) = 0.232, so about 4,640 land on the cap
    /// (binomial sd 60: within ±300), and the draws below it keep the exponential's shape:
    /// P(draw < 50 years) = 1 − exp(−0.5) = 0.393 (±0.02).
    @Test func exponentialTimeWithACenturysMeanStopsAtTheCap() {
        var r = RandomStream(seed: 11)
        let mean = SimTime.hours(100 * 8766)
        let cap = RandomStream.exponentialTimeCap
        var capped = 0, belowHalf = 0
        for _ in 0..<20_000 {
            let t = r.exponentialTime(mean: mean)
            #expect(t >= .zero && t <= cap)
            if t == cap { capped += 1 }
            if t < .hours(50 * 8766) { belowHalf += 1 }
        }
        #expect(abs(Double(capped) - 20_000 * exp(-cap.seconds / mean.seconds)) < 300, "\(capped) draws at the cap")
        #expect(abs(Double(belowHalf) / 20_000 - (1 - exp(-0.5))) < 0.02)
        #expect(cap + cap > cap, "the cap can be added to an instant below it without overflow")
    }

    /// SplitMix64 from state 0: the first outputs of Vigna's reference splitmix64.c.
    @Test func splitMixMatchesReferenceVector() {
        var s = SplitMix64(state: 0)
        #expect(s.next() == 0xE220_A839_7B1D_CDAF)
        #expect(s.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    /// xoshiro256** from state {1, 2, 3, 4}: the first outputs of the reference xoshiro256starstar.c.
    @Test func xoshiroMatchesReferenceVector() {
        var r = RandomStream(state: (1, 2, 3, 4))
        #expect(r.next() == 11520)
        #expect(r.next() == 0)
        #expect(r.next() == 1_509_978_240)
        #expect(r.next() == 1_215_971_899_390_074_240)
    }

    /// below(n) is uniform: Pearson chi-square over 10 cells, 9 degrees of freedom; the 0.999
    /// quantile of chi-square(9) is 27.88.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func belowIsUniform(seed: UInt64) {
        var r = RandomStream(seed: seed)
        var cells = [Int](repeating: 0, count: 10)
        let n = 100_000
        for _ in 0..<n { cells[r.below(10)] += 1 }
        let expected = Double(n) / 10
        let chi2 = cells.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chi2 < 27.88, "seed \(seed): chi-square \(chi2)")
    }

    @Test func exponentialHasTheRightMean() {
        var r = RandomStream(seed: 8)
        var t = Tally()
        for _ in 0..<200_000 { t.add(r.exponential(rate: 4)) }
        // Mean 1/4, standard deviation 1/4: the standard error is 0.25/sqrt(n).
        #expect(abs(t.mean - 0.25) < 5 * 0.25 / 200_000.0.squareRoot())
        #expect(abs(t.variance - 0.0625) < 0.002)
    }
}
