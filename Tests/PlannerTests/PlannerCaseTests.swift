import Foundation
import Inventory
import SpecFiles
import Testing
@testable import Planner

/// Hand-computed cases: the minimal policy, the infeasibility message, fork anchors, waves and
/// their estimates, explain, and the plan schema version.
@Suite struct PlannerCaseTests {
    let twoStorages = PlanFleet(storages: [
        PlanStorage(name: "storage-a", capacityBytes: 16e12, usedBytes: 9e12, weight: 0),
        PlanStorage(name: "storage-b", capacityBytes: 16e12, usedBytes: 2e12, weight: 100),
    ])

    @Test func theMinimalPolicyDrainsOneStorageOntoAnother() throws {
        let policy = try Policy.parse("drain: {from: [storage-a], to: [storage-b]}\nconcurrency: {perSource: 4}\n", file: "min.yaml")
        #expect(policy.concurrency.perSource == 4 && policy.fillLimit == 0.75)
        let inv = try inventory([entry(1, "storage-a", 100), entry(2, "storage-a", 300), entry(3, "storage-b", 50)])
        let plan = try Plan.make(inventory: inv, fleet: twoStorages, policy: policy)
        #expect(plan.phases.map(\.name) == ["drain"])
        // Smallest first (the default order): 1 then 2; repository 3 already sits on storage-b.
        #expect(plan.allMoves.map(\.repository) == [1, 2])
        #expect(plan.allMoves.allSatisfy { $0.from == "storage-a" && $0.to == "storage-b" })
        #expect(plan.totals.bytes == 400)
        #expect(plan.initialWeights == [StorageWeight(storage: "storage-a", weight: 0), StorageWeight(storage: "storage-b", weight: 100)])
    }

    @Test func destinationsWithoutRoomFailWithTheShortfall() throws {
        // storage-b: 16 TB at 75% is 12 TB, 2 TB used: 10 TB free. Draining 13.2 TB lacks 3.2 TB.
        let inv = try inventory([entry(1, "storage-a", 6_600_000_000_000), entry(2, "storage-a", 6_600_000_000_000)])
        let policy = try Policy.parse("drain: {from: [storage-a], to: [storage-b]}\n", file: "p.yaml")
        #expect(throws: PlanError.self) { try Plan.make(inventory: inv, fleet: twoStorages, policy: policy) }
        do {
            _ = try Plan.make(inventory: inv, fleet: twoStorages, policy: policy)
        } catch PlanError.infeasible(let i) {
            #expect(i.kind == .capacity && i.neededBytes == 13.2e12 && i.availableBytes == 10e12 && i.lackingBytes == 3.2e12)
            #expect(i.description.hasPrefix("infeasible plan: phase drain: destinations lack 3.2 TB at a 75% fill limit"))
        }
    }

    @Test func aNetworkTooLargeForAnyDestinationIsNamed() throws {
        let fleet = PlanFleet(storages: [
            PlanStorage(name: "old", capacityBytes: 100e12, usedBytes: 0, weight: 0),
            PlanStorage(name: "n1", capacityBytes: 4e12, usedBytes: 0, weight: 0),
            PlanStorage(name: "n2", capacityBytes: 4e12, usedBytes: 0, weight: 0),
        ])
        // A 5 TB network (production#17004's size) against two destinations of 3 TB room each.
        let inv = try inventory([entry(1, "old", 2_000_000_000_000), entry(2, "old", 2_000_000_000_000, root: 1), entry(3, "old", 1_000_000_000_000, root: 1)])
        let policy = Policy(drainFrom: [Named("old")], drainTo: [Named("n1"), Named("n2")])
        do {
            _ = try Plan.make(inventory: inv, fleet: fleet, policy: policy)
            Issue.record("planned a 5 TB network into 3 TB")
        } catch PlanError.infeasible(let i) {
            #expect(i.kind == .unitTooLarge && i.neededBytes == 5e12 && i.availableBytes == 3e12)
            #expect(i.message == "phase drain: the fork network of repository 1 (3 repositories to move, 5.0 TB) fits on no destination: the roomiest, n1, has 3.0 TB below a 75% fill limit")
        }
        // Without keeping networks together the same drain fits.
        var loose = policy
        loose.forkNetworksTogether = false
        loose.moveTimeoutSeconds = 86_400   // 2 TB at 28.5 MB/s is 19.5 h, past gitalyctl's 1 h
        #expect(try Plan.make(inventory: inv, fleet: fleet, policy: loose).totals.moves == 3)
    }

    @Test func forksJoinTheirRootOnADestinationAndExplainSaysSo() throws {
        let fleet = PlanFleet(storages: [
            PlanStorage(name: "old", capacityBytes: 100e9, usedBytes: 0, weight: 0),
            PlanStorage(name: "big", capacityBytes: 100e9, usedBytes: 0, weight: 0),
            PlanStorage(name: "small", capacityBytes: 40e9, usedBytes: 0, weight: 0),
        ])
        // Root 1 already lives on small; its forks must follow it there though big has more room.
        let inv = try inventory([entry(1, "small", 10_000_000_000), entry(2, "old", 1_000_000_000, root: 1), entry(3, "old", 2_000_000_000)])
        let plan = try Plan.make(inventory: inv, fleet: fleet, policy: Policy(drainFrom: [Named("old")], drainTo: [Named("big"), Named("small")]))
        let to = Dictionary(uniqueKeysWithValues: plan.allMoves.map { ($0.repository, $0.to) })
        #expect(to == [2: "small", 3: "big"])
        // small: 75% of 40 GB = 30 GB, 10 GB used → 20 GB of room before the fork arrived.
        let fork = try #require(plan.allMoves.first { $0.repository == 2 })
        #expect(fork.reason.rule == .forkAnchor && fork.reason.headroomBytes == 20e9 && fork.reason.networkRoot == 1)
        #expect(plan.explain("2")?.contains("joins the members of its network that stay on small, which had 20.0 GB free below its 75% fill limit") == true)
        // big: 75 GB of room, the roomiest.
        #expect(plan.explain("g/p3")?.contains("most room below its 75% fill limit (75.0 GB free") == true)
        #expect(plan.explain("1") == nil)
    }

    /// Closed form: five equal moves of S bytes, no overhead, one move at a time per source,
    /// waves of two: three waves of 2, 2 and 1 moves taking 2S/R, 2S/R and S/R seconds.
    @Test func wavesAreCutByCountAndEstimatedFromTheBounds() throws {
        let fleet = PlanFleet(storages: [
            PlanStorage(name: "a", capacityBytes: 1e12, usedBytes: 0, weight: 0),
            PlanStorage(name: "b", capacityBytes: 1e12, usedBytes: 0, weight: 0),
        ])
        let inv = try inventory((1...5).map { entry(Int64($0), "a", 1_000_000_000) })
        var policy = Policy(drainFrom: [Named("a")], drainTo: [Named("b")])
        policy.moveOverheadSeconds = 0
        policy.copyBytesPerSecond = 100e6
        policy.waves.movesMax = 2
        let plan = try Plan.make(inventory: inv, fleet: fleet, policy: policy)
        let waves = plan.phases[0].waves
        #expect(waves.map { $0.moves.count } == [2, 2, 1])
        #expect(waves.map(\.estimatedSeconds) == [20, 20, 10])
        // A 50 MB/s budget halves each move's rate: 2 GB at 50 MB/s is 40 s a wave of two.
        policy.bandwidthBytesPerSecond = 50e6
        #expect(try Plan.make(inventory: inv, fleet: fleet, policy: policy).phases[0].waves.map(\.estimatedSeconds) == [40, 40, 20])
        // Four at a time from the source: the longest move bounds the wave.
        policy.bandwidthBytesPerSecond = nil
        policy.concurrency.perSource = 4
        #expect(try Plan.make(inventory: inv, fleet: fleet, policy: policy).phases[0].waves.map(\.estimatedSeconds) == [10, 10, 10])
        // readOnlyMax below one move's 10 s is infeasible, with the figures.
        policy.readOnlySecondsMax = 5
        #expect { try Plan.make(inventory: inv, fleet: fleet, policy: policy) } throws: { e in
            guard case PlanError.infeasible(let i) = e else { return false }
            return i.kind == .readOnlyTooLong && i.availableBytes == 500e6
        }
        // A move timeout below 10 s is infeasible too (every attempt would time out), named as
        // the bound that binds: the tighter of the two.
        policy.readOnlySecondsMax = 60
        policy.moveTimeoutSeconds = 8
        #expect { try Plan.make(inventory: inv, fleet: fleet, policy: policy) } throws: { e in
            guard case PlanError.infeasible(let i) = e else { return false }
            return i.kind == .moveTimesOut && i.availableBytes == 800e6
                && i.message == "phase drain: repository 1 (g/p1, 1.0 GB) would stay read-only about 10.0 s at 100.0 MB/s, over moveTimeout 8.0 s"
        }
        policy.moveTimeoutSeconds = 10
        #expect(try Plan.make(inventory: inv, fleet: fleet, policy: policy).moveTimeoutSeconds == 10)
    }

    /// The hand-written plan.json against a second implementation: Foundation's JSONEncoder
    /// with sorted keys gives the same bytes, and decoding gives the same plan.
    @Test func planJSONMatchesJSONEncoderWithSortedKeys() throws {
        let s = RandomScenario(seed: 12)
        var policy = try Policy.parse(String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/policies/minimal.yaml"), encoding: .utf8), file: "minimal.yaml")
        policy.drainFrom = s.policy.drainFrom
        policy.drainTo = s.policy.drainTo
        policy.gate = GateSpec()
        policy.gate?.apdexMin = 0.99
        policy.gate?.soakSeconds = 3600
        policy.gate?.windowSeconds = 1800
        policy.maintenanceWindows = [MaintenanceWindowSpec(days: ["sat"], start: "01:00", durationSeconds: 3600)]
        policy.phases = [PhaseSpec(name: "one"), PhaseSpec(name: "two")]
        policy.phases[0].weightSteps = [[(Named("dst-0"), 10)]]
        policy.phases[0].moves = .share(0.5)
        policy.phases[1].moves = .rest
        var fleet = s.fleet
        for i in fleet.storages.indices where fleet.storages[i].name.hasPrefix("dst") { fleet.storages[i].capacityBytes *= 10 }
        let plan = try Plan.make(inventory: s.inventory, fleet: fleet, policy: policy)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let mine = [UInt8](plan.jsonData()), theirs = [UInt8](try encoder.encode(plan)) + [10]
        let at = (0..<min(mine.count, theirs.count)).first { mine[$0] != theirs[$0] } ?? min(mine.count, theirs.count)
        #expect(mine == theirs, "first difference at \(at): \(String(decoding: mine[max(0, at - 80)..<min(mine.count, at + 40)], as: UTF8.self)) | \(String(decoding: theirs[max(0, at - 80)..<min(theirs.count, at + 40)], as: UTF8.self))")
        #expect(try Plan.decode(plan.jsonData(), file: "p.json") == plan)
    }

    @Test func anUnknownPlanSchemaVersionIsRefused() throws {
        let data = Data("{\"schemaVersion\": 2, \"phases\": []}".utf8)
        #expect { try Plan.decode(data, file: "plan.json") } throws: { e in
            (e as? SpecError) == SpecError(file: "plan.json", line: nil, field: "schemaVersion",
                                           message: "unknown plan schema version 2; this rehearse reads version 1")
        }
    }
}

/// Goal: a drain moves its repositories in the policy's order, ties of size broken by id.
/// Method: 300 repositories of 1, 2 or 3 GB (a hundred ties each) with ids in a scrambled
/// order over two sources; each order's plan lists its moves sorted by hand: size up then id
/// up for smallestFirst, size down then id up for largestFirst (one phase, waves in order).
@Test func movesFollowThePolicysOrderWithTiesByID() throws {
    let entries: [InventoryEntry] = (0..<300).map { (i: Int) -> InventoryEntry in
        let id = Int64((i * 7919) % 1000 + 1), gigabytes = Int64(1 + (i * 31) % 3)
        return entry(id, "src-\(i % 2)", gigabytes * 1_000_000_000)
    }
    let inv = try inventory(entries)
    let fleet = PlanFleet(storages: [PlanStorage(name: "src-0", capacityBytes: 1e15, usedBytes: 0, weight: 0, kind: "vm"),
                                     PlanStorage(name: "src-1", capacityBytes: 1e15, usedBytes: 0, weight: 0, kind: "vm"),
                                     PlanStorage(name: "dst-0", capacityBytes: 1e13, usedBytes: 0, weight: 10, kind: "pod")])
    for order in [MoveOrder.smallestFirst, .largestFirst] {
        var policy = Policy(drainFrom: [Named("src-0"), Named("src-1")], drainTo: [Named("kind:pod")])
        policy.order = order
        policy.waves.movesMax = 40
        let moves = try Plan.make(inventory: inv, fleet: fleet, policy: policy).allMoves
        let smallest = order == .smallestFirst
        let byHand: [Int64] = entries.sorted { (a: InventoryEntry, b: InventoryEntry) -> Bool in
            if a.sizeBytes != b.sizeBytes { return smallest == (a.sizeBytes < b.sizeBytes) }
            return a.id.rawValue < b.id.rawValue
        }.map { $0.id.rawValue }
        #expect(moves.map { $0.repository } == byHand, "\(order)")
    }
}

