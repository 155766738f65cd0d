import ArgumentParser
import Foundation
import Inventory
import Planner
import SpecFiles

/// `rehearse plan`: make a migration plan from an inventory, a fleet model and a policy, and
/// explain a repository's place in it.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a storage migration, or explain where a plan sends a repository.",
        subcommands: [Make.self, Explain.self],
        defaultSubcommand: Make.self)

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make",
            abstract: "Plan a migration and write plan.json (schema in docs/plan-schema.md).",
            discussion: """
                An infeasible policy (destinations without room below their fill limits, a fork \
                network that fits nowhere, a move longer than readOnlyMax) fails with the reason \
                and the figures, exit code 2, and writes nothing.
                """)

        @Option(help: ArgumentHelp("The repositories (CSV, or JSON when it ends in .json).", valueName: "file"))
        var inventory: String

        @Option(help: ArgumentHelp("The fleet model (YAML, schema in models/README.md).", valueName: "file"))
        var model: String

        @Option(help: ArgumentHelp("The migration policy (YAML, schema in models/policies/README.md).", valueName: "file"))
        var policy: String

        @Option(help: ArgumentHelp("Where to write the plan.", valueName: "file"))
        var out: String = "plan.json"

        func run() throws {
            let fleet = try loadPlanFleet(model)
            let inv = try loadInventory(inventory, knownStorages: fleet.storages.map(\.name))
            guard let text = try? String(contentsOfFile: policy, encoding: .utf8) else { throw InputError("\(policy): cannot read the file") }
            let plan: Plan
            do {
                plan = try Plan.make(inventory: inv, fleet: fleet, policy: try Policy.parse(text, file: policy))
            } catch let e as SpecError {
                throw InputError(e.description)
            } catch let e as PlanError {
                throw InputError(e.description)
            }
            try AtomicFile.write(plan.jsonData(), to: out)
            var lines = ["wrote \(out): \(plan.totals.moves) moves, \(ByteText.decimal(plan.totals.bytes)), estimated \(ByteText.duration(plan.totals.estimatedSeconds))"]
            for p in plan.phases {
                lines.append("  phase \(p.name): \(p.weightSteps.count) weight steps, \(p.waves.count) waves, \(p.moves) moves, \(ByteText.decimal(p.bytes)), estimated \(ByteText.duration(p.estimatedSeconds))")
            }
            for s in plan.storages {
                let before = s.usedBytesBefore / s.capacityBytes, after = s.usedBytesAfter / s.capacityBytes
                lines.append("  \(s.role.rawValue) \(s.name): \(ByteText.percent(before)) → \(ByteText.percent(after)) full (limit \(ByteText.percent(s.fillLimit)))")
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Say where a plan sends a repository and why.")

        @Option(help: ArgumentHelp("The plan (from rehearse plan).", valueName: "file"))
        var plan: String = "plan.json"

        @Argument(help: ArgumentHelp("The repository: its id or its path.", valueName: "repository"))
        var repository: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: plan) else { throw InputError("\(plan): cannot read the file") }
            let p: Plan
            do { p = try Plan.decode(data, file: plan) } catch let e as SpecError { throw InputError(e.description) }
            guard let text = p.explain(repository) else {
                throw InputError("\(plan): repository \(repository) is not moved by this plan (it is not on a drained storage)")
            }
            print(text)
        }
    }
}
