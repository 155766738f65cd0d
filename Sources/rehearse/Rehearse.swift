import ArgumentParser
import Foundation

/// The `rehearse` command line. One `ParsableCommand` per verb, each in its own file.
@main
struct Rehearse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rehearse",
        abstract: "Rehearse Gitaly fleet migrations in a deterministic simulator before running them for real.",
        subcommands: [
            BenchCommand.self,
            TraceCommand.self,
        ])

    /// Runs the command line. Every failure that comes from the user's input (a bad flag, a bad
    /// file) exits with code 2 and one message on standard error; help and version exit 0.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            printError((error as? InputError)?.description ?? fullMessage(for: error))
            Foundation.exit(2)
        }
    }
}
