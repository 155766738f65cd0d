import ArgumentParser
import Foundation
import GitLabStandIn
import LocalGit
import Migration
import SpecFiles

/// `gitlab-standin`: the GitLab API stand-in on its own, so that any client of GitLab's API
/// (this project's `migrate --driver gitlab`, gitalyctl, a script) can be pointed at it.
@main
struct StandInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gitlab-standin",
        abstract: "Serve GitLab's repository storage move API over bare repositories in storage folders (plain HTTP, loopback).",
        discussion: """
            The storage folders are scanned as `rehearse inventory scan` does (projects; @snippets/ \
            holds snippets, @groups/ group wikis) into --state, unless that state exists already. \
            The admin token is printed at start (or give --token). Moves run for real with git, as \
            GitLab's move does. Faults: --too-many-requests, --server-errors, --bad-gateway-pages, \
            --slow-answers and --lost-schedule-answers are shares of requests, drawn from --seed.
            """)

    @Option(help: ArgumentHelp("Port on 127.0.0.1 (0: any free port, printed).", valueName: "port"))
    var port: Int = 8080

    @Option(help: ArgumentHelp("Storages: NAME=DIR,NAME=DIR (folders of bare repositories).", valueName: "list"))
    var storages: String

    @Option(help: ArgumentHelp("The stand-in's state (SQLite); created from the folders when missing.", valueName: "file"))
    var state: String = "gitlab-standin.sqlite"

    @Option(help: ArgumentHelp("The admin token (default: a new one, printed).", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("Sidekiq workers running moves.", valueName: "n"))
    var workers: Int = 4

    @Option(help: "Share of requests answered 429 with Retry-After.") var tooManyRequests = 0.0
    @Option(help: "Share of requests answered 500.") var serverErrors = 0.0
    @Option(help: "Share of requests answered 502 with an HTML page.") var badGatewayPages = 0.0
    @Option(help: "Share of requests answered after --slow-delay seconds.") var slowAnswers = 0.0
    @Option(help: "Seconds a slow answer takes.") var slowDelay = 2.0
    @Option(help: "Share of move POSTs whose move is made but whose answer is lost (502).") var lostScheduleAnswers = 0.0
    @Option(help: "Seed of the fault draws.") var seed: UInt64 = 1

    /// Runs the command line. A bad flag or folder exits with code 2 and one line on standard
    /// error, as `rehearse` does (ArgumentParser's own would be 64 and its usage block).
    static func main() async {
        do {
            let command = try parse()
            try await command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // `fail` has said why (from `validate` the parser hands its code on).
            if code.rawValue == 2 { Foundation.exit(2) }
            let usage = code == .validationFailure
            FileHandle.standardError.write(Data("gitlab-standin: \(SpecError.flagMessage(fullMessage(for: error)))\n".utf8))
            Foundation.exit(usage ? 2 : 1)
        }
    }

    func validate() throws {
        guard (0...65535).contains(port) else { throw fail("--port must be 0 to 65535, got \(port)") }
        guard (1...256).contains(workers) else { throw fail("--workers must be 1 to 256, got \(workers)") }
        for (flag, share) in [("--too-many-requests", tooManyRequests), ("--server-errors", serverErrors), ("--bad-gateway-pages", badGatewayPages),
                              ("--slow-answers", slowAnswers), ("--lost-schedule-answers", lostScheduleAnswers)] where !(0...1).contains(share) {
            throw fail("\(flag) must be a share from 0 to 1, got \(share)")
        }
        guard tooManyRequests + serverErrors + badGatewayPages + slowAnswers <= 1 else { throw fail("the request fault shares add up to more than 1") }
        guard slowDelay >= 0, slowDelay <= 600 else { throw fail("--slow-delay must be 0 to 600 seconds, got \(slowDelay)") }
    }

    /// Bad input: one line on stderr, exit code 2 (as `rehearse` does).
    func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("gitlab-standin: \(message)\n".utf8))
        return ExitCode(2)
    }

    func run() async throws {
        let folders: [LocalGitLab.Storage] = try storages.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw fail("--storages \(item): expected NAME=DIR") }
            return LocalGitLab.Storage(name: parts[0], directory: URL(fileURLWithPath: parts[1]).standardizedFileURL.path)
        }
        guard !folders.isEmpty else { throw fail("--storages: give at least one NAME=DIR") }
        let gitlab: LocalGitLab
        do {
            if FileManager.default.fileExists(atPath: state) {
                gitlab = try LocalGitLab(path: state)
            } else {
                gitlab = try LocalGitLab.create(path: state, storages: folders, repositories: try StorageScan.scan(folders))
            }
        } catch let e as StorageScan.Failure {
            throw fail(e.description)
        } catch let e as LocalGitLab.Failure {
            throw fail(e.description)
        }
        var faults = StandInFaults()
        faults.seed = seed
        faults.tooManyRequests = tooManyRequests
        faults.serverErrors = serverErrors
        faults.badGatewayPages = badGatewayPages
        faults.slowAnswers = slowAnswers
        faults.slowDelay = .milliseconds(Int64(slowDelay * 1000))
        faults.lostScheduleAnswers = lostScheduleAnswers
        let admin = token ?? StandInServer.newToken()
        var server = StandInServer(gitlab: gitlab, adminToken: admin, faults: faults)
        server.workers = workers
        server.log = { FileHandle.standardError.write(Data("gitlab-standin: \($0)\n".utf8)) }
        let repositories = try gitlab.repositories().count
        try await server.run(port: port) { bound in
            // Written straight to the descriptor, so that a reader of a pipe sees it at once.
            FileHandle.standardOutput.write(Data("GitLab API stand-in on http://127.0.0.1:\(bound)/api/v4 (\(repositories) repositories, state \(state))\nadmin token: \(admin)\n".utf8))
        }
    }
}
