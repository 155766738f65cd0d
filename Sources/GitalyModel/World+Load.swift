import Foundation
import SimKernel

/// The world's side of a `BackgroundLoad`: where the calls go, what they keep busy, and what
/// monitoring would have seen of them.
struct LoadState {
    let spec: BackgroundLoad
    /// Per stream, the figures the per-window sums read, with no arrays in them: the sums run
    /// over every storage and stream at each window's close, and copying a `Stream` (its rates
    /// and two laws' tables) there cost a fifth of a GitLab.com-scale run in reference counts.
    let figures: [StreamFigures]
    /// Calls per second over the whole fleet: row the hour of the week, column the stream.
    let rates: FlatTable<Double>
    /// Per GitLab storage: the share of all calls that go to its repositories now. A
    /// repository's share moves with it when its move switches.
    var mass: [Double]
    /// Σ of the popularity weights over all ranks: a repository's share is its weights over it.
    let normaliser: Double
    /// The repositories the ranks were dealt over (a repository created later gets no calls,
    /// as synthetic traffic fixes its count at the start).
    let repositoryCount: Int
    /// Per repository, who simulates its calls one by one instead of the load: `LoadState.always`
    /// (an RPC-level storage's), the in-flight move whose calls they are (`World.inFlightCall`),
    /// or `LoadState.nobody`. Empty when the load carries every repository's calls.
    var rpcOwner: [Int32]
    static let nobody: Int32 = -1
    static let always: Int32 = -2
    /// The calls to repositories in flight (`World.inFlightCall`): a substream per move and draw.
    let inFlightRandom: RandomStream
    /// The load's calls up to here are in the windows (`World.accrueLoad`).
    var accruedUntil = SimTime.zero
    /// What the node figures were computed for: the hour of the week (−1: never) and whether
    /// the load carried the traffic then; a switch since sets `moved`. A window's close
    /// recomputes them only when one of these changed (nodes going down or up recompute at once).
    var hour = -1
    var carried = false
    var moved = false
    /// Per node: cores, and disk users reading and writing, busy with the load's calls
    /// (Little's law, L = λ·E[S], with the service unstretched).
    var busyCores: [Double]
    var diskReaders: [Double]
    var diskWriters: [Double]
    /// Per node: the load's calls served and failed so far, expected counts (a canary's
    /// analysis reads them beside the calls simulated one by one).
    var served: [Double]
    var failed: [Double]
    /// Per node and stream: a call's chances to meet the apdex thresholds and the deadline,
    /// with the stretch, I/O seconds and release factor they were computed for.
    var chances: FlatTable<ServiceChances>
    /// The writes found in progress when a move is scheduled (`World.loadWritesInProgress`).
    let writesRandom: RandomStream
    /// The counts a window shows, drawn around their expectations (`World.drawLoadWindow`).
    var windowRandom: RandomStream

    /// A Poisson draw of mean `mean`: by inversion below a mean of 30, else the normal
    /// approximation N(mean, mean) rounded (Box–Muller, two uniforms), whose error in a
    /// window's ratio is far below its own spread at such counts.
    static func poisson(_ mean: Double, _ random: inout RandomStream) -> Double {
        guard mean > 0 else { return 0 }
        if mean < 30 {
            let u = random.nextDouble()
            var k = 0, p = exp(-mean), cumulative = p
            while u >= cumulative && k < 1000 { k += 1; p *= mean / Double(k); cumulative += p }
            return Double(k)
        }
        let z = (-2 * log(random.nextOpenUnit())).squareRoot() * cos(2 * Double.pi * random.nextDouble())
        return max(0, (mean + mean.squareRoot() * z).rounded())
    }

    /// E[f(J)] for J ~ Poisson(mean): a load's calls in service on a node are Poisson in
    /// number (the M/G/∞ queue in equilibrium, any service law; Ross, "Stochastic Processes",
    /// 2nd ed., §2.3), and what a copy or a call gets beside them is an average over that
    /// number, not its value at the mean (k/(k + J) is convex, so the mean would shortchange
    /// the copies). Past a mean of 400 the spread (√mean) is too small to matter and f(mean)
    /// stands for it; otherwise the sum stops once the mass left is under 1e-12.
    static func expectation(mean: Double, _ f: (Int) -> Double) -> Double {
        PoissonTerms(mean: mean).expected(f)
    }

    /// Per node, the Poisson terms of the load's disk readers, disk writers and busy cores, as
    /// of its figures' last change (`figuresChanged`).
    var readerTerms: [PoissonTerms]
    var writerTerms: [PoissonTerms]
    var busyTerms: [PoissonTerms]
    /// Per node, what flows and calls get beside the load's Poisson numbers (`Expected`), for
    /// s = 0 ..< `tabulated` of their own: one row per node, `tabulated` columns per
    /// expectation. An entry is worked out from the node's terms when first read after its
    /// figures changed (NaN until then), so a flow starting or ending reads a table instead of
    /// summing a Poisson series, and a window's close sums nothing: a drain reads a few entries
    /// of a row between two windows, where working out all 96 of every node's at each window
    /// was 4% of a GitLab.com-scale drain (`perf`, BENCHMARKS.md).
    var expectations: FlatTable<Double>
    /// Columns kept per expectation. s counts a node's own copies and calls: a drain puts at
    /// most 10 copies on a source (gitalyctl's per-storage concurrency, PRAEFECT.md §9) and a
    /// few on a destination, so 24 cover them; above it a look-up sums the series itself, to
    /// the same bits.
    static let tabulated = 24

    /// What a flow or a call gets on a node beside the load's Poisson number J, for s of its
    /// own (s = flows + calls on the disk, or calls + copies on the cores).
    enum Expected: Int, CaseIterable {
        /// E[1/(s + J)] over the disk's readers.
        case readerInverse
        /// E[1/(s + J)] over the disk's writers.
        case writerInverse
        /// E[min(1, c/(s + J))] over the busy cores, c the node's cores.
        case coreShare
        /// E[max(1, (s + J)/c)] over the busy cores.
        case coreStretch
    }

    /// Node `n`'s figures changed: its terms are worked out again, and its entries when read.
    /// The terms and where they stop do not depend on f or s, so they are worked out once per
    /// mean and not once per entry.
    mutating func figuresChanged(node n: Int) {
        readerTerms[n].reset(mean: diskReaders[n])
        writerTerms[n].reset(mean: diskWriters[n])
        busyTerms[n].reset(mean: busyCores[n])
        for column in 0..<expectations.columns { expectations[n, column] = .nan }
    }

    /// `e` on node `n` (of `cores` cores) for s of its own: from the node's row when s is
    /// within it (worked out there on its first read), else summed.
    mutating func expected(_ e: Expected, node n: Int, _ s: Int, cores: Int) -> Double {
        let column = e.rawValue &* Self.tabulated &+ s
        if s < Self.tabulated {
            let kept = expectations[n, column]
            if !kept.isNaN { return kept }
        }
        let value = switch e {
        case .readerInverse: Self.expected(e, s, cores: cores, over: readerTerms[n])
        case .writerInverse: Self.expected(e, s, cores: cores, over: writerTerms[n])
        case .coreShare, .coreStretch: Self.expected(e, s, cores: cores, over: busyTerms[n])
        }
        if s < Self.tabulated { expectations[n, column] = value }
        return value
    }

    /// E[f(s + J)] for `e`'s f over `terms`, J's terms.
    static func expected(_ e: Expected, _ s: Int, cores: Int, over terms: PoissonTerms) -> Double {
        let c = Double(cores)
        // s = 0 is never read for the inverse (a flow counts itself); 1/0 stays out of the sums.
        return switch e {
        case .readerInverse, .writerInverse: terms.expected { let j = s + $0; return j == 0 ? 0 : 1 / Double(j) }
        case .coreShare: terms.expected { let j = s + $0; return j == 0 ? 1 : min(1, c / Double(j)) }
        case .coreStretch: terms.expected { max(1, Double(s + $0) / c) }
        }
    }

    /// The state of a world without a load (`World.hasLoad` false): nothing reads it.
    static let empty = LoadState(
        spec: BackgroundLoad(streams: []), figures: [], rates: FlatTable(rows: 0, columns: 0, repeating: 0), mass: [], normaliser: 1,
        repositoryCount: 0, rpcOwner: [], inFlightRandom: RandomStream(seed: 0), busyCores: [], diskReaders: [], diskWriters: [],
        served: [], failed: [], chances: FlatTable(rows: 0, columns: 0, repeating: ServiceChances()), writesRandom: RandomStream(seed: 0),
        windowRandom: RandomStream(seed: 0), readerTerms: [], writerTerms: [], busyTerms: [], expectations: expectationTable(nodes: 0))

    /// A table of expectations for `nodes` nodes, none worked out yet.
    static func expectationTable(nodes: Int) -> FlatTable<Double> {
        FlatTable(rows: nodes, columns: Expected.allCases.count * tabulated, repeating: .nan)
    }

    /// The Poisson probabilities `expectation` sums over for `mean`, and their total: none for
    /// the means it does not sum (0, or above 400).
    struct PoissonTerms {
        private(set) var mean = 0.0
        private(set) var probabilities: [Double] = []
        private(set) var mass = 0.0

        init(mean: Double) { reset(mean: mean) }

        /// The terms for `mean`, worked out again in the storage already held: a node's terms
        /// change at every window, and a fresh list each time was a third of working them out.
        mutating func reset(mean: Double) {
            self.mean = mean
            probabilities.removeAll(keepingCapacity: true)
            mass = 0
            guard mean > 0 && mean <= 400 else { return }
            var p = exp(-mean), j = 0
            while true {
                probabilities.append(p)
                mass += p
                if mass > 1 - 1e-12 || (Double(j) > mean && p < 1e-15) { break }
                j += 1
                p *= mean / Double(j)
            }
        }

        /// E[f(J)] as `expectation` defines it: f(0) for a mean of 0, f(mean) past 400.
        func expected(_ f: (Int) -> Double) -> Double {
            guard !probabilities.isEmpty else { return mean > 0 ? f(Int(mean.rounded())) : f(0) }
            var sum = 0.0
            for j in probabilities.indices { sum += probabilities[j] * f(j) }
            return sum / mass
        }
    }

    /// What the sums read of a stream (`figures`).
    struct StreamFigures {
        let rpcClass: RPCClass
        /// The mean CPU seconds of a call, nil when the stream has no CPU law (the call takes
        /// its duration as it is).
        let cpuMean: Double?
        let durationMean: Double
        let bytesRead: Double?
        let bytesWritten: Double?

        init(_ stream: BackgroundLoad.Stream) {
            rpcClass = stream.rpcClass; cpuMean = stream.cpu?.mean; durationMean = stream.duration.mean
            bytesRead = stream.bytesRead; bytesWritten = stream.bytesWritten
        }
    }

    struct ServiceChances {
        var stretch = -1.0, io = -1.0, factor = -1.0
        var satisfied = 0.0, tolerated = 0.0, inTime = 1.0
    }
}

extension World {
    /// Sets the load up once the repositories are placed: each storage's share of the calls.
    /// O(repositories + popularity ranks), once.
    static func makeLoad(_ spec: BackgroundLoad, _ world: World, streams: RandomStreams) -> LoadState {
        let n = world.repositories.count
        var mass = [Double](repeating: 0, count: world.fleet.virtualStorages.count)
        var normaliser = 1.0
        let ranks = n > 0 ? spec.popularity.ranks(repositories: n) : 0
        // The repositories whose calls are simulated one by one carry no load, wherever they go.
        var rpcOwner: [Int32] = []
        switch spec.rpcPart {
        case .storages(let listed):
            var storages = [Bool](repeating: false, count: mass.count)
            for vs in listed { storages[vs] = true }
            rpcOwner = world.repositories.map { storages[$0.virtualStorage] ? LoadState.always : LoadState.nobody }
        case .inFlight:
            rpcOwner = [Int32](repeating: LoadState.nobody, count: n)
        case .window, nil:
            break
        }
        if ranks > 0 {
            normaliser = 0
            for k in 1...ranks {
                let w = spec.popularity.weight(rank: k)
                normaliser += w
                let r = world.repository(atPlace: (k - 1) % n)
                if rpcOwner.isEmpty || rpcOwner[r] == LoadState.nobody { mass[world.repositories[r].virtualStorage] += w }
            }
            for vs in mass.indices { mass[vs] /= normaliser }
        }
        let nodes = world.fleet.nodes.count
        let zero = [Double](repeating: 0, count: nodes)
        var hourly: [Double] = []
        for hour in 0..<168 { for stream in spec.streams { hourly.append(stream.hourOfWeekRates[hour]) } }
        var load = LoadState(spec: spec, figures: spec.streams.map(LoadState.StreamFigures.init),
                             rates: FlatTable(rows: 168, columns: spec.streams.count, elements: hourly),
                             mass: mass, normaliser: normaliser, repositoryCount: n, rpcOwner: rpcOwner,
                             inFlightRandom: streams.stream("traffic.load.in-flight"), busyCores: zero, diskReaders: zero, diskWriters: zero,
                             served: zero, failed: zero,
                             chances: FlatTable(rows: nodes, columns: spec.streams.count, repeating: LoadState.ServiceChances()),
                             writesRandom: streams.stream("traffic.load.writes-in-progress"),
                             windowRandom: streams.stream("traffic.load.windows"),
                             readerTerms: Array(repeating: LoadState.PoissonTerms(mean: 0), count: nodes),
                             writerTerms: Array(repeating: LoadState.PoissonTerms(mean: 0), count: nodes),
                             busyTerms: Array(repeating: LoadState.PoissonTerms(mean: 0), count: nodes),
                             expectations: LoadState.expectationTable(nodes: nodes))
        for i in 0..<nodes { load.figuresChanged(node: i) }
        return load
    }

    /// The places of the repositories whose calls the load leaves, for the whole run, to calls
    /// drawn one by one outside the world (`BackgroundLoad.RPCPart.storages`), in order: traffic
    /// names repositories by place (`place(of:)`).
    public var placesAtRPCLevel: [Int32] {
        guard hasLoad else { return [] }
        let owners = load.rpcOwner
        return owners.indices.compactMap { owners[$0] == LoadState.always ? Int32(place(of: $0)) : nil }.sorted()
    }

    /// Repository `r`'s share of the load's calls: the popularity weights of the ranks that map
    /// to it (k − 1 ≡ its place mod count), none when its calls are simulated one by one.
    /// O(ranks / repositories).
    @inline(__always)
    func loadShare(of r: Int) -> Double {
        // Through `load`, here and below: binding it to a local copies its dozen arrays'
        // references (and a change made while the copy lives copies the array).
        guard hasLoad, load.rpcOwner.isEmpty || r >= load.repositoryCount || load.rpcOwner[r] == LoadState.nobody else { return 0 }
        return popularityShare(of: r)
    }

    /// Repository `r`'s share of all calls, whoever simulates them.
    @inline(__always)
    func popularityShare(of r: Int) -> Double {
        guard hasLoad, r < load.repositoryCount else { return 0 }
        let n = load.repositoryCount, ranks = load.spec.popularity.ranks(repositories: n)
        var share = 0.0
        var k = place(of: r) + 1
        while k <= ranks { share += load.spec.popularity.weight(rank: k); k += n }
        return share / load.normaliser
    }

    /// A switched move takes its repository's share of the calls along.
    mutating func loadMoved(_ r: Int, from old: Int, to new: Int) {
        guard hasLoad, old != new else { return }
        let share = loadShare(of: r)
        load.mass[old] -= share
        load.mass[new] += share
        load.moved = true
    }

    /// Seconds of disk I/O a call of `stream` takes on node `n`, as `recordedServiceSeconds`
    /// charges a call with a CPU time: its bytes (the class model's where the stream has none)
    /// at the node's current disk rates.
    @inline(__always)
    func loadIOSeconds(_ stream: LoadState.StreamFigures, node n: Int) -> Double {
        let p = profiles[stream.rpcClass.index]
        let f = nodes[n].slowdownFactor
        let read = stream.bytesRead ?? p.bytesRead, written = stream.bytesWritten ?? p.bytesWritten
        return (read > 0 ? read / max(1, diskReadBytesPerSecond[n] * f) : 0) + (written > 0 ? written / max(1, diskWriteBytesPerSecond[n] * f) : 0)
    }

    /// A call's mean service seconds on node `n`, unstretched by copies, times a slow
    /// release's factor (as `startService` times a call).
    @inline(__always)
    func loadMeanService(_ stream: LoadState.StreamFigures, node n: Int) -> Double {
        guard let cpu = stream.cpuMean else { return stream.durationMean * nodes[n].latencyFactor }
        return (cpu + loadIOSeconds(stream, node: n)) * nodes[n].latencyFactor
    }

    /// How each storage's calls spread over its nodes: a read goes to one of the up replicas
    /// (Praefect spreads reads over up-to-date healthy replicas, PRAEFECT.md §3; a plain
    /// storage has one), a write or housekeeping call to each of the repository's replicas,
    /// so to a member with probability replication factor / members.
    func loadCallsPerNode(_ vs: Int, _ c: RPCClass, up: Int) -> Double {
        let members = fleet.virtualStorages[vs].members.count
        switch c {
        case .read, .uploadPack: return up > 0 ? 1 / Double(up) : 0
        case .write, .receivePack, .maintenance:
            let rf = fleet.virtualStorages[vs].replicationFactor
            return rf > 0 && rf < members ? Double(rf) / Double(members) : 1
        }
    }

    @inline(__always)
    func upMembers(_ vs: Int) -> Int {
        var up = 0
        for slot in 0..<fleet.virtualStorages[vs].members.count where nodes[node(vs, slot)].up { up += 1 }
        return up
    }

    /// Recomputes the cores and disk users each node's load keeps busy at `now` (called at
    /// every window's close, so the figures follow the hourly rates, moved repositories and
    /// nodes gone down within a window), and gives the flows on a node whose figures changed
    /// their new shares. O(storages × streams).
    mutating func refreshLoad(_ s: inout EventScheduler<WorldEvent>, force: Bool = false) {
        guard hasLoad else { return }
        let spec = load.spec
        let t = s.now.seconds
        let hour = spec.hourOfWeek(atSeconds: t)
        let on = spec.carries(atSeconds: t)
        guard force || load.moved || hour != load.hour || on != load.carried else { return }
        // The load is changed in place: a copy of it held across the changes would
        // make each of its tables copy itself on write.
        load.hour = hour
        load.carried = on
        load.moved = false
        var busy = [Double](repeating: 0, count: nodes.count)
        var readers = busy, writers = busy
        if on {
            for vs in fleet.virtualStorages.indices where load.mass[vs] > 0 {
                let up = upMembers(vs)
                for i in load.figures.indices {
                    let stream = load.figures[i]
                    let perNode = load.rates[hour, i] * load.mass[vs] * loadCallsPerNode(vs, stream.rpcClass, up: up)
                    guard perNode > 0 else { continue }
                    for slot in 0..<fleet.virtualStorages[vs].members.count {
                        let n = node(vs, slot)
                        guard nodes[n].up else { continue }
                        let inService = perNode * loadMeanService(stream, node: n)
                        busy[n] += inService
                        // On the disk for the whole service, as `startService` counts a call.
                        let io = ioSeconds[n, stream.rpcClass.index]
                        if io.read > 0 { readers[n] += inService }
                        if io.written > 0 { writers[n] += inService }
                    }
                }
            }
        }
        var changed: [Int] = []
        for n in nodes.indices {
            let cores = min(busy[n], Double(fleet.nodes[n].cpuCores))
            guard cores != load.busyCores[n] || readers[n] != load.diskReaders[n] || writers[n] != load.diskWriters[n] else { continue }
            changed.append(n)
            load.busyCores[n] = cores
            load.diskReaders[n] = readers[n]
            load.diskWriters[n] = writers[n]
            load.figuresChanged(node: n)
        }
        for n in changed where flowsOnDisk[n] != (0, 0) || nodes[n].copies != (0, 0) { refreshShares(node: n, s.now) }
        if !changed.isEmpty { scheduleFlowCheck(&s) }
    }

    /// A call's chances on node `n` now: to meet the class's apdex thresholds and its
    /// deadline. The latency is the service alone (the load keeps no queue: it stands for
    /// calls that find a free core), its CPU part stretched beside copies, times a slow
    /// release's factor, as `startService` times a call.
    mutating func loadChances(stream i: Int, node n: Int, stretch nodeStretch: Double) -> LoadState.ServiceChances {
        let figures = load.figures[i]
        let stretch = figures.cpuMean == nil ? 1 : nodeStretch
        let io = figures.cpuMean == nil ? 0 : loadIOSeconds(figures, node: n)
        let factor = nodes[n].latencyFactor
        var c = load.chances[n, i]
        guard c.stretch != stretch || c.io != io || c.factor != factor else { return c }
        // The laws' tables only when the chances are worked out again.
        let stream = load.spec.streams[i]
        func below(_ seconds: Double) -> Double {
            let x = seconds / factor
            guard let cpu = stream.cpu else { return stream.duration.cdf(x) }
            return x > io ? cpu.cdf((x - io) / stretch) : 0
        }
        c.stretch = stretch; c.io = io; c.factor = factor
        if let (s, t) = WindowStats.apdexThresholds(stream.rpcClass) {
            c.satisfied = below(s)
            c.tolerated = below(t) - c.satisfied
        }
        let d = deadlines[stream.rpcClass.index]
        c.inTime = d < .max ? below(d.seconds) : 1
        load.chances[n, i] = c
        return c
    }

    /// Adds the load's calls since the last accrual to the open window, as the world is now.
    /// Called at each window's close and before a change of where the calls go or whether they
    /// are served (a node down or back, the database down or back), so those count from the
    /// instant they happen; a copy's stretch or a release counts at window granularity.
    mutating func accrueLoad(_ now: SimTime) {
        guard hasLoad, now > load.accruedUntil else { return }
        let from = load.accruedUntil
        var w = window
        addLoadCalls(to: &w, from: from, to: now)
        window = w
        load.accruedUntil = now
    }

    /// The closing window's load counts drawn around the expectations accrued in it: the
    /// calls are a Poisson process and each ends satisfied, tolerated or frustrated, with an
    /// error or without, independently, so each count is Poisson (the splitting theorem). A
    /// gate that reads one window sees the noise a window of calls would have, which matters
    /// at small rates (a few hundred calls a window) and vanishes at GitLab.com's.
    mutating func drawLoadWindow() {
        guard hasLoad else { return }
        var w = window
        let errors = LoadState.poisson(w.loadErrors, &load.windowRandom)
        w.loadRequests = errors + LoadState.poisson(max(0, w.loadRequests - w.loadErrors), &load.windowRandom)
        w.loadErrors = errors
        let frustrated = LoadState.poisson(max(0, w.loadCounted - w.loadSatisfied - w.loadTolerated), &load.windowRandom)
        w.loadSatisfied = LoadState.poisson(w.loadSatisfied, &load.windowRandom)
        w.loadTolerated = LoadState.poisson(w.loadTolerated, &load.windowRandom)
        w.loadCounted = w.loadSatisfied + w.loadTolerated + frustrated
        window = w
    }

    /// Adds what the load's calls from `start` to `end` would have shown to `window`: expected
    /// requests, errors (none up to serve them, a bad release's share, the deadline's tail) and
    /// apdex counts. A read is served by one up replica (their chances averaged), a write
    /// waits for every replica (the worst one's). A call failed at the door is answered at
    /// once, so it counts as satisfied, as `finish` counts one.
    mutating func addLoadCalls(to window: inout WindowStats, from start: SimTime, to end: SimTime) {
        guard hasLoad else { return }
        let spec = load.spec
        var seconds = (end - start).seconds
        if case .window(let w) = spec.rpcPart { seconds -= max(0, min(end.seconds, w.upperBound) - max(start.seconds, w.lowerBound)) }
        guard seconds > 0 else { return }
        let hour = spec.hourOfWeek(atSeconds: (start.seconds + end.seconds) / 2)
        let noPraefect = hasPraefect && (runningPraefects.isEmpty || !databaseUp)
        // Each node's stretch, worked out once per accrual (−1: not yet).
        var stretches = [Double](repeating: -1, count: nodes.count)
        for vs in fleet.virtualStorages.indices {
            let mass = load.mass[vs]
            guard mass > 0 else { continue }
            let members = fleet.virtualStorages[vs].members.count
            let up = noPraefect && vsViaPraefect[vs] ? 0 : upMembers(vs)
            for i in load.figures.indices {
                let stream = load.figures[i]
                let calls = load.rates[hour, i] * mass * seconds
                guard calls > 0 else { continue }
                let counted = WindowStats.apdexThresholds(stream.rpcClass) != nil
                window.loadRequests += calls
                if counted { window.loadCounted += calls }
                guard up > 0 else {
                    window.loadErrors += calls
                    if counted { window.loadSatisfied += calls }
                    continue
                }
                let isRead = stream.rpcClass == .read || stream.rpcClass == .uploadPack
                // Satisfied and within the tolerated threshold, cumulative: a write waits for
                // its slowest replica, so it takes the least of each.
                var satisfied = isRead ? 0 : 1.0, withinTolerated = isRead ? 0 : 1.0, inTime = isRead ? 0 : 1.0, releaseErrors = 0.0
                let perNode = calls * loadCallsPerNode(vs, stream.rpcClass, up: up)
                for slot in 0..<members {
                    let n = node(vs, slot)
                    guard nodes[n].up else { continue }
                    if stretches[n] < 0 { stretches[n] = cpuStretch(node: n) }
                    let c = loadChances(stream: i, node: n, stretch: stretches[n])
                    let bad = nodes[n].releaseErrorRatio
                    load.served[n] += perNode
                    load.failed[n] += perNode * bad
                    // A bad release fails the calls its node answers: a read's one replica, a
                    // write's primary (ASSUMED: any up member as likely as another; a strong
                    // mode's quorum is not modelled here).
                    releaseErrors += bad / Double(up)
                    if isRead {
                        satisfied += c.satisfied / Double(up); withinTolerated += (c.satisfied + c.tolerated) / Double(up)
                        inTime += c.inTime / Double(up)
                    } else {
                        satisfied = min(satisfied, c.satisfied); withinTolerated = min(withinTolerated, c.satisfied + c.tolerated)
                        inTime = min(inTime, c.inTime)
                    }
                }
                let tolerated = max(0, withinTolerated - satisfied)
                window.loadErrors += calls * min(1, releaseErrors + (1 - releaseErrors) * (1 - inTime))
                if counted {
                    window.loadSatisfied += calls * satisfied
                    window.loadTolerated += calls * tolerated
                }
            }
        }
    }

    /// Writes in progress on repository `r` as its move is scheduled, drawn as calls: each
    /// write stream's calls in progress are Poisson with mean λ_r·E[S] (an M/G/∞ queue in
    /// equilibrium), each with the time it has left. A push among them holds GitLab's push
    /// counter, which the move waits for; a write that commits after the copy began fails the
    /// move's checksum. The draws come from a substream keyed by (repository, attempt), so
    /// they do not depend on other moves. The time left is the CPU part's equilibrium law,
    /// stretched, plus a uniform share of the I/O seconds (exact without I/O).
    mutating func loadWritesInProgress(_ r: Int, attempt: Int, _ s: inout EventScheduler<WorldEvent>) {
        guard hasLoad, load.spec.carries(atSeconds: s.now.seconds) else { return }
        let share = loadShare(of: r)
        guard share > 0 else { return }
        let hour = load.spec.hourOfWeek(atSeconds: s.now.seconds)
        let vs = repositories[r].virtualStorage
        let n = node(vs, repositories[r].primary)
        var random = load.writesRandom.substream(UInt64(place(of: r)), UInt64(attempt))
        for i in load.spec.streams.indices where load.spec.streams[i].rpcClass.isMutator {
            let stream = load.spec.streams[i], figures = load.figures[i]
            let mean = load.rates[hour, i] * share * loadMeanService(figures, node: n)
            guard mean > 0 else { continue }
            for _ in 0..<Int(LoadState.poisson(mean, &random)) {
                let left: Double
                if let cpu = stream.cpu {
                    left = cpu.sampleRemaining(&random) * cpuStretch(node: n) + random.nextDouble() * loadIOSeconds(figures, node: n)
                } else {
                    left = stream.duration.sampleRemaining(&random)
                }
                arrive(repository: r, rpcClass: stream.rpcClass, cost: allocateCost(RecordedCost(durationSeconds: max(left, 1e-9))), &s)
            }
        }
    }

    /// A move is scheduled: the writes already under way on its repository, and, when the
    /// repositories in flight are at RPC level, its calls from now to the move's end drawn one
    /// by one instead of carried by the load.
    mutating func loadMoveScheduled(_ m: Int, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].repository
        loadWritesInProgress(r, attempt: Int(moves[m].attempt), &s)
        guard load.spec.rpcPart == .inFlight, r < load.repositoryCount, load.rpcOwner[r] != LoadState.always else { return }
        let share = popularityShare(of: r)
        guard share > 0 else { return }
        // A move still ending (failed while queued) hands its repository's calls over.
        if load.rpcOwner[r] == LoadState.nobody {
            load.mass[repositories[r].virtualStorage] -= share
            load.moved = true
        }
        load.rpcOwner[r] = Int32(m)
        inFlightCall(m, draw: 0, call: false, &s)
    }

    /// A move's worker has ended: the load carries its repository's calls again, on the
    /// storage the repository is on now.
    mutating func loadMoveEnded(_ m: Int) {
        guard hasLoad, load.spec.rpcPart == .inFlight else { return }
        let r = moves[m].repository
        guard r < load.repositoryCount, load.rpcOwner[r] == Int32(m) else { return }
        load.rpcOwner[r] = LoadState.nobody
        load.mass[repositories[r].virtualStorage] += popularityShare(of: r)
        load.moved = true
    }

    /// One call of in-flight move `m`'s chain (`call`), or only the draw of the next (the
    /// chain's start, and an hour's turn, where the rates change): the calls to its repository
    /// are Poisson at its share of each stream's rate in the hour, a stream picked in
    /// proportion to its rate, the costs drawn from its laws (the bytes its means), as
    /// synthetic traffic would draw them. A gap that would cross the hour's end stops there
    /// and is drawn again at the new rate (the exponential forgets the time already waited).
    /// The chain ends when the move does, or another move of the repository takes it over.
    mutating func inFlightCall(_ m: Int, draw k: UInt32, call: Bool, _ s: inout EventScheduler<WorldEvent>) {
        let r = moves[m].repository
        guard hasLoad, load.rpcOwner[r] == Int32(m) else { return }
        // Read through `load` without a local copy of it: `arrive` changes the load's arrays,
        // and a copy held across it would make each change copy them (ten million owners).
        var random = load.inFlightRandom.substream(UInt64(m), UInt64(k))
        let t = s.now.seconds
        let hour = load.spec.hourOfWeek(atSeconds: t)
        let streams = load.spec.streams.count
        var total = 0.0
        for i in 0..<streams { total += load.rates[hour, i] }
        if call, total > 0 {
            var u = random.nextDouble() * total
            var pick = streams - 1
            for i in 0..<streams {
                u -= load.rates[hour, i]
                if u < 0 { pick = i; break }
            }
            let stream = load.figures[pick]
            let cost = RecordedCost(durationSeconds: load.spec.streams[pick].duration.sample(&random),
                                    cpuSeconds: load.spec.streams[pick].cpu?.sample(&random),
                                    bytesRead: stream.bytesRead, bytesWritten: stream.bytesWritten)
            arrive(repository: r, rpcClass: stream.rpcClass, cost: allocateCost(cost), &s)
        }
        let start = load.spec.startSecondsIntoWeek
        let hourEnd = ((start + t) / 3600).rounded(.down) * 3600 + 3600 - start
        let rate = total * popularityShare(of: r)
        let gap = rate > 0 ? random.exponential(rate: rate) : .infinity
        if t + gap < hourEnd {
            s.schedule(at: max(SimTime(seconds: t + gap), s.now), .inFlightCall(move: Int32(m), draw: k &+ 1, call: true))
        } else {
            // At least a nanosecond on, so that an hour's end rounded onto now still moves on.
            s.schedule(at: max(SimTime(seconds: hourEnd), SimTime(nanoseconds: s.now.nanoseconds + 1)), .inFlightCall(move: Int32(m), draw: k &+ 1, call: false))
        }
    }
}
