import Foundation
import GitLabAPI
import LocalGit
import Migration
import SimKernel
import Synchronization

/// Faults the stand-in injects, each drawn per request from its own seeded stream, so that a
/// test's faults are the same on every run with the same requests.
public struct StandInFaults: Sendable {
    public var seed: UInt64 = 1
    /// Share of requests throttled as Rack::Attack does: 429, plain text "Retry later", with
    /// `Retry-After` (docs.gitlab.com/ee/administration/settings/user_and_ip_rate_limits.html).
    public var tooManyRequests = 0.0
    public var retryAfterSeconds = 1
    /// Share answered 500 with GitLab's JSON (`{"message":"500 Internal Server Error"}`).
    public var serverErrors = 0.0
    /// Share answered 502 with an HTML page, as a load balancer or Workhorse does when Puma
    /// does not answer (docs.gitlab.com/ee/administration/troubleshooting/...).
    public var badGatewayPages = 0.0
    /// Share answered only after `slowDelay`.
    public var slowAnswers = 0.0
    public var slowDelay: Duration = .seconds(2)
    /// Share of move POSTs whose move is created but whose answer is lost (a 502 page): the
    /// client must look the move up, not ask for a second one.
    public var lostScheduleAnswers = 0.0
    /// Project pages read from a database replica behind the primary (GitLab's database load
    /// balancing sends reads to replicas, docs.gitlab.com/ee/administration/postgresql/
    /// database_load_balancing.html): `GET /projects/:id` shows the storage the project had
    /// before its last move replicated, while its moves show that move's end.
    public var laggingProjectPages = false
    /// Repositories whose first move fails its checksum (`failed`), stays `scheduled` with no
    /// worker (stuck, read-only), or cannot remove its source (`cleanup failed`).
    public var failingMoves: Set<RepositoryID> = []
    public var stuckMoves: Set<RepositoryID> = []
    public var cleanupFailures: Set<RepositoryID> = []
    public init() {}
}

/// What the stand-in saw that a test wants to count: move requests for a repository that had a
/// move in flight (GitLab refuses them, "is read-only": a client asking twice), per repository.
public final class StandInLedger: Sendable {
    let refusedWhileMoving = Mutex<[RepositoryID: Int]>([:])
    public init() {}
    public var secondMoveRequests: [RepositoryID: Int] { refusedWhileMoving.withLock { $0 } }
}

/// One answer of the stand-in: a status, headers and a body.
public struct StandInAnswer: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    static func json<T: Encodable>(_ value: T, status: Int = 200, headers: [String: String] = [:]) -> StandInAnswer {
        var h = headers
        h["Content-Type"] = "application/json"
        return StandInAnswer(status: status, headers: h, body: (try? GitLabWire.encoder.encode(value)) ?? Data("{}".utf8))
    }

    /// GitLab's error body: `{"message": "404 Project Not Found"}`.
    static func message(_ status: Int, _ text: String) -> StandInAnswer {
        json(GitLabWire.ErrorBody(message: .text("\(status) \(text)")), status: status)
    }

    /// A validation error: 400 `{"message": {"project": ["is read-only"]}}`.
    static func invalid(_ field: String, _ problems: [String]) -> StandInAnswer {
        json(GitLabWire.ErrorBody(message: .fields([field: problems])), status: 400)
    }

    static let badGatewayPage = StandInAnswer(status: 502, headers: ["Content-Type": "text/html; charset=utf-8"], body: Data("""
        <!DOCTYPE html>
        <html><head><title>GitLab is not responding (502)</title></head>
        <body><h1>502</h1><h3>GitLab is not responding.</h3><p>Please contact your GitLab administrator if this problem persists.</p></body></html>
        """.utf8))
}

/// A request as the stand-in sees it, whatever server carried it.
public struct StandInRequest: Sendable {
    public var method: String
    /// The path without its query: `/api/v4/projects/1`.
    public var path: String
    public var query: [(String, String)]
    public var headers: [String: String]
    public var body: Data
    /// `http://127.0.0.1:8080`: where `Link` headers point.
    public var origin: String

    public init(method: String, path: String, query: [(String, String)], headers: [String: String], body: Data, origin: String) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.origin = origin
    }

    func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }

    /// A parameter from the query, a JSON body or a form body, as Grape merges them.
    func parameter(_ name: String) -> String? {
        if let q = query.last(where: { $0.0 == name }) { return q.1 }
        if let form = formFields.last(where: { $0.0 == name }) { return form.1 }
        if let object = jsonBody, let v = object[name] {
            if let s = v as? String { return s }
            if let n = v as? NSNumber { return n.stringValue }
        }
        return nil
    }

    var jsonBody: [String: Any]? {
        guard (header("Content-Type") ?? "").contains("json"), !body.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    var formFields: [(String, String)] {
        guard (header("Content-Type") ?? "").contains("x-www-form-urlencoded") else { return [] }
        return Self.pairs(String(decoding: body, as: UTF8.self))
    }

    /// `a=1&b=2`, percent-decoded.
    public static func pairs(_ text: String) -> [(String, String)] {
        text.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }
    }
}

/// GitLab's REST API for what a storage migration uses, answered from a `LocalGitLab` whose
/// moves real workers carry out: the routes, their JSON, their errors and their pagination as
/// GitLab's API documentation describes them, with faults injected on request.
public struct StandInAPI: Sendable {
    public let gitlab: LocalGitLab
    public let adminToken: String
    /// A token that authenticates but is no administrator's: 403 on every route here.
    public let userToken: String?
    let faults: StandInFaults
    let dice: FaultDice
    public let ledger: StandInLedger
    /// Hands a scheduled move to the workers.
    let enqueue: @Sendable (MoveID) async -> Void

    public init(gitlab: LocalGitLab, adminToken: String, userToken: String? = nil, faults: StandInFaults, ledger: StandInLedger = StandInLedger(),
                enqueue: @escaping @Sendable (MoveID) async -> Void) {
        self.gitlab = gitlab
        self.ledger = ledger
        self.adminToken = adminToken
        self.userToken = userToken
        self.faults = faults
        self.dice = FaultDice(seed: faults.seed)
        self.enqueue = enqueue
    }

    public func respond(_ request: StandInRequest) async -> StandInAnswer {
        // Rack::Attack, the load balancer and a slow Puma come before authentication.
        switch await dice.roll(faults) {
        case .tooManyRequests:
            return StandInAnswer(status: 429, headers: ["Content-Type": "text/plain", "Retry-After": "\(faults.retryAfterSeconds)"], body: Data("Retry later\n".utf8))
        case .serverError: return .message(500, "Internal Server Error")
        case .badGateway: return .badGatewayPage
        case .slow: try? await Task.sleep(for: faults.slowDelay)
        case nil: break
        }
        let token = request.header("PRIVATE-TOKEN") ?? request.header("Authorization").map { $0.replacingOccurrences(of: "Bearer ", with: "") }
            ?? request.query.first { $0.0 == "private_token" }?.1
        guard let token, token == adminToken || token == userToken else { return .message(401, "Unauthorized") }
        do {
            guard token == adminToken else {
                // A user sees projects without their storage and without the admin-only filter
                // (docs.gitlab.com/ee/api/projects.html); every move and setting route is an
                // administrator's.
                guard request.method == "GET", request.path == "/api/v4/projects" else { return .message(403, "Forbidden") }
                return try listProjects(request, admin: false)
            }
            return try await route(request)
        } catch {
            return .message(500, "Internal Server Error")
        }
    }

    func route(_ r: StandInRequest) async throws -> StandInAnswer {
        guard r.path.hasPrefix("/api/v4/") else { return .json(GitLabWire.ErrorBody(error: "404 Not Found"), status: 404) }
        let parts = r.path.dropFirst("/api/v4/".count).split(separator: "/").map(String.init)
        switch (r.method, parts.count) {
        case ("GET", 2) where parts == ["application", "settings"]:
            return .json(GitLabWire.Settings(repositoryStoragesWeighted: try gitlab.weights()))
        case ("PUT", 2) where parts == ["application", "settings"]:
            return try putSettings(r)
        case ("GET", 1) where parts[0] == "projects":
            return try listProjects(r, admin: true)
        default: break
        }
        // /:containers/:id[/repository_storage_moves[/:move]] and /:container_repository_storage_moves[/:move]
        if let container = GitLabContainer.allCases.first(where: { $0.plural == parts[0] }), parts.count >= 2 {
            guard let id = Int64(parts[1]), let repository = try gitlab.repository(RepositoryID(id)), GitLabContainer(repository.kind) == container else {
                return .message(404, "\(container.className) Not Found")
            }
            switch (r.method, parts.count) {
            case ("GET", 2):
                // GET /projects/:id shows an administrator the storage; snippets and groups show no storage.
                guard container == .project else { return .json(Self.identity(repository, container)) }
                var shown = repository
                // `moves(of:)` lists the most recent first.
                if faults.laggingProjectPages, let last = try gitlab.moves(of: repository.id).first(where: \.state.hasReplicated) {
                    shown.storage = last.source
                }
                return .json(Self.project(shown, statistics: r.parameter("statistics") == "true"))
            case ("GET", 3) where parts[2] == "repository_storage_moves":
                return paged(try gitlab.moves(of: repository.id).map { storageMove($0, container, repository) }, r)
            case ("POST", 3) where parts[2] == "repository_storage_moves":
                return try await schedule(repository, container, destination: r.parameter("destination_storage_name"))
            case ("GET", 4) where parts[2] == "repository_storage_moves":
                guard let m = Int64(parts[3]), let move = try gitlab.move(MoveID(m)), move.repository == repository.id else { return .message(404, "Not found") }
                return .json(storageMove(move, container, repository))
            default: break
            }
        }
        if let container = GitLabContainer.allCases.first(where: { parts[0] == "\($0.rawValue)_repository_storage_moves" }) {
            switch (r.method, parts.count) {
            case ("GET", 2):
                guard let m = Int64(parts[1]), let move = try gitlab.move(MoveID(m)), let repository = try gitlab.repository(move.repository),
                      GitLabContainer(repository.kind) == container else { return .message(404, "Not found") }
                return .json(storageMove(move, container, repository))
            case ("POST", 1):
                return try await scheduleAll(container, r)
            default: break
            }
        }
        return .json(GitLabWire.ErrorBody(error: "404 Not Found"), status: 404)
    }

    /// `POST /:containers/:id/repository_storage_moves`: validation (the container writable,
    /// the destination a storage), then `schedule`, in one transaction; 201 with the move.
    func schedule(_ repository: LocalGitLab.Repository, _ container: GitLabContainer, destination: String?) async throws -> StandInAnswer {
        switch try gitlab.schedule(repository.id, destination: destination.map { StorageName($0) }) {
        case .success(let m):
            if await dice.loses(faults) {
                // Created, queued, and the answer lost on its way back.
                await enqueue(m)
                return .badGatewayPage
            }
            await enqueue(m)
            guard let move = try gitlab.move(m) else { return .message(500, "Internal Server Error") }
            return .json(storageMove(move, container, repository), status: 201)
        case .failure(.repositoryReadOnly):
            if try gitlab.moves(of: repository.id).contains(where: { !$0.state.isTerminal }) {
                ledger.refusedWhileMoving.withLock { $0[repository.id, default: 0] += 1 }
            }
            // `container_repository_writable` adds "is read-only" to the container's key.
            return .invalid(container.rawValue, ["is read-only"])
        case .failure(.rejected(let why)):
            if why.hasPrefix("404") { return .message(404, "\(container.className) Not Found") }
            return .invalid("destination_storage_name", [why.drop { !$0.isLetter }.description])
        }
    }

    /// `POST /:container_repository_storage_moves` with `source_storage_name`: every container
    /// of the kind on that storage scheduled, invalid ones skipped; 202.
    func scheduleAll(_ container: GitLabContainer, _ r: StandInRequest) async throws -> StandInAnswer {
        guard let source = r.parameter("source_storage_name") else { return .json(GitLabWire.ErrorBody(error: "source_storage_name is missing"), status: 400) }
        let weights = try gitlab.weights()
        guard weights[source] != nil else { return .json(GitLabWire.ErrorBody(error: "source_storage_name does not have a valid value"), status: 400) }
        let destination = r.parameter("destination_storage_name")
        if let d = destination, weights[d] == nil { return .json(GitLabWire.ErrorBody(error: "destination_storage_name does not have a valid value"), status: 400) }
        var after: RepositoryID?
        while true {
            let page = try gitlab.repositories(kind: Self.kind(container), storage: source, after: after, limit: 500)
            guard let last = page.last else { break }
            for repository in page {
                if case .success(let m) = try gitlab.schedule(repository.id, destination: destination.map { StorageName($0) }) { await enqueue(m) }
            }
            after = last.id
        }
        return .json(GitLabWire.ErrorBody(message: .text("202 Accepted")), status: 202)
    }

    static func kind(_ c: GitLabContainer) -> RepositoryKind {
        switch c {
        case .project: .project
        case .snippet: .snippet
        case .group: .wiki
        }
    }

    /// `PUT /application/settings`: `repository_storages_weighted` as JSON
    /// (`{"repository_storages_weighted": {"a": 100}}`) or as form or query fields
    /// (`repository_storages_weighted[a]=100`). Every storage must exist and every weight be
    /// 0 to 100, else nothing changes.
    func putSettings(_ r: StandInRequest) throws -> StandInAnswer {
        var weights: [(String, Int?)] = []
        if let object = r.jsonBody?["repository_storages_weighted"] as? [String: Any] {
            weights = object.map { ($0.key, ($0.value as? NSNumber)?.intValue ?? Int("\($0.value)")) }
        }
        for (k, v) in r.query + r.formFields where k.hasPrefix("repository_storages_weighted[") && k.hasSuffix("]") {
            weights.append((String(k.dropFirst("repository_storages_weighted[".count).dropLast()), Int(v)))
        }
        let known = try gitlab.weights()
        var problems: [String] = []
        var valid: [Migration.StorageWeight] = []
        for (name, weight) in weights.sorted(by: { $0.0 < $1.0 }) {
            if known[name] == nil { problems.append("can't include: \(name)") } else if let w = weight, (0...100).contains(w) {
                valid.append(Migration.StorageWeight(StorageName(name), w))
            } else { problems.append("value for \(name) must be between 0 and 100") }
        }
        if !problems.isEmpty { return .invalid("repository_storages_weighted", problems) }
        if let refusal = try gitlab.setWeights(valid) { return .message(400, refusal) }
        return .json(GitLabWire.Settings(repositoryStoragesWeighted: try gitlab.weights()))
    }

    /// `GET /projects`: `repository_storage` filters (administrators only), `statistics=true`
    /// adds sizes; keyset pagination (`pagination=keyset&order_by=id&sort=asc`, the next page
    /// in `Link`) or offset pagination (`page`, with `X-Total`, `X-Next-Page`, ... headers).
    /// `per_page` is 20 by default and at most 100 (docs.gitlab.com/ee/api/rest/#pagination).
    func listProjects(_ r: StandInRequest, admin: Bool = true) throws -> StandInAnswer {
        let perPage = min(max(Int(r.parameter("per_page") ?? "") ?? 20, 1), 100)
        let storage = admin ? r.parameter("repository_storage") : nil
        let statistics = admin && r.parameter("statistics") == "true"
        let render: (LocalGitLab.Repository) -> GitLabWire.Project = { p in
            var project = Self.project(p, statistics: statistics)
            if !admin { project.repositoryStorage = nil }
            return project
        }
        if r.parameter("pagination") == "keyset" {
            guard r.parameter("order_by") ?? "id" == "id", r.parameter("sort") ?? "asc" == "asc" else {
                return .json(GitLabWire.ErrorBody(error: "This stand-in pages by id, ascending"), status: 405)
            }
            let after = r.parameter("id_after").flatMap(Int64.init).map(RepositoryID.init)
            let page = try gitlab.repositories(kind: .project, storage: storage, after: after, limit: perPage + 1)
            var headers: [String: String] = [:]
            if page.count > perPage, let last = page.prefix(perPage).last {
                var q = r.query.filter { $0.0 != "id_after" && $0.0 != "private_token" }
                q.append(("id_after", String(last.id.value)))
                headers["Link"] = "<\(r.origin)\(r.path)?\(q.map { "\($0.0)=\($0.1)" }.joined(separator: "&"))>; rel=\"next\""
            }
            return .json(page.prefix(perPage).map(render), headers: headers)
        }
        var all: [LocalGitLab.Repository] = []
        var after: RepositoryID?
        while true {
            let chunk = try gitlab.repositories(kind: .project, storage: storage, after: after, limit: 1000)
            guard let last = chunk.last else { break }
            all += chunk
            after = last.id
        }
        return paged(all.map(render), r)
    }

    /// Offset pagination with GitLab's headers.
    func paged<T: Encodable>(_ items: [T], _ r: StandInRequest) -> StandInAnswer {
        let perPage = min(max(Int(r.parameter("per_page") ?? "") ?? 20, 1), 100)
        let page = max(Int(r.parameter("page") ?? "") ?? 1, 1)
        let pages = max(1, (items.count + perPage - 1) / perPage)
        let slice = items.dropFirst((page - 1) * perPage).prefix(perPage)
        var headers = ["X-Page": "\(page)", "X-Per-Page": "\(perPage)", "X-Total": "\(items.count)", "X-Total-Pages": "\(pages)",
                       "X-Next-Page": page < pages ? "\(page + 1)" : "", "X-Prev-Page": page > 1 ? "\(page - 1)" : ""]
        if page < pages {
            var q = r.query.filter { $0.0 != "page" && $0.0 != "private_token" }
            q.append(("page", "\(page + 1)"))
            headers["Link"] = "<\(r.origin)\(r.path)?\(q.map { "\($0.0)=\($0.1)" }.joined(separator: "&"))>; rel=\"next\""
        }
        return .json(Array(slice), headers: headers)
    }

    static func name(_ r: LocalGitLab.Repository) -> String {
        let last = r.relativePath.split(separator: "/").last.map(String.init) ?? "repository-\(r.id.value)"
        return last.hasSuffix(".git") ? String(last.dropLast(4)) : last
    }

    static func project(_ r: LocalGitLab.Repository, statistics: Bool) -> GitLabWire.Project {
        GitLabWire.Project(id: r.id.value, name: name(r), path: name(r), pathWithNamespace: "rehearse/\(name(r))", repositoryStorage: r.storage,
                           statistics: statistics ? GitLabWire.Statistics(repositorySize: r.sizeBytes, storageSize: r.sizeBytes) : nil,
                           forkedFromProject: nil, createdAt: "2026-01-01T00:00:00.000Z")
    }

    /// The container a move names: `ProjectIdentity`, `BasicSnippet` or a group's basics.
    static func identity(_ r: LocalGitLab.Repository, _ c: GitLabContainer) -> GitLabWire.Container {
        switch c {
        case .project: .init(id: r.id.value, name: name(r), nameWithNamespace: "rehearse / \(name(r))", path: name(r),
                             pathWithNamespace: "rehearse/\(name(r))", createdAt: "2026-01-01T00:00:00.000Z")
        case .snippet: .init(id: r.id.value, title: name(r), createdAt: "2026-01-01T00:00:00.000Z")
        case .group: .init(id: r.id.value, name: name(r), webUrl: "http://gitlab.example.com/groups/\(name(r))")
        }
    }

    func storageMove(_ m: LocalGitLab.Move, _ c: GitLabContainer, _ r: LocalGitLab.Repository) -> GitLabWire.StorageMove {
        GitLabWire.StorageMove(id: m.id.value, createdAt: m.createdAt, state: m.state, sourceStorageName: m.source,
                               destinationStorageName: m.destination, container: c, identity: Self.identity(r, c))
    }
}

/// The fault draws: one stream for what befalls a request, one for lost answers, so that
/// turning one kind of fault on changes no draw of the other.
actor FaultDice {
    enum Fault { case tooManyRequests, serverError, badGateway, slow }
    var requests: RandomStream
    var answers: RandomStream

    init(seed: UInt64) {
        let streams = RandomStreams(seed: seed)
        requests = streams.stream("standin.requests")
        answers = streams.stream("standin.lost-answers")
    }

    func roll(_ f: StandInFaults) -> Fault? {
        let u = requests.nextDouble()
        var edge = f.tooManyRequests
        if u < edge { return .tooManyRequests }
        edge += f.serverErrors
        if u < edge { return .serverError }
        edge += f.badGatewayPages
        if u < edge { return .badGateway }
        edge += f.slowAnswers
        if u < edge { return .slow }
        return nil
    }

    func loses(_ f: StandInFaults) -> Bool { answers.nextDouble() < f.lostScheduleAnswers }
}
