import Foundation
import Migration
import Synchronization
import Testing
@testable import GitLabAPI
@testable import GitLabStandIn
@testable import LocalGit

/// Two storages of real bare repositories in a temporary folder, the GitLab API stand-in
/// serving them on a free loopback port, and a client holding its admin token.
final class StandInFleet: Sendable {
    static let git = Git.committing(as: "Rehearse")
    let root: String
    let gitlab: LocalGitLab
    let port: Int
    let token = "glpat-test-admin-token-0001"
    let running: RunningStandIn
    var ledger: StandInLedger { running.ledger }
    let said = Mutex<[String]>([])

    init(repositories: Int, faults: StandInFaults = StandInFaults(), fill: Bool = true) async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-gitlab-\(UUID().uuidString)").path
        for s in ["a", "b"] { try FileManager.default.createDirectory(atPath: "\(root)/\(s)", withIntermediateDirectories: true) }
        var found: [LocalGitLab.Repository] = []
        let make = SyntheticRepositories(git: Self.git)
        for i in 1...repositories {
            let relative = "group/project-\(i).git"
            if fill { try await make.make(at: "\(root)/a/\(relative)", bytes: 2_000 + 500 * i, seed: UInt64(i)) }
            found.append(LocalGitLab.Repository(id: RepositoryID(Int64(i)), storage: "a", relativePath: relative, sizeBytes: Int64(2_000 + 500 * i)))
        }
        gitlab = try LocalGitLab.create(path: "\(root)/gitlab.sqlite", storages: [.init(name: "a", directory: "\(root)/a"), .init(name: "b", directory: "\(root)/b")],
                                        repositories: found)
        var server = StandInServer(gitlab: gitlab, adminToken: token, userToken: "glpat-test-user-token-0002", faults: faults)
        server.workers = 2
        server.git = Self.git
        server.pushWaitInterval = .milliseconds(100)
        running = try await server.start()
        port = running.port
    }

    /// A fleet for `body`, stopped (gracefully) and removed after it, whatever happens.
    static func with(repositories: Int, faults: StandInFaults = StandInFaults(), fill: Bool = true, _ body: (StandInFleet) async throws -> Void) async throws {
        let fleet = try await StandInFleet(repositories: repositories, faults: faults, fill: fill)
        do { try await body(fleet) } catch {
            await fleet.stop()
            throw error
        }
        await fleet.stop()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func client(token: String? = nil) throws -> GitLabClient {
        var c = try GitLabClient(baseURL: url, token: GitLabToken(token ?? self.token))
        c.timeout = .seconds(5)
        c.backoffBase = .milliseconds(20)
        c.backoffCap = .milliseconds(200)
        return c
    }

    /// Drain `a` into `b`, `concurrency` moves at a time, polled every 100 ms.
    func plan(_ n: Int, concurrency: Int = 2, moveTimeout: EngineDuration = .hours(1), attempts: Int = 20, unknown: [Int64] = []) -> MigrationPlan {
        MigrationPlan(id: "drain-a", initialWeights: [StorageWeight("a", 100), StorageWeight("b", 0)],
                      phases: [.init(name: "drain", steps: [.init(weights: [StorageWeight("a", 0), StorageWeight("b", 100)])],
                                     waves: [.init(moves: ((1...n).map { Int64($0) } + unknown).map { .init(repository: RepositoryID($0), source: "a", destination: "b", sizeBytes: 1000) })])],
                      limits: ConcurrencyLimits(perSource: concurrency), readOnlyDurationMax: moveTimeout, moveTimeout: moveTimeout,
                      pollInterval: EngineDuration(milliseconds: 100),
                      retry: RetryPolicy(attempts: attempts, backoffBase: EngineDuration(milliseconds: 100), backoffCap: EngineDuration(milliseconds: 400)))
    }

    func drain(_ plan: MigrationPlan, timeout: Duration = .seconds(5)) async throws -> (EngineRunner.Ending, JournalledEngine) {
        var engine = try JournalledEngine(path: "\(root)/journal-\(UUID().uuidString).sqlite", plan: plan)
        var c = try client()
        c.timeout = timeout
        let driver = try GitLabDriver(client: c, plan: plan, concurrency: 4) { line in self.said.withLock { $0.append(line) } }
        try await driver.preflight(storages: ["a", "b"])
        let ending = try await driver.run(&engine)
        return (ending, engine)
    }

    func checksum(_ storage: String, _ i: Int) async throws -> RepositoryChecksum {
        try await Self.git.checksum(of: "\(root)/\(storage)/group/project-\(i).git")
    }

    func stop() async {
        await running.stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Goal: the gitlab driver, unchanged engine and all, drains real repositories through the
/// stand-in's API as it would through GitLab's: every repository on `b` with the refs it had,
/// its source gone, writable, one finished move; the weights set as the plan's step says.
/// Method: 6 repositories, 2 moves at a time, no faults, and a seventh project in the plan
/// that GitLab does not have.
@Test func theGitLabDriverDrainsThroughTheAPI() async throws {
    try await StandInFleet.with(repositories: 6) { fleet in
        var before: [RepositoryChecksum] = []
        for i in 1...6 { before.append(try await fleet.checksum("a", i)) }
        let (ending, engine) = try await fleet.drain(fleet.plan(6, unknown: [99]))
        #expect(ending == .finished(aborted: false))
        // A project GitLab does not know is given up; the drain goes on (gitalyctl stopped).
        #expect(engine.engine.tally.done == 6 && engine.engine.tally.givenUp == 1)
        guard case .givenUp(let why) = engine.engine.status(of: RepositoryID(99)) else { Issue.record("99 not given up"); return }
        #expect(why.contains("404 Project Not Found"), "\(why)")
        for i in 1...6 {
            #expect(try await fleet.checksum("b", i) == before[i - 1])
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.root)/a/group/project-\(i).git"))
            let found = try #require(try fleet.gitlab.lookUp(RepositoryID(Int64(i))))
            #expect(found.storage == "b" && !found.readOnly && found.moves.map(\.state) == [.finished])
        }
        #expect(try fleet.gitlab.weights() == ["a": 0, "b": 100])
    }
}

/// Goal: under every fault the stand-in injects, the drain still finishes, nothing is lost, and
/// no repository is asked for a second move while one is in flight (a lost POST answer is
/// looked up, never repeated). Method: 8 repositories; 10% of requests throttled (429,
/// Retry-After 0), 10% 500s, 10% HTML 502s, 5% slower than the client's 1 s timeout, 30% of
/// move POSTs made but their answer lost; one move fails its checksum, one its cleanup.
@Test func theDrainFinishesUnderEveryInjectedFault() async throws {
    var faults = StandInFaults()
    faults.seed = 7
    faults.tooManyRequests = 0.10
    faults.retryAfterSeconds = 0
    faults.serverErrors = 0.10
    faults.badGatewayPages = 0.10
    faults.slowAnswers = 0.05
    faults.slowDelay = .milliseconds(1500)
    faults.lostScheduleAnswers = 0.30
    faults.failingMoves = [RepositoryID(3)]
    faults.cleanupFailures = [RepositoryID(5)]
    try await StandInFleet.with(repositories: 8, faults: faults) { fleet in
        var before: [RepositoryChecksum] = []
        for i in 1...8 { before.append(try await fleet.checksum("a", i)) }
        let (ending, engine) = try await fleet.drain(fleet.plan(8), timeout: .seconds(1))
        #expect(ending == .finished(aborted: false))
        #expect(engine.engine.tally.done == 8 && engine.engine.tally.givenUp == 0, "\(engine.engine.statuses) \(fleet.said.withLock { $0 }.suffix(30))")
        for i in 1...8 {
            #expect(try await fleet.checksum("b", i) == before[i - 1], "repository \(i)")
            let moves = try fleet.gitlab.moves(of: RepositoryID(Int64(i)))
            // One move carried it from a to b; every other failed, or found it on b already
            // and copied nothing (a POST answered after the client gave up on it, then asked
            // again once the first had finished: the race any client of GitLab's API has).
            let carried = moves.filter { $0.source == "a" && $0.destination == "b" && [.finished, .cleanupFailed].contains($0.state) }
            #expect(carried.count == 1, "repository \(i): \(moves)")
            #expect(moves.allSatisfy { $0.state == .failed || $0.id == carried.first?.id || ($0.source == "b" && $0.destination == "b" && $0.state == .finished) },
                    "repository \(i): \(moves)")
            #expect(moves.filter { !$0.state.isTerminal }.isEmpty)
            #expect(try fleet.gitlab.lookUp(RepositoryID(Int64(i)))?.readOnly == false)
        }
        #expect(try fleet.gitlab.moves(of: RepositoryID(3)).count >= 2)
        #expect(try fleet.gitlab.moves(of: RepositoryID(5)).first?.state == .cleanupFailed)
        // A second move asked while one was in flight is refused "is read-only" by the stand-in
        // and counted.
        #expect(fleet.ledger.secondMoveRequests.isEmpty, "\(fleet.ledger.secondMoveRequests)")
    }
}

/// Goal: a look-up believes a repository's moves over its project page. GitLab's two reads
/// (moves, project) are not one snapshot, and a page read from a lagging database replica
/// shows the storage from before the last move; trusting the page, the engine would ask for a
/// second move of a repository already moved. Method: 4 repositories, every move POST's
/// answer lost (each is looked up, the move then in flight or ended), project pages lagging;
/// then a look-up of a moved repository by hand. Fails with the page trusted (the order of
/// reads before `lookUp` read the moves first).
@Test func aLookUpBelievesTheMovesOverALaggingProjectPage() async throws {
    var faults = StandInFaults()
    faults.lostScheduleAnswers = 1
    faults.laggingProjectPages = true
    try await StandInFleet.with(repositories: 4, faults: faults) { fleet in
        let plan = fleet.plan(4)
        let (ending, engine) = try await fleet.drain(plan)
        #expect(ending == .finished(aborted: false))
        #expect(engine.engine.tally.done == 4 && engine.engine.tally.givenUp == 0, "\(engine.engine.statuses)")
        for i in 1...4 {
            let moves = try fleet.gitlab.moves(of: RepositoryID(Int64(i)))
            #expect(moves.map(\.state) == [.finished] && moves.first?.destination == "b", "repository \(i): \(moves)")
        }
        #expect(fleet.ledger.secondMoveRequests.isEmpty, "\(fleet.ledger.secondMoveRequests)")
        let driver = try GitLabDriver(client: try fleet.client(), plan: plan)
        guard case .existingMoves(_, let found) = try await driver.lookUp(RepositoryID(1)) else { Issue.record("no look-up answer"); return }
        #expect(found.storage == "b" && found.moves.map(\.state) == [.finished], "\(found)")
    }
}

/// Goal: a move that no worker ever starts is what GitLab's API cannot fix: the engine's
/// timeout asks for `do_fail!`, the driver prints the Rails console line, and once an operator
/// has run it the repository (left read-only, gitlab#385309) is refused at its next schedules
/// ("is read-only", with the console line to clear it) until it is given up, while the rest
/// of the drain finishes. Method: 3
/// repositories, repository 2 stuck, a 1 s move timeout; the test plays the operator.
@Test func aStuckMoveWaitsForTheOperatorAndEndsGivenUp() async throws {
    var faults = StandInFaults()
    faults.stuckMoves = [RepositoryID(2)]
    try await StandInFleet.with(repositories: 3, faults: faults) { fleet in
        let operatorTask = Task {
            while !Task.isCancelled {
                if fleet.said.withLock({ $0.contains { $0.contains("do_fail!") } }), let m = try fleet.gitlab.moves(of: RepositoryID(2)).first, m.state == .scheduled {
                    try fleet.gitlab.doFail(m.id)
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let (ending, engine) = try await fleet.drain(fleet.plan(3, moveTimeout: .seconds(1), attempts: 3))
        operatorTask.cancel()
        #expect(ending == .finished(aborted: false))
        #expect(engine.engine.tally.done == 2 && engine.engine.tally.givenUp == 1)
        guard case .givenUp = engine.engine.status(of: RepositoryID(2)) else { Issue.record("repository 2 not given up"); return }
        let lines = fleet.said.withLock { $0 }
        #expect(lines.contains { $0.contains("project 2 is read-only") })
        #expect(lines.contains { $0.contains("Projects::RepositoryStorageMove.find(") && $0.contains("do_fail!") })
        #expect(lines.contains { $0.contains("Project.find(2).set_repository_writable!") })
        // Still on a, read-only, its one move failed: as GitLab leaves it.
        let found = try #require(try fleet.gitlab.lookUp(RepositoryID(2)))
        #expect(found.storage == "a" && found.readOnly && found.moves.map(\.state) == [.failed])
    }
}

/// Goal: the token and the address are checked before any move: a user's token (403), a wrong
/// token (401), a closed port, and a plan naming a storage GitLab lacks all stop at the
/// preflight with what is wrong. Method: the stand-in with 2 repositories; no move may exist after.
@Test func thePreflightRefusesBadTokensAddressesAndStorages() async throws {
    try await StandInFleet.with(repositories: 2, fill: false) { fleet in
        let plan = fleet.plan(2)
        for (token, status) in [("glpat-test-user-token-0002", 403), ("wrong", 401)] {
            let driver = try GitLabDriver(client: try fleet.client(token: token), plan: plan)
            await #expect {
                try await driver.preflight(storages: ["a", "b"])
            } throws: { error in
                guard case .preflight(.unauthorized(let s, _, _)) = error as? GitLabDriverError else { return false }
                return s == status
            }
        }
        var closed = try GitLabClient(baseURL: "http://127.0.0.1:9", token: GitLabToken("x"))
        closed.readAttempts = 1
        await #expect {
            try await GitLabDriver(client: closed, plan: plan).preflight(storages: ["a"])
        } throws: { error in
            guard case .preflight(.unreachable) = error as? GitLabDriverError else { return false }
            return true
        }
        await #expect(throws: GitLabDriverError.unknownStorages(["c"], known: ["a", "b"])) {
            try await GitLabDriver(client: try fleet.client(), plan: plan).preflight(storages: ["a", "c"])
        }
        #expect(try fleet.gitlab.moves(of: RepositoryID(1)).isEmpty && fleet.gitlab.moves(of: RepositoryID(2)).isEmpty)
    }
}

/// Goal: `inventory fetch` lists every project on a storage through keyset pagination, asking
/// again through throttling. Method: 250 projects (no repositories on disk needed) on `a`,
/// 100 per page, 40% of requests answered 429 with Retry-After 0; the listing must be the 250
/// in id order with their sizes, and a storage with none gives none.
@Test func theProjectListingPagesThroughEveryProject() async throws {
    var faults = StandInFaults()
    faults.tooManyRequests = 0.4
    faults.retryAfterSeconds = 0
    try await StandInFleet.with(repositories: 250, faults: faults, fill: false) { fleet in
        let retries = Mutex(0)
        var listing = ProjectListing(client: try fleet.client()) { line in if line.contains("asking again") { retries.withLock { $0 += 1 } } }
        listing.perPage = 100
        let found = try await listing.projects(on: ["a"])
        let ids: [Int64] = (1...250).map { i in Int64(i) }
        #expect(found.map(\.id) == ids)
        let sizes: [Int64] = (1...250).map { i in Int64(2_000 + 500 * i) }
        #expect(found.map(\.repositoryBytes) == sizes)
        #expect(found.allSatisfy { $0.storage == "a" && $0.path.hasPrefix("rehearse/project-") })
        #expect(retries.withLock { $0 } > 0)
        #expect(try await listing.projects(on: ["b"]).isEmpty)
        // A user's token lists projects without their storage: refused, not taken for the fleet.
        await #expect {
            try await ProjectListing(client: try fleet.client(token: "glpat-test-user-token-0002")).projects(on: ["a"])
        } throws: { error in
            guard case .malformed(_, let why) = error as? GitLabError else { return false }
            return why.contains("must be an administrator's")
        }
    }
}
