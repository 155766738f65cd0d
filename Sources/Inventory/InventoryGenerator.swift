import Foundation
import SimKernel
import Stochastics

/// Draws a heavy-tailed inventory: sizes from `RepositorySizeModel`, fork networks whose roots'
/// popularity follows Zipf, and per-repository read and write rates following Zipf.
///
/// Each decision has its own named stream (kind, size, fork, root, storage, popularity), so
/// changing one parameter (say the fork share) leaves the other decisions' draws unchanged.
public struct InventoryGenerator: Sendable {
    public struct Parameters: Sendable {
        /// ASSUMED: the shares of project, wiki, snippet and design repositories.
        public var kindShares: [(RepositoryKind, Double)] = [(.project, 0.80), (.wiki, 0.12), (.snippet, 0.05), (.design, 0.03)]
        public var projectSizes = RepositorySizeModel.projects
        public var otherSizes = RepositorySizeModel.small
        /// ASSUMED: one project in ten is a fork. Forks live on their root's storage, as GitLab
        /// places them with their network's object pool (gitalyctl sends fork-network members to
        /// the root's shard, production#17004).
        public var forkShare = 0.10
        /// ASSUMED: how many forks a root draws follows Zipf with exponent 1 over the roots.
        public var forkPopularityExponent = 1.0
        /// ASSUMED: mean reads (clones, fetches) and writes (pushes) per repository per day. The
        /// per-repository figures are not published (REAL_FIGURES.md "Not found"); GitLab.com
        /// serves about 165 M `git-upload-pack` a day over its whole fleet (PRAEFECT.md §10).
        public var meanReadsPerDay = 50.0
        public var meanWritesPerDay = 2.0
        /// ASSUMED: Zipf exponent 1 for repository popularity (a classic web-popularity law).
        public var popularityExponent = 1.0
        /// Sizes scaled, storage by storage, so that the repositories drawn onto a storage add up
        /// to its share weight in bytes (its `used`): a fleet known by its disks' fill, such as
        /// GitLab.com's, gets the size distribution's shape at the fleet's own scale. The cap
        /// still holds after scaling, so a storage with capped repositories comes out a little
        /// below its share.
        public var sizesFillShares = false
        public init() {}
    }

    /// A storage repositories may be drawn onto, with the weight of its share (e.g. its used
    /// bytes, so the inventory mirrors how full the fleet says each storage is).
    public struct Storage: Sendable {
        public var name: String
        public var shareWeight: Double
        public init(name: String, shareWeight: Double) { self.name = name; self.shareWeight = shareWeight }
    }

    public var parameters: Parameters
    public init(parameters: Parameters = Parameters()) { self.parameters = parameters }

    public func generate(count n: Int, storages: [Storage], seed: UInt64) throws -> Inventory {
        precondition(n >= 1 && n <= Zipf.maximumCount, "1 to \(Zipf.maximumCount) repositories")
        precondition(!storages.isEmpty && storages.allSatisfy { $0.shareWeight >= 0 })
        let p = parameters
        let streams = RandomStreams(seed: seed)

        // Each stream's draws are made in row order as before; the streams that need nothing
        // of each other are drawn on two cores (`SideBySide`): the kinds and fork flags beside
        // the popularity ranks, then the storages beside the sizes.
        let (kindsDrawn, ranksDrawn) = SideBySide.run({ Self.drawKinds(n, p, streams) }, beside: {
            (Self.drawRanks(n, streams), try Zipf(count: n, exponent: p.popularityExponent))
        })
        let (kinds, isFork, roots) = try kindsDrawn.get()
        let (rank, popularity) = try ranksDrawn.get()

        let (storagesDrawn, sizesDrawn) = SideBySide.run({ try Self.drawStorages(n, storages, isFork: isFork, roots: roots, p, streams) },
                                                         beside: { Self.drawSizes(kinds, p, streams) })
        let (storageOfRow, rootOfRow) = try storagesDrawn.get()
        var sizes = try sizesDrawn.get()
        if p.sizesFillShares {
            var drawn = [Double](repeating: 0, count: storages.count)
            for i in 0..<n { drawn[Int(storageOfRow[i])] += sizes[i] }
            for i in 0..<n where storages[Int(storageOfRow[i])].shareWeight > 0 {
                let s = Int(storageOfRow[i])
                let cap = kinds[i] == .project ? p.projectSizes.capBytes : p.otherSizes.capBytes
                sizes[i] = min(cap, sizes[i] * storages[s].shareWeight / drawn[s])
            }
        }

        // The rows beside their paths, which need only the kinds.
        let (built, written) = SideBySide.run({
            var builder = InventoryBuilder(file: "<generated>", knownStorages: storages.map(\.name))
            builder.reserve(n, pathBytes: 0)
            for i in 0..<n {
                let share = popularity.probability(Int(rank[i]))
                try builder.add(
                    generated: RepositoryID(Int64(i + 1)), kind: kinds[i], knownStorage: Int(storageOfRow[i]), sizeBytes: Int64(sizes[i].rounded()),
                    forkRoot: rootOfRow[i] >= 0 ? RepositoryID(Int64(rootOfRow[i]) + 1) : nil,
                    readsPerDay: Self.milli(p.meanReadsPerDay * Double(n) * share),
                    writesPerDay: Self.milli(p.meanWritesPerDay * Double(n) * share))
            }
            return builder
        }, beside: { Self.paths(kinds) })
        var builder = try built.get()
        return try builder.finish(paths: try written.get())
    }

    /// Each row's path, written as bytes into one buffer as "group-\(i / 50)/project-\(id)" would
    /// spell it (ten million strings of about thirty bytes were each a heap object).
    static func paths(_ kinds: [RepositoryKind]) -> PathList {
        let n = kinds.count
        var paths = PathList()
        // The longest path's bytes a row ("group-", the group, "/project-", the id, ".design"):
        // room past what the paths take is never touched, where growing the buffer by doubling
        // copied it and kept up to as much again.
        paths.reserveCapacity(n, bytes: n * (6 + String(n / 50).utf8.count + 9 + String(n).utf8.count + 7))
        var path: [UInt8] = []
        path.reserveCapacity(64)
        for i in 0..<n {
            let id = Int64(i + 1)
            path.removeAll(keepingCapacity: true)
            if kinds[i] == .snippet {
                path.append(contentsOf: "snippets/".utf8)
                appendDecimal(id, to: &path)
            } else {
                path.append(contentsOf: "group-".utf8)
                appendDecimal(Int64(i / 50), to: &path)
                path.append(contentsOf: "/project-".utf8)
                appendDecimal(id, to: &path)
                switch kinds[i] {
                case .project, .snippet: break
                case .wiki: path.append(contentsOf: ".wiki".utf8)
                case .design: path.append(contentsOf: ".design".utf8)
                }
            }
            paths.append(bytes: path)
        }
        return paths
    }

    /// Kinds and fork flags first, so the roots are known before forks pick one.
    static func drawKinds(_ n: Int, _ p: Parameters, _ streams: RandomStreams) -> (kinds: [RepositoryKind], isFork: [Bool], roots: [Int32]) {
        var kindRNG = streams.stream("inventory.kind")
        var forkRNG = streams.stream("inventory.fork")
        var kinds = [RepositoryKind](repeating: .project, count: n)
        var isFork = [Bool](repeating: false, count: n)
        var roots: [Int32] = []
        let kindTotal = p.kindShares.reduce(0) { $0 + $1.1 }
        for i in 0..<n {
            var u = kindRNG.nextDouble() * kindTotal
            var k = p.kindShares[p.kindShares.count - 1].0
            for (kind, share) in p.kindShares {
                if u < share { k = kind; break }
                u -= share
            }
            kinds[i] = k
            // A fork needs a root to exist; the first project is never a fork.
            if k == .project {
                if !roots.isEmpty, forkRNG.nextDouble() < p.forkShare { isFork[i] = true } else { roots.append(Int32(i)) }
            }
        }
        return (kinds, isFork, roots)
    }

    /// Popularity ranks: a random permutation, so hot repositories are spread over ids.
    static func drawRanks(_ n: Int, _ streams: RandomStreams) -> [Int32] {
        var popularityRNG = streams.stream("inventory.popularity")
        var rank = [Int32](unsafeUninitializedCapacity: n) { b, c in
            for i in 0..<n { b[i] = Int32(i + 1) }
            c = n
        }
        for i in stride(from: n - 1, to: 0, by: -1) { rank.swapAt(i, popularityRNG.below(i + 1)) }
        return rank
    }

    /// Storages: roots and unforked repositories draw one; a fork takes its root's, which may
    /// come later in id order, so every draw is made before any fork looks.
    static func drawStorages(_ n: Int, _ storages: [Storage], isFork: [Bool], roots: [Int32], _ p: Parameters,
                             _ streams: RandomStreams) throws -> (storageOfRow: [Int32], rootOfRow: [Int32]) {
        var storageRNG = streams.stream("inventory.storage")
        var rootRNG = streams.stream("inventory.forkRoot")
        var cumulative: [Double] = []
        var total = 0.0
        let useEqual = storages.allSatisfy { $0.shareWeight == 0 }
        for s in storages { total += useEqual ? 1 : s.shareWeight; cumulative.append(total) }
        var storageOfRow = [Int32](repeating: 0, count: n)
        var rootOfRow = [Int32](repeating: -1, count: n)
        for i in 0..<n where !isFork[i] {
            let u = storageRNG.nextDouble() * total
            storageOfRow[i] = Int32(min(storages.count - 1, cumulative.partitioningIndex { $0 > u }))
        }
        if !roots.isEmpty {
            let zipf = try Zipf(count: roots.count, exponent: p.forkPopularityExponent)
            for i in 0..<n where isFork[i] {
                let r = roots[zipf.sample(&rootRNG) - 1]
                rootOfRow[i] = r
                storageOfRow[i] = storageOfRow[Int(r)]
            }
        }
        return (storageOfRow, rootOfRow)
    }

    /// Sizes drawn in row order from their own stream (scaled per storage afterwards when asked).
    static func drawSizes(_ kinds: [RepositoryKind], _ p: Parameters, _ streams: RandomStreams) -> [Double] {
        var sizeRNG = streams.stream("inventory.size")
        return [Double](unsafeUninitializedCapacity: kinds.count) { b, c in
            for i in kinds.indices { b[i] = (kinds[i] == .project ? p.projectSizes : p.otherSizes).sample(&sizeRNG) }
            c = kinds.count
        }
    }

    /// `x`'s decimal digits (x ≥ 0), as `String(x)` writes them.
    static func appendDecimal(_ x: Int64, to bytes: inout [UInt8]) {
        precondition(x >= 0)
        let first = bytes.count
        var v = x
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        } while v > 0
        bytes[first...].reverse()
    }

    /// Rates rounded to thousandths, so files stay short and read back exactly.
    static func milli(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}

extension Array where Element == Double {
    /// The first index whose element satisfies `belongs`, for a predicate false then true.
    func partitioningIndex(where belongs: (Double) -> Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if belongs(self[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
