import Foundation
import Migration
import NIOHTTP1

/// The migration engine's driver for a real GitLab: each engine action becomes a request to
/// GitLab's REST API, and each answer the engine's next input. The engine is the one every
/// driver runs (`EngineRunner`); only how an action is carried out is GitLab's.
///
/// Two of the engine's actions have no REST API in GitLab: `do_fail!` on a stuck move and
/// clearing a repository's read-only flag are Rails-console work (PRAEFECT.md §9, gitalyctl's
/// runbook). The driver says so on stderr with the command to run; a `failMove` is answered
/// as refused (the engine polls on and tries again at the next timeout, so an operator's
/// `do_fail!` is picked up), and a `clearReadOnly` as done: a failure after `started` clears
/// the flag itself, and a repository still read-only is refused at its next schedule ("is
/// read-only"), which the engine counts as an attempt and, past its attempts, gives up.
public struct GitLabDriver: Sendable {
    public var client: GitLabClient
    /// Requests in flight at once. ASSUMED 8: a handful of Puma threads' worth, far below
    /// GitLab.com's authenticated API rate limit of 2,000 requests a minute per user
    /// (docs.gitlab.com/ee/user/gitlab_com/#gitlabcom-specific-rate-limits).
    public var concurrency: Int
    public var log: @Sendable (String) -> Void
    /// Each planned repository's container kind.
    let containers: [RepositoryID: GitLabContainer]
    /// Each repository's planned source, the storage a look-up assumes when GitLab does not
    /// show it (snippets and groups carry no `repository_storage`).
    let sources: [RepositoryID: StorageName]

    /// Refuses a plan with a repository no GitLab API can move on its own (a design repository).
    public init(client: GitLabClient, plan: MigrationPlan, concurrency: Int = 8, log: @escaping @Sendable (String) -> Void = { _ in }) throws(GitLabDriverError) {
        self.client = client
        self.concurrency = concurrency
        self.log = log
        var containers: [RepositoryID: GitLabContainer] = [:], sources: [RepositoryID: StorageName] = [:]
        for move in plan.phases.flatMap(\.waves).flatMap(\.moves) {
            guard let c = GitLabContainer(move.kind) else { throw .unmovable(move.repository, move.kind) }
            containers[move.repository] = c
            sources[move.repository] = move.source
        }
        self.containers = containers
        self.sources = sources
    }

    /// Before any move: the token is an administrator's (`GET /application/settings` is
    /// admin-only) and every storage the plan names is one GitLab has (the weights list them
    /// all). A failure here starts nothing.
    public func preflight(storages: Set<StorageName>) async throws(GitLabDriverError) {
        let settings: GitLabWire.Settings
        do {
            settings = try GitLabClient.decode(GitLabWire.Settings.self, try await client.get(client.url("/application/settings")))
        } catch {
            throw .preflight(error)
        }
        let unknown = storages.map(\.name).filter { settings.repositoryStoragesWeighted[$0] == nil }.sorted()
        if !unknown.isEmpty {
            throw .unknownStorages(unknown, known: settings.repositoryStoragesWeighted.keys.sorted())
        }
    }

    /// Runs the engine against GitLab until it finishes, or pauses with nothing in flight.
    /// A 401 or 403 stops the run (the journal keeps everything; a resume goes on).
    public func run(_ engine: inout JournalledEngine, commands: [OperatorCommand] = [], now: @escaping @Sendable () -> EngineInstant = EngineRunner.wallClock) async throws -> EngineRunner.Ending {
        let runner = EngineRunner(concurrency: concurrency, now: now, log: log) { action in try await self.perform(action) }
        return try await runner.run(&engine, commands: commands)
    }

    /// One action as one request (GETs asked again on transient errors, as `GitLabClient.get`
    /// does); its answer as the engine's input.
    public func perform(_ action: EngineAction) async throws -> EngineInput {
        do {
            switch action {
            case .lookUpMoves(let r): return try await lookUp(r)
            case .scheduleMove(let r, _, let destination): return try await schedule(r, destination)
            case .pollMove(let m):
                let (container, id) = GitLabContainer.split(m)
                let move = try GitLabClient.decode(GitLabWire.StorageMove.self, try await client.get(client.url("/\(container.rawValue)_repository_storage_moves/\(id)")))
                guard let state = MoveState(humanName: move.state) else {
                    throw GitLabError.malformed(url: client.url("/\(container.rawValue)_repository_storage_moves/\(id)"), why: "state \"\(move.state)\"")
                }
                return .moveStatus(m, state)
            case .failMove(let m):
                let (container, id) = GitLabContainer.split(m)
                log("\(container.rawValue) move \(id) is stuck past its timeout; GitLab's API cannot fail it: in a Rails console run \(container.className)s::RepositoryStorageMove.find(\(id)).do_fail!")
                return .apiError(.failMove(m), .permanent("no API for do_fail!"))
            case .clearReadOnly(let r):
                return .readOnlyCleared(r)
            case .setWeights(let weights):
                let body = try GitLabWire.encoder.encode(GitLabWire.Settings(repositoryStoragesWeighted: Dictionary(weights.map { ($0.storage.name, $0.weight) }, uniquingKeysWith: { $1 })))
                _ = try await client.send(.PUT, client.url("/application/settings"), json: body)
                return .weightsApplied
            case .wait, .notice:
                preconditionFailure("\(action) has no outside effect")
            }
        } catch let e as GitLabError {
            switch e {
            case .transient(let status, var retryAfter, _):
                // A POST that got no answer may still be at work in GitLab (Rails gives a
                // request up to 60 s): the engine's look-up waits at least as long as this
                // request did, so that it finds the move such a request made.
                if case .scheduleMove = action, status == nil { retryAfter = max(retryAfter ?? .zero, client.timeout) }
                return .apiError(Self.request(action), .transient(retryAfter: retryAfter.map { EngineDuration(milliseconds: $0.milliseconds) }))
            case .refused(let status, let message):
                return .apiError(Self.request(action), .permanent("\(status) \(message)"))
            case .malformed:
                // A shape the driver does not know will not change on retry: that request fails for good.
                return .apiError(Self.request(action), .permanent("\(e)"))
            case .unauthorized, .unreachable, .notJSON:
                // The token, the address or a page in the way: every request would fail alike.
                throw GitLabDriverError.stopped(e)
            }
        }
    }

    /// A repository's moves, most recent first, then `GET /projects/:id` (where a project
    /// lives). GitLab changes a project's storage in the transaction that takes its move from
    /// `started` to `replicated` (`finish_replication`, app/models/concerns/
    /// repository_storage_movable.rb; PRAEFECT.md §8), so the two reads are not one
    /// snapshot: a move that ends between them would show a project still on its source with
    /// no move in flight, and the engine would ask again. Read in this order, a move still in
    /// flight is seen as such; and the last move that replicated names the storage whatever
    /// the project page says (a page read from a database replica behind the primary,
    /// docs.gitlab.com/ee/administration/postgresql/database_load_balancing.html, lags). The
    /// API does not show the read-only flag: a repository left read-only is found by its
    /// next schedule being refused.
    func lookUp(_ r: RepositoryID) async throws -> EngineInput {
        let container = try containerOf(r)
        let list = try GitLabClient.decode([GitLabWire.StorageMove].self,
                                           try await client.get(client.url("/\(container.plural)/\(r.value)/repository_storage_moves", query: [("per_page", "100")])))
        var moves: [ExistingMove] = []
        var replicatedTo: StorageName?
        for m in list.reversed() {
            guard let state = MoveState(humanName: m.state) else { throw GitLabError.malformed(url: client.url("/\(container.plural)/\(r.value)/repository_storage_moves"), why: "state \"\(m.state)\"") }
            moves.append(ExistingMove(id: container.moveID(m.id), state: state))
            if state.hasReplicated { replicatedTo = StorageName(m.destinationStorageName) }
        }
        var storage = sources[r]!
        if container == .project {
            let project = try GitLabClient.decode(GitLabWire.Project.self, try await client.get(client.url("/projects/\(r.value)")))
            guard let s = project.repositoryStorage else {
                throw GitLabError.malformed(url: client.url("/projects/\(r.value)"), why: "no repository_storage (is the token an administrator's?)")
            }
            storage = StorageName(s)
        }
        // Snippets and groups do not show their storage: their last replicated move tells.
        if let replicatedTo { storage = replicatedTo }
        return .existingMoves(r, RepositoryLookup(storage: storage, readOnly: false, moves: moves))
    }

    /// `POST /:containers/:id/repository_storage_moves`. A validation error naming the
    /// container "is read-only" is the engine's `repositoryReadOnly`; any other 4xx a rejection.
    func schedule(_ r: RepositoryID, _ destination: StorageName?) async throws -> EngineInput {
        let container = try containerOf(r)
        let body = try GitLabWire.encoder.encode(GitLabWire.ScheduleMove(destinationStorageName: destination?.name))
        let answer: GitLabClient.Answer
        do {
            answer = try await client.send(.POST, client.url("/\(container.plural)/\(r.value)/repository_storage_moves"), json: body)
        } catch {
            guard case .refused(let status, let message) = error, status != 404 else { throw error }
            if message.contains("is read-only") {
                log("\(container.rawValue) \(r.value) is read-only (left by a move that failed before it started, gitlab#385309); to clear it, in a Rails console: \(container.className).find(\(r.value)).set_repository_writable!")
                return .scheduleRefused(r, .repositoryReadOnly)
            }
            return .scheduleRefused(r, .rejected("\(status) \(message)"))
        }
        let move = try GitLabClient.decode(GitLabWire.StorageMove.self, answer)
        return .moveScheduled(r, container.moveID(move.id))
    }

    func containerOf(_ r: RepositoryID) throws -> GitLabContainer {
        guard let c = containers[r] else { throw GitLabError.refused(status: 404, message: "repository \(r.value) is not in the plan") }
        return c
    }

    /// The request an error answers, as the engine names it.
    static func request(_ action: EngineAction) -> EngineRequest {
        switch action {
        case .lookUpMoves(let r): .lookUpMoves(r)
        case .scheduleMove(let r, _, _): .scheduleMove(r)
        case .pollMove(let m): .pollMove(m)
        case .failMove(let m): .failMove(m)
        case .clearReadOnly(let r): .clearReadOnly(r)
        case .setWeights: .setWeights
        case .wait, .notice: preconditionFailure("\(action) is no request")
        }
    }

    /// What `--dry-run` prints for an action: the request it would send.
    public func describe(_ action: EngineAction) -> String {
        switch action {
        case .lookUpMoves(let r):
            let c = containers[r] ?? .project
            return "GET \(client.url("/\(c.plural)/\(r.value)/repository_storage_moves"))"
        case .scheduleMove(let r, let source, let destination):
            let c = containers[r] ?? .project
            return "POST \(client.url("/\(c.plural)/\(r.value)/repository_storage_moves")) destination_storage_name=\(destination?.name ?? "(weights pick)") (now on \(source.name))"
        case .setWeights(let w):
            return "PUT \(client.url("/application/settings")) repository_storages_weighted=" + w.map { "\($0.storage.name):\($0.weight)" }.joined(separator: ",")
        case .pollMove(let m): return "GET move \(m)"
        case .failMove(let m): return "do_fail! move \(m) (Rails console)"
        case .clearReadOnly(let r): return "clear read-only of \(r.value) (Rails console)"
        case .wait, .notice: return ""
        }
    }
}

public enum GitLabDriverError: Error, Equatable, CustomStringConvertible {
    case unmovable(RepositoryID, RepositoryKind)
    case preflight(GitLabError)
    case unknownStorages([String], known: [String])
    /// Every further request would fail alike: the run stops, the journal keeps its place.
    case stopped(GitLabError)

    public var description: String {
        switch self {
        case .unmovable(let r, let k): "repository \(r.value): a \(k.rawValue) repository moves with its project; GitLab has no move for it alone"
        case .preflight(let e): "\(e)"
        case .unknownStorages(let names, let known): "GitLab has no storage named \(names.joined(separator: ", ")) (it has \(known.joined(separator: ", ")))"
        case .stopped(let e): "stopped: \(e)"
        }
    }
}
