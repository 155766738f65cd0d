import ArgumentParser
import Foundation
import GitalyModel
import GitLabAPI
import Inventory
import LocalGit
import Planner
import SpecFiles

/// `rehearse inventory`: draw and summarise repository inventories (CSV or JSON).
struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Generate and summarise inventories of repositories to migrate.",
        subcommands: [Generate.self, Scan.self, Fetch.self, Stats.self])

    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scan",
            abstract: "Build an inventory from storage folders of bare git repositories.",
            discussion: """
                Each --storage NAME=DIR is a folder of bare repositories (at any depth, e.g. \
                @hashed/ab/cd/...git). Sizes come from disk; ids are given in order of storage, then \
                path. With --state, the local GitLab state that `migrate --driver local-git` and \
                `workload push` share is created too (it must not exist yet).
                """)

        @Option(name: .customLong("storage"), help: ArgumentHelp("A storage: NAME=DIR (repeat for each).", valueName: "name=dir"))
        var storages: [String] = []

        @Option(help: ArgumentHelp("Where to write the inventory (.csv or .json).", valueName: "file"))
        var out: String

        @Option(help: ArgumentHelp("Also create the local GitLab state here (SQLite).", valueName: "file"))
        var state: String?

        func run() throws {
            let storages = try parseStorages(self.storages)
            let found: [LocalGitLab.Repository]
            do { found = try StorageScan.scan(storages) } catch let e as StorageScan.Failure { throw InputError(e.description) }
            let inventory = try scannedInventory(found, file: out)
            if let state {
                do { _ = try LocalGitLab.create(path: state, storages: storages, repositories: found) } catch let e as LocalGitLab.Failure { throw InputError(e.description) }
            }
            try AtomicFile.write(out.hasSuffix(".json") ? Data(inventory.json().utf8) : Data(inventory.csv()), to: out)
            let bytes = found.reduce(Int64(0)) { $0 + $1.sizeBytes }
            print("wrote \(out): \(found.count) repositories, \(ByteText.decimal(Double(bytes))) in \(storages.count) storages" + (state.map { "; state \($0)" } ?? ""))
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fetch",
            abstract: "Build an inventory from a GitLab's API: the projects on the given storages.",
            discussion: """
                Lists GET /api/v4/projects?repository_storage=NAME&statistics=true page by page \
                (keyset pagination by id), as an administrator: sizes are each project's \
                repository_size, fork networks come from forked_from_project. The token comes from \
                GITLAB_TOKEN or --token-file and is never printed. Progress goes to stderr.
                """)

        @Option(help: ArgumentHelp("The GitLab's address, like https://gitlab.example.com.", valueName: "url"))
        var gitlab: String

        @Option(name: .customLong("storage"), help: ArgumentHelp("A storage whose projects to list (repeat for each).", valueName: "name"))
        var storages: [String] = []

        @Option(help: ArgumentHelp("A file whose first line is an administrator's token (default: the GITLAB_TOKEN variable).", valueName: "file"))
        var tokenFile: String?

        @Option(help: ArgumentHelp("Where to write the inventory (.csv or .json).", valueName: "file"))
        var out: String

        func validate() throws {
            guard !storages.isEmpty else { throw InputError("give at least one --storage NAME") }
            if let twice = Dictionary(grouping: storages, by: { $0 }).first(where: { $0.value.count > 1 })?.key { throw InputError("--storage \(twice): given twice") }
        }

        func run() async throws {
            let client: GitLabClient
            do { client = try GitLabClient(baseURL: gitlab, token: try RealMigration.token(file: tokenFile)) } catch let e as GitLabError { throw InputError("--gitlab \(gitlab): \(e)") }
            let listing = ProjectListing(client: client) { FileHandle.standardError.write(Data("inventory fetch: \($0)\n".utf8)) }
            let found: [ProjectListing.Found]
            do { found = try await listing.projects(on: storages) } catch { throw InputError("--gitlab \(gitlab): \(error)") }
            var builder = InventoryBuilder(file: out)
            for p in found {
                try builder.add(InventoryEntry(id: RepositoryID(p.id), path: p.path, kind: .project, storage: p.storage, sizeBytes: p.repositoryBytes,
                                               forkRoot: p.forkRoot.map(RepositoryID.init)), line: nil)
            }
            let inventory = try builder.finish()
            try AtomicFile.write(out.hasSuffix(".json") ? Data(inventory.json().utf8) : Data(inventory.csv()), to: out)
            let bytes = found.reduce(Int64(0)) { $0 + $1.repositoryBytes }
            print("wrote \(out): \(found.count) projects, \(ByteText.decimal(Double(bytes))) on \(storages.joined(separator: ", "))")
        }
    }

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

/// `--storage NAME=DIR` options, each naming a folder.
func parseStorages(_ options: [String]) throws -> [LocalGitLab.Storage] {
    guard !options.isEmpty else { throw InputError("give at least one --storage NAME=DIR") }
    return try options.map { o in
        let parts = o.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw InputError("--storage \(o): expected NAME=DIR") }
        return LocalGitLab.Storage(name: parts[0], directory: URL(fileURLWithPath: parts[1]).standardizedFileURL.path)
    }
}

/// The inventory of repositories found in storage folders (`StorageScan`): their ids, paths,
/// storages, sizes and kinds.
func scannedInventory(_ found: [LocalGitLab.Repository], file: String) throws -> Inventory {
    var builder = InventoryBuilder(file: file)
    for r in found {
        let kind = RepositoryKind(name: r.kind.rawValue) ?? .project
        try builder.add(InventoryEntry(id: RepositoryID(r.id.value), path: r.relativePath, kind: kind, storage: r.storage, sizeBytes: r.sizeBytes), line: nil)
    }
    return try builder.finish()
}
