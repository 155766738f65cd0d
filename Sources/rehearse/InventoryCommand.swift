import ArgumentParser
import Foundation
import GitalyModel
import Inventory
import Planner
import SpecFiles

/// `rehearse inventory`: draw and summarise repository inventories (CSV or JSON).
struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Generate and summarise inventories of repositories to migrate.",
        subcommands: [Generate.self, Stats.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Draw a heavy-tailed inventory onto a fleet model's storages.",
            discussion: """
                Sizes: a lognormal body with a Pareto tail capped at 280 GB; fork networks; read and \
                write rates following Zipf (parameters and their sources in Sources/Inventory). \
                Repositories are spread over the storages in proportion to how full the model says \
                each is. The format follows the extension of --out: .json for JSON, else CSV.
                """)

        @Option(help: ArgumentHelp("The fleet model whose storages hold the repositories (YAML).", valueName: "file"))
        var model: String

        @Option(parsing: .unconditional, help: ArgumentHelp("How many repositories to draw.", valueName: "count"))
        var repositories: Int

        @Option(help: ArgumentHelp("Seed of the draw; the same seed gives the same inventory.", valueName: "seed"))
        var seed: UInt64 = 1

        @Option(help: ArgumentHelp("Where to write the inventory (.csv or .json).", valueName: "file"))
        var out: String

        func validate() throws {
            guard repositories >= 1, repositories <= 16_000_000 else {
                throw InputError("--repositories must be between 1 and 16000000, got \(repositories)")
            }
        }

        func run() throws {
            let fleet = try loadPlanFleet(model)
            let storages = fleet.storages.map { InventoryGenerator.Storage(name: $0.name, shareWeight: $0.usedBytes) }
            let inventory = try InventoryGenerator().generate(count: repositories, storages: storages, seed: seed)
            let data = out.hasSuffix(".json") ? Data(inventory.json().utf8) : Data(inventory.csv())
            try AtomicFile.write(data, to: out)
            let stats = InventoryStats(inventory)
            print("wrote \(out): \(stats.count) repositories, \(ByteText.decimal((stats.totalBytes))) (seed \(seed))")
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Summarise an inventory: sizes, kinds, storages, largest fork networks.")

        @Argument(help: ArgumentHelp("The inventory (CSV, or JSON when it ends in .json).", valueName: "file"))
        var file: String

        func run() throws {
            let s = InventoryStats(try loadInventory(file, knownStorages: nil))
            var lines = ["\(s.count) repositories, \(ByteText.decimal((s.totalBytes))) in all, \(s.forkNetworkCount) fork networks"]
            let q = s.sizeQuantiles.map { "p\(fixed($0.p * 100, $0.p >= 0.999 ? 1 : 0)) \(ByteText.decimal(($0.bytes)))" }
            lines.append("size: " + q.joined(separator: ", ") + ", largest \(ByteText.decimal((s.largestBytes)))")
            lines.append("by kind:")
            for g in s.byKind { lines.append("  \(g.name): \(g.count) repositories, \(ByteText.decimal((g.bytes)))") }
            lines.append("by storage:")
            for g in s.byStorage { lines.append("  \(g.name): \(g.count) repositories, \(ByteText.decimal((g.bytes)))") }
            if !s.largestForkNetworks.isEmpty {
                lines.append("largest fork networks:")
                for n in s.largestForkNetworks { lines.append("  root \(n.root): \(n.members) repositories, \(ByteText.decimal((n.bytes)))") }
            }
            print(lines.joined(separator: "\n"))
        }
    }
}

/// Reads an inventory file, CSV or (by extension) JSON; errors become one input line.
func loadInventory(_ path: String, knownStorages: [String]?) throws -> Inventory {
    guard let data = FileManager.default.contents(atPath: path) else { throw InputError("\(path): cannot read the file") }
    do {
        if path.hasSuffix(".json") {
            return try Inventory.parseJSON(String(decoding: data, as: UTF8.self), file: path, knownStorages: knownStorages)
        }
        return try Inventory.parseCSV([UInt8](data), file: path, knownStorages: knownStorages)
    } catch let e as SpecError {
        throw InputError(e.description)
    }
}

/// A fleet model as the planner sees it.
func loadPlanFleet(_ path: String) throws -> PlanFleet {
    do {
        return PlanFleet(try Fleet.build(FleetSpec.load(path: path)))
    } catch let e as SpecError {
        throw InputError(e.description)
    }
}
