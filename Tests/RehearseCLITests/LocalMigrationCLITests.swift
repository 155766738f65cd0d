import Foundation
import LocalGit
import Migration
import SimKernel
import Testing

/// `inventory scan`, `plan` and `migrate --driver local-git` end to end on real bare
/// repositories, including a process killed with SIGKILL and resumed.
@Suite struct LocalMigrationCLITests {
    static let git = Git(environment: ["GIT_AUTHOR_NAME": "Rehearse", "GIT_AUTHOR_EMAIL": "rehearse@example.com",
                                       "GIT_COMMITTER_NAME": "Rehearse", "GIT_COMMITTER_EMAIL": "rehearse@example.com"])
    let dir: String = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-local-cli-\(UUID().uuidString)").path

    /// `count` bare repositories on storage a (1–3 commits each, a branch and a tag), storage
    /// b empty, the model and policy of a drain a → b two at a time; the inventory and state
    /// scanned and the plan made. Returns each repository's checksum.
    func setUp(count: Int) async throws -> [String: String] {
        let files = FileManager.default
        for s in ["a", "b"] { try files.createDirectory(atPath: "\(dir)/\(s)", withIntermediateDirectories: true) }
        var sums: [String: String] = [:]
        for i in 1...count {
            let path = "\(dir)/a/@hashed/\(i % 3)/project-\(i).git", work = "\(dir)/work-\(i)"
            try await Self.git.run(["init", "--bare", "--quiet", "--initial-branch=main", path])
            try await Self.git.run(["init", "--quiet", "--initial-branch=main", work])
            for c in 0...(i % 3) {
                try "\(i).\(c)\n".write(toFile: "\(work)/f", atomically: true, encoding: .utf8)
                try await Self.git.run(["-C", work, "add", "f"])
                try await Self.git.run(["-C", work, "commit", "--quiet", "-m", "c\(c)"])
            }
            try await Self.git.run(["-C", work, "tag", "v\(i)"])
            try await Self.git.run(["-C", work, "push", "--quiet", path, "main", "v\(i)"])
            try files.removeItem(atPath: work)
            sums["@hashed/\(i % 3)/project-\(i).git"] = try await Self.git.checksum(of: path).description
        }
        try writeDrainModelAndPolicy(in: dir)
        let scan = try rehearse(["inventory", "scan", "--storage", "a=\(dir)/a", "--storage", "b=\(dir)/b", "--out", "\(dir)/inventory.csv", "--state", "\(dir)/gitlab.sqlite"])
        #expect(scan.status == 0 && scan.out.hasPrefix("wrote \(dir)/inventory.csv: \(count) repositories"), "\(scan.out)\(scan.err)")
        let plan = try rehearse(["plan", "--inventory", "\(dir)/inventory.csv", "--model", "\(dir)/model.yaml", "--policy", "\(dir)/policy.yaml", "--out", "\(dir)/plan.json"])
        #expect(plan.status == 0, "\(plan.err)")
        return sums
    }

    var migrate: [String] {
        ["migrate", "--driver", "local-git", "--plan", "\(dir)/plan.json", "--journal", "\(dir)/journal.sqlite", "--state", "\(dir)/gitlab.sqlite",
         "--workers", "2", "--poll-interval", "50ms", "--retry-backoff", "100ms", "--retry-attempts", "50"]
    }
    var resume: [String] { ["migrate", "resume", "--journal", "\(dir)/journal.sqlite", "--state", "\(dir)/gitlab.sqlite", "--workers", "2"] }

    /// Every repository on b with the references it had, nothing left on a, each writable
    /// with exactly one finished move and only failed ones before it (never two at once).
    func expectAllMoved(_ sums: [String: String]) async throws {
        for (relative, sum) in sums.sorted(by: { $0.key < $1.key }) {
            #expect(try await Self.git.checksum(of: "\(dir)/b/\(relative)").description == sum, "\(relative)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/a/\(relative)"), "\(relative) left on a")
        }
        let gitlab = try LocalGitLab(path: "\(dir)/gitlab.sqlite")
        for r in try gitlab.repositories() {
            let found = try #require(try gitlab.lookUp(r.id))
            #expect(found.storage == "b" && !found.readOnly, "\(r.id): \(found)")
            #expect(found.moves.last?.state == .finished && found.moves.dropLast().allSatisfy { $0.state == .failed }, "\(r.id): \(found.moves)")
        }
    }

    /// Goal: the CLI moves real repositories and says so; a dry run moves none. Method: 6
    /// repositories scanned from nested folders, planned, drained.
    @Test func scanPlanAndMigrateMoveRealRepositories() async throws {
        let sums = try await setUp(count: 6)
        let dry = try rehearse(migrate + ["--dry-run"])
        #expect(dry.status == 0 && dry.out.hasSuffix("dry run: 6 moves, none made\n"), "\(dry.out)\(dry.err)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/journal.sqlite"))
        let ledger = "\(dir)/ledger.csv"
        let pushed = try rehearse(["workload", "push", "--state", "\(dir)/gitlab.sqlite", "--rate", "40", "--duration", "1s", "--ledger", ledger, "--seed", "3"])
        #expect(pushed.status == 0 && pushed.out.hasPrefix("pushes: ") && pushed.out.contains(" 0 failed"), "\(pushed.out)\(pushed.err)")
        let accepted = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").count - 1
        #expect(accepted > 10, "\(pushed.out)")
        // The pushes added branches: the checksums to keep are the ones after them.
        var now: [String: String] = [:]
        for relative in sums.keys { now[relative] = try await Self.git.checksum(of: "\(dir)/a/\(relative)").description }
        let run = try rehearse(migrate)
        #expect(run.status == 0 && run.out == "plan plan: finished; done 6, given up 0, pending 0, in flight 0\n", "\(run.out)\(run.err)")
        try await expectAllMoved(now)
        let verified = try rehearse(["workload", "verify", "--state", "\(dir)/gitlab.sqlite", "--ledger", ledger])
        #expect(verified.status == 0 && verified.out == "all \(accepted) accepted pushes are in their repositories\n", "\(verified.out)\(verified.err)")
        // A push that went missing is named, and the exit code is 1.
        let first = try #require(try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").dropFirst().first).split(separator: ",").map(String.init)
        let gitlab = try LocalGitLab(path: "\(dir)/gitlab.sqlite")
        let home = try #require(try gitlab.location(of: .init(Int64(first[0])!)))
        try await Self.git.run(["--git-dir", home.path, "update-ref", "-d", first[1]])
        let lost = try rehearse(["workload", "verify", "--state", "\(dir)/gitlab.sqlite", "--ledger", ledger])
        #expect(lost.status == 1 && lost.err.contains("lost push: \(first.joined(separator: ","))"), "\(lost.err)")
        let status = try rehearse(["migrate", "status", "--journal", "\(dir)/journal.sqlite"])
        #expect(status.out.contains("finished") && status.out.contains("done 6"), "\(status.out)")
    }

    /// Goal: a migration killed with SIGKILL at any point loses nothing and schedules no move
    /// twice. Method: seeded rounds of 6 repositories; each round kills the run, then each
    /// resume, at seeded instants 30–330 ms after it starts, until one gets to its end on its
    /// own; then a last resume, and every repository must be on b, whole. At least 20 kills
    /// must land while a process runs.
    @Test func aMigrationKilledAnywhereResumesAndLosesNothing() async throws {
        var rng = SplitMix64(state: 2026)
        var kills = 0
        for round in 0..<10 where kills < 20 {
            try? FileManager.default.removeItem(atPath: dir)
            let sums = try await setUp(count: 6)
            let journal = "\(dir)/journal.sqlite"
            for _ in 0..<8 {
                // Killed before it wrote its journal, a run has done nothing: it starts again.
                let started = FileManager.default.fileExists(atPath: journal)
                guard try killed(started ? resume : migrate, after: 0.03 + Double(rng.next() % 300) / 1000) else { break }
                if FileManager.default.fileExists(atPath: journal) { kills += 1 }
            }
            let last = try rehearse(FileManager.default.fileExists(atPath: journal) ? resume : migrate)
            #expect(last.status == 0 && last.out.contains("finished; done 6"), "round \(round): \(last.out)\(last.err)")
            try await expectAllMoved(sums)
        }
        #expect(kills >= 20, "only \(kills) kills landed while a migration ran")
    }

    /// Goal: an abort after a crash starts no new move, lets the ones in flight settle and
    /// leaves every repository whole, writable and on one storage. Method: 6 repositories, the
    /// run killed 150 ms in, then `migrate abort`: each repository is on a or on b with its
    /// checksum, none read-only, and the engine finished as aborted.
    @Test func abortLeavesEveryRepositoryWholeAndWritable() async throws {
        let sums = try await setUp(count: 6)
        _ = try killed(migrate, after: 0.1, once: "\(dir)/journal.sqlite")
        let abort = try rehearse(["migrate", "abort", "--journal", "\(dir)/journal.sqlite", "--state", "\(dir)/gitlab.sqlite"])
        #expect(abort.status == 0 && abort.out.hasPrefix("plan plan: aborted;"), "\(abort.out)\(abort.err)")
        let gitlab = try LocalGitLab(path: "\(dir)/gitlab.sqlite")
        for r in try gitlab.repositories() {
            let found = try #require(try gitlab.lookUp(r.id))
            #expect(!found.readOnly && found.moves.allSatisfy(\.state.isTerminal), "\(r.id): \(found)")
            let path = "\(dir)/\(found.storage.name)/\(r.relativePath)"
            #expect(try await Self.git.checksum(of: path).description == sums[r.relativePath], "\(r.relativePath)")
        }
    }

    /// Starts rehearse, sends SIGKILL after `seconds`; true when it was still running then.
    /// With `once`, the time counts from when that file appears (a slow start under load
    /// cannot make the kill land before the run began).
    func killed(_ arguments: [String], after seconds: Double, once file: String? = nil) throws -> Bool {
        let p = Process()
        p.executableURL = rehearseExecutable()
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        if let file {
            for _ in 0..<1000 where !FileManager.default.fileExists(atPath: file) && p.isRunning { Thread.sleep(forTimeInterval: 0.01) }
        }
        Thread.sleep(forTimeInterval: seconds)
        let running = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return running
    }

    /// Goal: what the local driver cannot use is refused by name, with exit 2, before any move.
    @Test func localMigrationRefusesBadInput() async throws {
        _ = try await setUp(count: 2)
        let missing = try rehearse(["inventory", "scan", "--storage", "a=\(dir)/nowhere", "--out", "\(dir)/x.csv"])
        #expect(missing.status == 2 && missing.err == "rehearse: --storage a=\(dir)/nowhere: no such folder\n", "\(missing.err)")
        let repository = try rehearse(["inventory", "scan", "--storage", "a=\(dir)/a/@hashed/1/project-1.git", "--out", "\(dir)/x.csv"])
        #expect(repository.status == 2 && repository.err.hasSuffix("this is a repository, not a folder of repositories\n"), "\(repository.err)")
        let again = try rehearse(["inventory", "scan", "--storage", "a=\(dir)/a", "--out", "\(dir)/x.csv", "--state", "\(dir)/gitlab.sqlite"])
        #expect(again.status == 2 && again.err.contains("a local GitLab state is already there"), "\(again.err)")
        // A plan that names a storage the local GitLab does not have.
        let plan = try String(contentsOfFile: "\(dir)/plan.json", encoding: .utf8)
        try plan.replacingOccurrences(of: "\"to\" : \"b\"", with: "\"to\" : \"c\"").replacingOccurrences(of: "\"to\":\"b\"", with: "\"to\":\"c\"")
            .write(toFile: "\(dir)/plan-c.json", atomically: true, encoding: .utf8)
        var args = migrate
        args[4] = "\(dir)/plan-c.json"
        let unknown = try rehearse(args)
        #expect(unknown.status == 2 && unknown.err.contains("storage \"c\" is not a local storage (a, b)"), "\(unknown.err)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/journal.sqlite"))
        // A journal written for another plan.
        #expect(try rehearse(migrate).status == 0)
        let other = try rehearse(migrate.map { $0 == "50ms" ? "60ms" : $0 })
        #expect(other.status == 2 && other.err.hasPrefix("rehearse: \(dir)/journal.sqlite: "), "\(other.err)")
        let noState = try rehearse(resume.map { $0.hasSuffix("gitlab.sqlite") ? "\(dir)/none.sqlite" : $0 })
        #expect(noState.status == 2 && noState.err.contains("no local GitLab state"), "\(noState.err)")
    }
}

/// The fleet model (storages a and b, all weight on a) and the policy (drain a into b, two
/// moves at a time) that the real-driver CLI tests plan with.
func writeDrainModelAndPolicy(in dir: String) throws {
    try """
    name: local
    nodes:
      - {name: na, storages: [{name: a, capacity: 10GB}]}
      - {name: nb, storages: [{name: b, capacity: 10GB}]}
    gitlab: {weights: {a: 100, b: 0}}
    """.write(toFile: "\(dir)/model.yaml", atomically: true, encoding: .utf8)
    try "drain: {from: [a], to: [b]}\nconcurrency: {perSource: 2}\n".write(toFile: "\(dir)/policy.yaml", atomically: true, encoding: .utf8)
}
