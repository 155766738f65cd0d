import ArgumentParser
import GitalyModel
import SpecFiles

/// `rehearse model`: work with fleet model files (`models/*.yaml`).
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Check fleet model files.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a fleet model and print a summary of it; exit 2 when it is wrong.")

        @Argument(help: ArgumentHelp("The fleet model file (YAML, schema in models/README.md).", valueName: "file"))
        var file: String

        func run() throws {
            let fleet: Fleet
            do {
                fleet = try Fleet.build(FleetSpec.load(path: file))
            } catch let e as SpecError {
                throw InputError(e.description)
            }
            print(fleet.summary)
        }
    }
}
