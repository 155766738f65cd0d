import ArgumentParser
import Foundation
import SpecFiles

/// The `rehearse` command line. One `ParsableCommand` per verb, each in its own file.
@main
struct Rehearse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rehearse",
        abstract: "Rehearse Gitaly fleet migrations in a deterministic simulator before running them for real.",
        subcommands: [
            BenchCommand.self,
            ModelCommand.self,
            TraceCommand.self,
            SimulateCommand.self, InventoryCommand.self, PlanCommand.self, MigrateCommand.self, WorkloadCommand.self, CalibrateCommand.self, ValidateCommand.self,
            RunCommand.self, SweepCommand.self, MergeCommand.self, CheckCommand.self, ReportCommand.self, CompareCommand.self,
        ])

    /// Runs the command line. Every failure that comes from the user's input (a bad flag, a bad
    /// file) exits with code 2 and one message on standard error; help and version exit 0.
    static func main() async {
        HugePages.restartIfUseful()
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let failed as ClaimsFailed {
            printError("rehearse: " + failed.description)
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            printError(oneLine(error))
            Foundation.exit(2)
        }
    }
}

/// The first sentence of an error, without the usage block ArgumentParser appends: one line
/// saying which flag and why.
func oneLine(_ error: Error) -> String {
    if let input = error as? InputError { return "rehearse: " + input.description }
    return "rehearse: " + SpecError.flagMessage(Rehearse.fullMessage(for: error))
}
