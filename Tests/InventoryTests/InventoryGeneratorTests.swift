import Foundation
import SimKernel
import SpecFiles
import Stochastics
import Testing
@testable import Inventory

/// The generator against the distributions it claims to draw from, and its structural promises.
@Suite struct InventoryGeneratorTests {
    let storages = [InventoryGenerator.Storage(name: "a", shareWeight: 9), .init(name: "b", shareWeight: 1)]

    /// Goal: generated project sizes follow `RepositorySizeModel.projects`. Method: at several
    /// levels p, the model's CDF at the sample's p-quantile must be within a binomial 4-sigma
    /// band of p (the sample quantile's rank error), a test of the draw against the analytic CDF.
    @Test(arguments: [UInt64(1), 2])
    func projectSizeQuantilesMatchTheModel(seed: UInt64) throws {
        let inv = try InventoryGenerator().generate(count: 40_000, storages: storages, seed: seed)
        let sizes = (0..<inv.count).filter { inv.kinds[$0] == .project }.map { Double(inv.sizeBytes[$0]) }.sorted()
        let n = Double(sizes.count)
        let model = RepositorySizeModel.projects
        for p in [0.05, 0.25, 0.5, 0.75, 0.9, 0.99] {
            let q = sizes[InventoryStats.nearestRank(p, sizes.count)]
            let band = 4 * (p * (1 - p) / n).squareRoot() + 2 / n
            #expect(abs(model.cdf(q) - p) < band, "seed \(seed), p \(p): cdf(\(q)) = \(model.cdf(q))")
        }
        // About 1% of projects come from the tail above 1 GB.
        let above = Double(sizes.filter { $0 > 1e9 }.count) / n
        let expected = 1 - model.cdf(1e9)
        #expect(abs(above - expected) < 4 * (expected / n).squareRoot(), "seed \(seed)")
    }

    @Test func quantileInvertsTheCDFAndTheCapHolds() {
        let m = RepositorySizeModel.projects
        for p in [0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999] {
            #expect(abs(m.cdf(m.quantile(p)) - p) < 1e-9, "p \(p)")
        }
        // The body alone: the median of a lognormal is exp(mu), shifted only by the 1% tail.
        #expect(abs(m.body.quantile(0.5) - 5e6) < 1)
        #expect(m.quantile(1) == 280e9)
        var rng = RandomStream(seed: 5)
        for _ in 0..<50_000 { #expect(m.sample(&rng) <= 280e9) }
    }

    /// Goal: paths written as bytes spell what string interpolation spells, digit for digit, for
    /// every kind and at the ends of the digit counts. Method: the path by the kind's rule
    /// built as a String, row by row; and `appendDecimal` against `String(x)` at powers of ten,
    /// one below them and Int64.max.
    @Test func generatedPathsAreSpelledAsTheirStrings() throws {
        let inv = try InventoryGenerator().generate(count: 3_000, storages: storages, seed: 7)
        var kinds = Set<RepositoryKind>()
        for row in 0..<inv.count {
            let id = inv.ids[row].rawValue, group = row / 50
            let expected = switch inv.kinds[row] {
            case .project: "group-\(group)/project-\(id)"
            case .wiki: "group-\(group)/project-\(id).wiki"
            case .snippet: "snippets/\(id)"
            case .design: "group-\(group)/project-\(id).design"
            }
            #expect(inv.path(row) == expected, "row \(row)")
            kinds.insert(inv.kinds[row])
        }
        #expect(kinds.count == RepositoryKind.allCases.count)
        var values: [Int64] = [0, 1, 9, .max]
        var p: Int64 = 10
        while true {
            values += [p - 1, p, p + 1]
            guard p <= Int64.max / 10 else { break }
            p *= 10
        }
        for v in values {
            var bytes: [UInt8] = Array("x".utf8)
            InventoryGenerator.appendDecimal(v, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == "x\(v)")
        }
    }

    /// Goal: a generated row is refused for what a read one is: an id below 1, an empty path or
    /// one with a line break (among others), a negative size, a rate that is not a number of at
    /// least 0, a repeated id, each naming its field; a good row lands on the storage it names by
    /// position, with its path.
    @Test func generatedRowsAreCheckedAsReadOnesAre() throws {
        struct Rows {
            var builder = InventoryBuilder(file: "<generated>", knownStorages: ["s0", "s1"])
            var paths = PathList()
            mutating func add(id: Int64 = 1, path: String = "p", size: Int64 = 1, reads: Double = 0, writes: Double = 0) throws {
                try builder.add(generated: RepositoryID(id), kind: .project, knownStorage: 1, sizeBytes: size,
                                forkRoot: nil, readsPerDay: reads, writesPerDay: writes)
                paths.append(path)
            }
            mutating func finish() throws -> Inventory { try builder.finish(paths: paths) }
        }
        func refusal(_ body: (inout Rows) throws -> Void) -> String? {
            var rows = Rows()
            do { try body(&rows); _ = try rows.finish(); return nil } catch let e as SpecError { return e.field } catch { return "\(error)" }
        }
        #expect(refusal { try $0.add(id: 0) } == "id")
        #expect(refusal { try $0.add(path: "") } == "path")
        #expect(refusal { try $0.add(path: "a\nb") } == "path")
        #expect(refusal { try $0.add(id: 1, path: "a"); try $0.add(id: 2, path: "b"); try $0.add(id: 3, path: "") } == "path")
        #expect(refusal { try $0.add(id: 1, path: "a"); try $0.add(id: 2, path: "b\n") } == "path")
        #expect(refusal { try $0.add(size: -1) } == "size_bytes")
        #expect(refusal { try $0.add(reads: .nan) } == "reads_per_day")
        #expect(refusal { try $0.add(writes: -1) } == "writes_per_day")
        #expect(refusal { try $0.add(id: 1); try $0.add(id: 1) } == "id")
        #expect(refusal { try $0.add() } == nil)
        var rows = Rows()
        try rows.add(id: 5, path: "g/p")
        try rows.add(id: 6, path: "g/q")
        let inv = try rows.finish()
        #expect(inv.storageName(0) == "s1" && inv.path(0) == "g/p" && inv.path(1) == "g/q" && inv.row(of: RepositoryID(5)) == 0)
    }

    @Test func forksShareTheirRootsStorageAndTheSameSeedGivesTheSameInventory() throws {
        let a = try InventoryGenerator().generate(count: 8_000, storages: storages, seed: 42)
        let b = try InventoryGenerator().generate(count: 8_000, storages: storages, seed: 42)
        #expect(a.csv() == b.csv())
        var forks = 0
        for row in 0..<a.count {
            guard let r = a.forkRootRow(row) else { continue }
            forks += 1
            #expect(a.storages[row] == a.storages[r])
            #expect(a.kinds[row] == .project && a.kinds[r] == .project && a.forkRootRow(r) == nil)
        }
        let projects = a.kinds.filter { $0 == .project }.count
        // ASSUMED fork share 10% of projects: a binomial 4-sigma band.
        #expect(abs(Double(forks) / Double(projects) - 0.1) < 4 * (0.09 / Double(projects)).squareRoot())
        // Storage shares follow the weights 9:1 (rows that are not forks draw them).
        let onA = Double(a.storages.filter { a.storageNames[$0] == "a" }.count) / Double(a.count)
        #expect(abs(onA - 0.9) < 0.03)
    }

    @Test func ratesFollowZipf() throws {
        let n = 10_000
        let inv = try InventoryGenerator().generate(count: n, storages: storages, seed: 3)
        let reads = inv.readsPerDay.sorted(by: >)
        let zipf = try Zipf(count: n, exponent: 1)
        // The k-th hottest repository gets 50·n·P(k) reads a day (rounded to thousandths).
        for k in [1, 2, 10, 100, 1000] {
            #expect(abs(reads[k - 1] - 50 * Double(n) * zipf.probability(k)) <= 0.0005 + 1e-9, "rank \(k)")
        }
    }
}

/// Goal: with `sizesFillShares` each storage's repositories add up to its share weight (its
/// `used` bytes), the sizes are scaled by one factor per storage (the distribution's shape), and a storage
/// whose scaled sizes reach the 280 GB cap comes out below its share, never above. Method:
/// 20,000 repositories over 9 TB and 1 TB storages, summed per storage (rounding to whole
/// bytes allows one byte per repository); the same seed without filling gives the same
/// storages and kinds, and sizes one factor apart on each storage.
@Suite struct InventoryFillTests {
    @Test func filledSizesAddUpToEachStoragesShare() throws {
        let storages = [InventoryGenerator.Storage(name: "a", shareWeight: 9e12), .init(name: "b", shareWeight: 1e12)]
        var p = InventoryGenerator.Parameters()
        p.sizesFillShares = true
        let filled = try InventoryGenerator(parameters: p).generate(count: 20_000, storages: storages, seed: 5)
        let plain = try InventoryGenerator().generate(count: 20_000, storages: storages, seed: 5)
        #expect(filled.storages == plain.storages && filled.kinds == plain.kinds)
        for (s, share) in [(0, 9e12), (1, 1e12)] {
            let rows = (0..<filled.count).filter { Int(filled.storages[$0].rawValue) == s }
            let total = rows.reduce(0.0) { $0 + Double(filled.sizeBytes[$1]) }
            let capped = rows.contains { filled.sizeBytes[$0] == 280_000_000_000 }
            if capped { #expect(total <= share + Double(rows.count)) } else { #expect(abs(total - share) <= Double(rows.count), "storage \(s): \(total) of \(share)") }
            // Scaling keeps the shape: every project's size is its unfilled size times one factor
            // per storage (rounding to whole bytes aside; capped sizes left out).
            let ratios = rows.filter { filled.kinds[$0] == .project && plain.sizeBytes[$0] >= 1_000_000 && filled.sizeBytes[$0] < 280_000_000_000 }
                .map { Double(filled.sizeBytes[$0]) / Double(plain.sizeBytes[$0]) }
            let spread = (ratios.max() ?? 0) / (ratios.min() ?? 1) - 1
            #expect(!ratios.isEmpty && spread < 1e-5, "storage \(s): the factors differ by \(spread)")
        }
    }
}
