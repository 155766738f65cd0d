import Foundation
import Inventory
import SpecFiles
import Testing
@testable import Planner

/// Policy files: the schema's fields, and errors that name file, line and field.
@Suite struct PolicyTests {
    func parseError(_ text: String) -> SpecError? {
        do { _ = try Policy.parse(text, file: "p.yaml"); return nil } catch let e as SpecError { return e } catch { return nil }
    }

    @Test func unknownFieldsAndBadValuesNameTheirLine() {
        #expect(parseError("drain: {from: [a], to: [b]}\nconcurency: {perSource: 4}\n")
                == SpecError(file: "p.yaml", line: 2, field: "concurency", message: "unknown field; expected one of drain, fillLimit, fillLimits, concurrency, bandwidth, copyRate, moveOverhead, order, forkNetworks, waves, readOnlyMax, moveTimeout, maintenanceWindows, gate, phases"))
        #expect(parseError("drain: {from: [a], to: [b]}\nconcurrency:\n  perSource: 0\n")?.description == "p.yaml:3: concurrency.perSource: must be at least 1, got 0")
        #expect(parseError("drain: {from: [a], to: [b]}\nfillLimit: 120%\n")?.field == "fillLimit")
        #expect(parseError("drain: {from: [a], to: [b]}\nphases:\n  - {name: x}\n  - {name: x}\n")?.line == 4)
        #expect(parseError("drain: {from: [a], to: [b]}\nmaintenanceWindows:\n  - {start: \"25:00\", duration: 1h}\n")?.field == "maintenanceWindows[0].start")
    }

    /// A gate's window is judged inside its soak, so a window longer than the soak could never
    /// fill: refused with its line. One that fits is read in seconds.
    @Test func aGateWindowLongerThanItsSoakIsRefused() throws {
        #expect(parseError("drain: {from: [a], to: [b]}\ngate:\n  soak: 30m\n  window: 1h\n")?.description
                == "p.yaml:4: gate.window: a gate's window is at most its soak (30.0 min), got 1.0 h")
        #expect(parseError("drain: {from: [a], to: [b]}\nphases:\n  - {name: x, gate: {window: 5m}}\n")?.description
                == "p.yaml:3: phases[0].gate.window: a gate's window is at most its soak (0.0 s), got 5.0 min")
        #expect(parseError("drain: {from: [a], to: [b]}\nmoveTimeout: 0s\n")?.description == "p.yaml:2: moveTimeout: a duration above 0, got 0.0")
        let policy = try Policy.parse("drain: {from: [a], to: [b]}\ngate: {errorRatioMax: 0.0072, soak: 2h, window: 1h}\n", file: "p.yaml")
        #expect(policy.gate?.windowSeconds == 3600 && policy.gate?.soakSeconds == 7200)
    }

    @Test func anUnknownStorageInAPhaseFailsPlanningWithItsLine() throws {
        let text = """
            drain: {from: [storage-a], to: [storage-b]}
            phases:
              - name: canary
                weights:
                  - {storage-b: 10}
                  - {storage-z: 50}
                moves: rest
            """
        let policy = try Policy.parse(text, file: "p.yaml")
        let fleet = PlanFleet(storages: [PlanStorage(name: "storage-a", capacityBytes: 1e12, usedBytes: 0, weight: 100),
                                         PlanStorage(name: "storage-b", capacityBytes: 1e12, usedBytes: 0, weight: 0)])
        #expect { try Plan.make(inventory: try inventory([entry(1, "storage-a", 5)]), fleet: fleet, policy: policy) } throws: { e in
            guard case PlanError.policy(let s) = e else { return false }
            return s == SpecError(file: "p.yaml", line: 6, field: "phases[0].weights[1].storage-z",
                                  message: "unknown storage \"storage-z\"; the fleet has storage-a, storage-b")
        }
    }

    /// Goal: an error about a large fleet names a few of its storages, not all of them. Method:
    /// a drain from a misspelt storage in a fleet of 220 (GitLab.com's count): the message
    /// names the first ten and 210 more; `someNames` keeps lists of up to ten whole.
    @Test func anUnknownStorageInALargeFleetNamesTenAndHowManyMore() throws {
        let names = (1...220).map { String(format: "nfs-file%03d", $0) }
        let fleet = PlanFleet(storages: names.map { PlanStorage(name: $0, capacityBytes: 1e12, usedBytes: 0, weight: 10) })
        let policy = try Policy.parse("drain: {from: [nfs-file01], to: [nfs-file002]}\n", file: "p.yaml")
        #expect { try Plan.make(inventory: try inventory([entry(1, "nfs-file001", 5)]), fleet: fleet, policy: policy) } throws: { e in
            guard case PlanError.policy(let s) = e else { return false }
            return s.message == "unknown storage \"nfs-file01\"; the fleet has \(names.prefix(10).joined(separator: ", ")) and 210 more"
        }
        #expect(SpecError.someNames(Array(names.prefix(10))) == names.prefix(10).joined(separator: ", "))
        #expect(SpecError.someNames(["a", "b", "c"], most: 2) == "a, b and 1 more")
    }

    /// The examples shipped in models/policies parse and plan against the models they name.
    @Test func shippedExamplesPlan() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let phased = try Policy.parse(String(contentsOf: root.appendingPathComponent("models/policies/vm-to-k8s.yaml"), encoding: .utf8), file: "vm-to-k8s.yaml")
        #expect(phased.phases.map(\.name) == ["pre", "gstg", "gprd-cny", "gprd"])
        let fleet = PlanFleet(storages:
            (1...4).map { PlanStorage(name: "nfs-file0\($0)", capacityBytes: 16e12, usedBytes: 2e12, weight: 25, kind: "vm", site: "zone-a") }
            + (1...4).map { PlanStorage(name: "gitaly-pod-0\($0)", capacityBytes: 16e12, usedBytes: 0, weight: 0, kind: "pod", site: "zone-a") })
        let inv = try InventoryGenerator().generate(count: 3000, storages: (1...4).map { .init(name: "nfs-file0\($0)", shareWeight: 1) }, seed: 9)
        let plan = try Plan.make(inventory: inv, fleet: fleet, policy: phased)
        #expect(plan.totals.moves == inv.count)
        // Weight steps carry what a rollback restores: the previous step's weights.
        for phase in plan.phases { for (a, b) in zip(phase.weightSteps, phase.weightSteps.dropFirst()) { #expect(b.rollbackWeights == a.weights) } }
        #expect(plan.phases.first { $0.name == "gprd-cny" }?.destinations == ["gitaly-pod-01"])
    }
}

/// Goal: `kind:` selectors drain every storage of that kind and set every matching storage's
/// weight in a step, so a fleet of hundreds of storages needs no list of names. Method: two VMs
/// and two pods; `from: ["kind:vm"]` plans a move off each VM, and a step `{"kind:pod": 10}`
/// gives both pods weight 10 and leaves the VMs' as they were.
@Suite struct PolicySelectorTests {
    @Test func kindSelectorsDrainAndWeighEveryMatchingStorage() throws {
        let text = """
            drain: {from: ["kind:vm"], to: ["kind:pod"]}
            phases:
              - name: all
                weights:
                  - {"kind:pod": 10}
                moves: rest
            """
        let policy = try Policy.parse(text, file: "p.yaml")
        let fleet = PlanFleet(storages: [
            PlanStorage(name: "vm-1", capacityBytes: 1e12, usedBytes: 1e11, weight: 100, kind: "vm"),
            PlanStorage(name: "pod-1", capacityBytes: 1e12, usedBytes: 0, weight: 0, kind: "pod"),
            PlanStorage(name: "vm-2", capacityBytes: 1e12, usedBytes: 1e11, weight: 100, kind: "vm"),
            PlanStorage(name: "pod-2", capacityBytes: 1e12, usedBytes: 0, weight: 0, kind: "pod"),
        ])
        let plan = try Plan.make(inventory: try inventory([entry(1, "vm-1", 5), entry(2, "vm-2", 5)]), fleet: fleet, policy: policy)
        let moves = plan.phases.flatMap(\.waves).flatMap(\.moves)
        #expect(Set(moves.map(\.from)) == ["vm-1", "vm-2"])
        #expect(moves.allSatisfy { $0.to.hasPrefix("pod-") })
        let step = try #require(plan.phases.first?.weightSteps.first?.weights)
        // A step lists every storage's weight after it: the pods set to 10, the VMs as they were.
        #expect(step == [StorageWeight(storage: "pod-1", weight: 10), StorageWeight(storage: "pod-2", weight: 10),
                         StorageWeight(storage: "vm-1", weight: 100), StorageWeight(storage: "vm-2", weight: 100)], "\(step)")
    }
}
