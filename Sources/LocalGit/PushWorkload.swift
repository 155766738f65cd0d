import Foundation
import Migration
import SimKernel

/// Pushes real commits to random repositories of a local GitLab while a migration runs, as
/// users would: each push asks Rails first (`LocalGitLab.beginPush`: refused while the
/// repository is read-only, counted as blocked, never as accepted; otherwise the push counter
/// goes up), then `git push`es a new commit to a new branch of the repository where it lives,
/// then lowers the counter. Every accepted push is appended to the ledger
/// (`repository,ref,commit`) once git has said it landed, so a ledger line is a promise the
/// migration must keep. Arrivals are Poisson at `rate`, from `seed`.
public struct PushWorkload: Sendable {
    public struct Tally: Equatable, Sendable {
        public var accepted = 0
        public var blocked = 0
        public var failed = 0
        /// Why the last failed push failed.
        public var lastFailure: String?
    }

    public var gitlab: LocalGitLab
    public var git: Git
    public var ratePerSecond: Double
    public var seed: UInt64
    /// Where the pushes' commits are made (a scratch repository of its own).
    public var scratch: String

    public init(gitlab: LocalGitLab, git: Git, ratePerSecond: Double, seed: UInt64, scratch: String) {
        self.gitlab = gitlab
        self.git = git
        self.ratePerSecond = ratePerSecond
        self.seed = seed
        self.scratch = scratch
    }

    /// Pushes until `duration` has passed (or the task is cancelled), appending to `ledger`.
    /// Pushes overlap (at most `concurrentMax` at once): arrivals do not wait for the pushes
    /// before them, as users do not.
    public func run(for duration: Duration, ledger: String, concurrentMax: Int = 64) async throws -> Tally {
        let repositories = try gitlab.repositories().map(\.id)
        guard !repositories.isEmpty else { return Tally() }
        if !FileManager.default.fileExists(atPath: ledger) { _ = FileManager.default.createFile(atPath: ledger, contents: Data("repository,ref,commit\n".utf8)) }
        guard let out = FileHandle(forWritingAtPath: ledger) else { throw LocalMoveError("\(ledger): cannot write the ledger") }
        try out.seekToEnd()
        let book = LedgerBook(out)
        try? FileManager.default.removeItem(atPath: scratch)
        try await git.run(["init", "--quiet", "--bare", scratch])
        // Each push is a new commit of the empty tree: `commit-tree` touches no index or HEAD,
        // so pushes made at once do not trip over one another.
        let tree = try await git.run(["--git-dir", scratch, "hash-object", "-t", "tree", "-w", "--stdin"]).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        var random = RandomStreams(seed: seed).stream("workload.pushes")
        let clock = ContinuousClock()
        let end = clock.now + duration
        var next = clock.now
        var sequence = 0
        let (git, gitlab, scratch, seed) = (self.git, self.gitlab, self.scratch, self.seed)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            while !Task.isCancelled {
                // Exponential gaps: Poisson arrivals at the given rate.
                next += .milliseconds(Int64((random.exponential(rate: ratePerSecond) * 1000).rounded()))
                guard next < end else { break }
                do { try await Task.sleep(until: next, clock: clock) } catch { break }
                let repository = repositories[random.below(repositories.count)]
                sequence += 1
                guard let path = try gitlab.beginPush(repository) else {
                    await book.blocked()
                    continue
                }
                if inFlight >= concurrentMax { try await group.next(); inFlight -= 1 }
                inFlight += 1
                let ref = "refs/heads/workload/\(seed)-\(sequence)", message = "push \(sequence) to repository \(repository.value)"
                group.addTask {
                    defer { try? gitlab.endPush(repository) }
                    do {
                        let commit = try await git.run(["--git-dir", scratch, "commit-tree", tree, "-m", message]).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
                        try await git.run(["--git-dir", scratch, "push", "--quiet", path, "\(commit):\(ref)"], timeout: .seconds(600))
                        await book.accepted("\(repository.value),\(ref),\(commit)\n")
                    } catch is CancellationError {
                    } catch {
                        await book.failed("\(error)")
                    }
                }
            }
            try await group.waitForAll()
        }
        try? out.close()
        return await book.tally
    }

    /// The ledger's pushes that are not where their repository now lives: each line whose ref
    /// is missing or points elsewhere.
    public static func missing(ledger: String, in gitlab: LocalGitLab, git: Git) async throws -> [String] {
        let text = try String(contentsOfFile: ledger, encoding: .utf8)
        var lost: [String] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            guard f.count == 3, let id = Int64(f[0]), let location = try gitlab.location(of: RepositoryID(id)) else { lost.append(String(line)); continue }
            let found = try? await git.run(["--git-dir", location.path, "rev-parse", "--verify", "--quiet", f[1]]).standardOutput
            if found?.trimmingCharacters(in: .whitespacesAndNewlines) != f[2] { lost.append(String(line)) }
        }
        return lost
    }
}

/// The ledger and the tally, written by pushes that end at the same time.
actor LedgerBook {
    let out: FileHandle
    var tally = PushWorkload.Tally()
    init(_ out: FileHandle) { self.out = out }

    /// A push git said landed: on disk before it counts.
    func accepted(_ line: String) {
        do {
            try out.write(contentsOf: Data(line.utf8))
            try out.synchronize()
            tally.accepted += 1
        } catch {
            failed("ledger: \(error)")
        }
    }
    func blocked() { tally.blocked += 1 }
    func failed(_ why: String) {
        tally.failed += 1
        tally.lastFailure = why
    }
}
