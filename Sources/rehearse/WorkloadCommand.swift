import ArgumentParser
import Foundation
import LocalGit
import SpecFiles

/// `rehearse workload push`: real pushes into a local GitLab's repositories while a migration
/// runs, each accepted one written to a ledger that the migration must keep.
struct WorkloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract: "Load a local GitLab with real git traffic while a migration runs.",
        subcommands: [Push.self, Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check that every push a ledger accepted is in its repository, wherever the repository now lives; exit 1 naming those lost.")

        @Option(help: ArgumentHelp("The local GitLab state (`inventory scan --state`).", valueName: "file"))
        var state: String

        @Option(help: ArgumentHelp("The ledger `workload push` wrote.", valueName: "file"))
        var ledger: String

        func run() async throws {
            guard FileManager.default.fileExists(atPath: ledger) else { throw InputError("\(ledger): no such ledger") }
            let gitlab: LocalGitLab
            do { gitlab = try LocalGitLab(path: state) } catch let e as LocalGitLab.Failure { throw InputError(e.description) }
            let lost = try await PushWorkload.missing(ledger: ledger, in: gitlab, git: Git())
            let total = (try String(contentsOfFile: ledger, encoding: .utf8)).split(separator: "\n").count - 1
            guard lost.isEmpty else {
                for l in lost { printError("lost push: \(l)") }
                throw ClaimsFailed(description: "\(lost.count) of \(total) accepted pushes are not in their repositories")
            }
            print("all \(total) accepted pushes are in their repositories")
        }
    }

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push",
            abstract: "Push new commits to random repositories at a rate; a read-only repository's push is counted as blocked.",
            discussion: """
                Each push asks the local GitLab first, as Rails does: a read-only repository (a move \\
                under way) refuses it, and it counts as blocked; otherwise the push counter goes up \\
                for the length of the push, which a move waits for. Every accepted push is appended \\
                to --ledger as repository,ref,commit; `workload verify` checks them after the move.
                """)

        @Option(help: ArgumentHelp("The local GitLab state (`inventory scan --state`).", valueName: "file"))
        var state: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Pushes per second (Poisson arrivals).", valueName: "rate"))
        var rate: Double

        @Option(help: ArgumentHelp("How long to push, e.g. 90s or 5m.", valueName: "duration"))
        var duration: String

        @Option(help: ArgumentHelp("Append every accepted push here (CSV).", valueName: "file"))
        var ledger: String

        @Option(help: ArgumentHelp("Seed of the arrivals and of the repositories picked.", valueName: "seed"))
        var seed: UInt64 = 1

        func run() async throws {
            guard rate > 0, rate <= 1000 else { throw InputError("--rate must be above 0 and at most 1000 pushes per second, got \(rate)") }
            guard let seconds = Units.seconds(duration), seconds > 0, seconds <= 7 * 86_400 else {
                throw InputError("--duration \(duration): expected a duration above 0 and at most a week, like 90s or 5m")
            }
            let gitlab: LocalGitLab
            do { gitlab = try LocalGitLab(path: state) } catch let e as LocalGitLab.Failure { throw InputError(e.description) }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-workload-\(ProcessInfo.processInfo.processIdentifier)").path
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let workload = PushWorkload(gitlab: gitlab, git: Git.committing(as: "rehearse workload"),
                                        ratePerSecond: rate, seed: seed, scratch: scratch)
            let t = try await workload.run(for: .milliseconds(Int64(seconds * 1000)), ledger: ledger)
            print("pushes: \(t.accepted) accepted, \(t.blocked) blocked (read-only), \(t.failed) failed; ledger \(ledger)")
        }
    }
}
