import Foundation
import GitLabStandIn
import LocalGit
import Migration
import Synchronization
import Testing

/// `inventory fetch --gitlab`, `plan` and `migrate --driver gitlab` end to end against the
/// GitLab API stand-in serving real bare repositories, including bad tokens and addresses and
/// a process killed with SIGKILL and resumed.
@Suite struct GitLabMigrationCLITests {
    static let git = Git.committing(as: "Rehearse")
    static let token = "glpat-cli-test-token-0003"
    let dir: String = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-gitlab-cli-\(UUID().uuidString)").path

    /// `count` repositories on a, b empty, scanned into a state the stand-in serves; the token
    /// in a file; the model and policy of a drain a → b two at a time.
    func setUp(count: Int, faults: StandInFaults = StandInFaults()) async throws -> (url: String, server: RunningStandIn, ledger: StandInLedger, sums: [Int64: RepositoryChecksum]) {
        for s in ["a", "b"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(s)", withIntermediateDirectories: true) }
        let make = SyntheticRepositories(git: Self.git)
        for i in 1...count { try await make.make(at: "\(dir)/a/@hashed/p\(i).git", bytes: 3_000 * i, seed: UInt64(i)) }
        let scan = try await rehearseOffPool(["inventory", "scan", "--storage", "a=\(dir)/a", "--storage", "b=\(dir)/b", "--out", "\(dir)/scanned.csv", "--state", "\(dir)/gitlab.sqlite"])
        #expect(scan.status == 0, "\(scan.err)")
        let gitlab = try LocalGitLab(path: "\(dir)/gitlab.sqlite")
        var sums: [Int64: RepositoryChecksum] = [:]
        for r in try gitlab.repositories() { sums[r.id.value] = try await Self.git.checksum(of: "\(dir)/a/\(r.relativePath)") }
        var server = StandInServer(gitlab: gitlab, adminToken: Self.token, faults: faults)
        server.workers = 2
        server.git = Self.git
        server.pushWaitInterval = .milliseconds(100)
        let running = try await server.start()
        try "\(Self.token)\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        try writeDrainModelAndPolicy(in: dir)
        return (running.url, running, running.ledger, sums)
    }

    /// Runs `body`, then stops the stand-in and removes the folder, whatever happened.
    func finally(_ server: RunningStandIn, _ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            await server.stop()
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        await server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func migrate(_ url: String) -> [String] {
        ["migrate", "--driver", "gitlab", "--plan", "\(dir)/plan.json", "--journal", "\(dir)/journal.sqlite", "--gitlab", url,
         "--token-file", "\(dir)/token", "--poll-interval", "50ms", "--retry-backoff", "100ms", "--retry-attempts", "50"]
    }

    func expectAllMoved(_ sums: [Int64: RepositoryChecksum], ledger: StandInLedger) async throws {
        let gitlab = try LocalGitLab(path: "\(dir)/gitlab.sqlite")
        for r in try gitlab.repositories() {
            #expect(try await Self.git.checksum(of: "\(dir)/b/\(r.relativePath)") == sums[r.id.value], "\(r.id)")
            let found = try #require(try gitlab.lookUp(r.id))
            #expect(found.storage == "b" && !found.readOnly, "\(r.id): \(found)")
            #expect(found.moves.last?.state == .finished && found.moves.dropLast().allSatisfy { $0.state == .failed }, "\(r.id): \(found.moves)")
        }
        #expect(ledger.secondMoveRequests.isEmpty, "\(ledger.secondMoveRequests)")
    }

    /// Goal: fetch, plan, dry run and migrate through the API, and the token never shows.
    /// Method: 5 repositories; the inventory fetched from the stand-in must match the scan.
    @Test func fetchPlanAndMigrateThroughTheAPI() async throws {
        let (url, server, ledger, sums) = try await setUp(count: 5)
        try await finally(server) {
            let fetch = try await rehearseOffPool(["inventory", "fetch", "--gitlab", url, "--storage", "a", "--out", "\(dir)/inventory.csv"], environment: ["GITLAB_TOKEN": Self.token])
            #expect(fetch.status == 0 && fetch.out.hasPrefix("wrote \(dir)/inventory.csv: 5 projects"), "\(fetch.out)\(fetch.err)")
            let fetched = try String(contentsOfFile: "\(dir)/inventory.csv", encoding: .utf8).split(separator: "\n")
            let scanned = try String(contentsOfFile: "\(dir)/scanned.csv", encoding: .utf8).split(separator: "\n")
            // Same ids, storages and sizes; GitLab names projects by namespace, the scan by folder.
            #expect(fetched.count == scanned.count)
            let plan = try await rehearseOffPool(["plan", "--inventory", "\(dir)/inventory.csv", "--model", "\(dir)/model.yaml", "--policy", "\(dir)/policy.yaml", "--out", "\(dir)/plan.json"])
            #expect(plan.status == 0, "\(plan.err)")
            let dry = try await rehearseOffPool(migrate(url) + ["--dry-run"])
            #expect(dry.status == 0 && dry.out.hasSuffix("dry run: 5 moves, none made\n") && dry.out.contains("POST \(url)/api/v4/projects/1/repository_storage_moves"), "\(dry.out)\(dry.err)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/journal.sqlite"))
            #expect(try LocalGitLab(path: "\(dir)/gitlab.sqlite").moves(of: RepositoryID(1)).isEmpty)
            let run = try await rehearseOffPool(migrate(url))
            #expect(run.status == 0 && run.out.contains("finished; done 5, given up 0"), "\(run.out)\(run.err)")
            for output in [fetch.out, fetch.err, dry.out, dry.err, run.out, run.err] { #expect(!output.contains(Self.token)) }
            try await expectAllMoved(sums, ledger: ledger)
            let status = try await rehearseOffPool(["migrate", "status", "--journal", "\(dir)/journal.sqlite"])
            #expect(status.status == 0 && status.out.contains("done 5, given up 0"), "\(status.out)")
        }
    }

    /// Goal: a wrong token, a user's token, no token, an unreachable GitLab and a storage
    /// GitLab lacks each stop before any move, with one line and exit code 2, and no journal.
    @Test func badTokensAndAddressesStartNothing() async throws {
        let (url, server, _, _) = try await setUp(count: 2)
        try await finally(server) {
            let plan = try await rehearseOffPool(["plan", "--inventory", "\(dir)/scanned.csv", "--model", "\(dir)/model.yaml", "--policy", "\(dir)/policy.yaml", "--out", "\(dir)/plan.json"])
            #expect(plan.status == 0, "\(plan.err)")
            try "wrong-token\n".write(toFile: "\(dir)/bad-token", atomically: true, encoding: .utf8)
            var withBadToken = migrate(url)
            withBadToken[withBadToken.firstIndex(of: "\(dir)/token")!] = "\(dir)/bad-token"
            var noTokenFile = migrate(url)
            noTokenFile.removeSubrange(noTokenFile.firstIndex(of: "--token-file")!...noTokenFile.firstIndex(of: "--token-file")! + 1)
            var unreachable = migrate(url)
            unreachable[unreachable.firstIndex(of: url)!] = "http://127.0.0.1:9"
            let cases: [([String], [String: String], String)] = [
                (withBadToken, [:], "401 Unauthorized"),
                (noTokenFile, ["GITLAB_TOKEN": ""], "no GitLab token: set GITLAB_TOKEN or give --token-file"),
                (unreachable, [:], "cannot reach GitLab at http://127.0.0.1:9"),
                (migrate("ftp://gitlab.example.com"), [:], "not an http:// or https:// address"),
            ]
            for (args, env, message) in cases {
                let r = try await rehearseOffPool(args, environment: env)
                #expect(r.status == 2 && r.err.contains(message) && r.err.split(separator: "\n").count == 1, "\(args): \(r.err)")
                #expect(!r.err.contains("wrong-token") && !r.err.contains(Self.token))
                #expect(!FileManager.default.fileExists(atPath: "\(dir)/journal.sqlite"))
            }
            // A plan naming a storage GitLab does not have.
            let text = try String(contentsOfFile: "\(dir)/plan.json", encoding: .utf8)
            try text.replacingOccurrences(of: "\"b\"", with: "\"c\"").write(toFile: "\(dir)/plan-c.json", atomically: true, encoding: .utf8)
            var other = migrate(url)
            other[other.firstIndex(of: "\(dir)/plan.json")!] = "\(dir)/plan-c.json"
            let r = try await rehearseOffPool(other)
            #expect(r.status == 2 && r.err.contains("GitLab has no storage named c"), "\(r.err)")
            #expect(try LocalGitLab(path: "\(dir)/gitlab.sqlite").moves(of: RepositoryID(1)).isEmpty)
        }
    }

    /// Goal: the gitlab driver's process killed with SIGKILL mid-drain and resumed loses
    /// nothing and never asks for a second move of a repository while one is in flight.
    /// Method: 8 repositories under lost POST answers (20%) and 502 pages (10%); killed at 6
    /// seeded instants, each followed by `migrate resume`, until the drain finishes.
    @Test func aKilledGitLabMigrationResumesWithoutAskingTwice() async throws {
        var faults = StandInFaults()
        faults.lostScheduleAnswers = 0.2
        faults.badGatewayPages = 0.1
        faults.seed = 11
        let (url, server, ledger, sums) = try await setUp(count: 8, faults: faults)
        try await finally(server) {
            let plan = try await rehearseOffPool(["plan", "--inventory", "\(dir)/scanned.csv", "--model", "\(dir)/model.yaml", "--policy", "\(dir)/policy.yaml", "--out", "\(dir)/plan.json"])
            #expect(plan.status == 0, "\(plan.err)")
            let resume = ["migrate", "resume", "--journal", "\(dir)/journal.sqlite", "--gitlab", url, "--token-file", "\(dir)/token"]
            var kills = 0
            for (k, delay) in [700, 400, 250, 600, 300, 500].enumerated() {
                let process = Process()
                process.executableURL = rehearseExecutable()
                // Until a journal exists (a kill before it was made), the migration starts anew.
                process.arguments = k == 0 || !FileManager.default.fileExists(atPath: "\(dir)/journal.sqlite") ? migrate(url) : resume
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                try await Task.sleep(for: .milliseconds(delay))
                if process.isRunning { kill(process.processIdentifier, SIGKILL); kills += 1 }
                process.waitUntilExit()
            }
            #expect(kills >= 3)
            let last = try await rehearseOffPool(resume)
            #expect(last.status == 0 && last.out.contains("finished; done 8, given up 0"), "\(last.out)\(last.err)")
            try await expectAllMoved(sums, ledger: ledger)
        }
    }
}

/// `rehearse(_:environment:)` on a thread of its own: waiting on a child process must not hold
/// one of the few threads the in-process stand-in answers on.
func rehearseOffPool(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, out: String, err: String) {
    try await withCheckedThrowingContinuation { c in
        Thread.detachNewThread { c.resume(with: Result { try rehearse(arguments, environment: environment) }) }
    }
}
