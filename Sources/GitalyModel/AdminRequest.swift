import SimKernel

/// A request through the world's one admin door (`World.admin`): what GitLab's API
/// (`POST /projects/:id/repository_storage_moves`, `GET` of a move, `GET` of a project,
/// `PUT /application/settings`, a Rails console's `do_fail!` or `set_repository_writable!`) and
/// Praefect's subcommands (`accept-dataloss`, `set-replication-factor`) let an operator or a
/// migration engine do.
public enum AdminRequest: Sendable, Equatable {
    /// `destination` nil: the weights pick (gitlab!45338).
    case scheduleMove(RepositoryIndex, destination: GitLabStorageIndex?)
    /// Bulk `POST /project_repository_storage_moves`: every writable repository of `source`.
    case scheduleBulkMove(source: GitLabStorageIndex, destination: GitLabStorageIndex?)
    case getMove(MoveIndex)
    /// A repository's storage, read-only flag and moves (`GET /projects/:id` and
    /// `GET /projects/:id/repository_storage_moves`).
    case lookUpRepository(RepositoryIndex)
    /// One entry of `repository_storages_weighted`, 0...100.
    case setWeight(GitLabStorageIndex, weight: Int)
    /// An operator's `do_fail!` on a stuck move (runbook `move-repositories.md`).
    case failMove(MoveIndex, reason: String)
    /// `set_repository_writable!` after a move failed before `started` (gitlab#385309).
    case clearReadOnly(RepositoryIndex)
    /// A new project: its storage drawn by the weights.
    case createRepository(path: String, sizeBytes: Double)
    /// `praefect accept-dataloss -authoritative-storage`.
    case acceptDataloss(RepositoryIndex, authoritative: GitalyStorageIndex)
    /// `praefect set-replication-factor` for every repository of a virtual storage.
    case setReplicationFactor(GitLabStorageIndex, factor: Int)

    /// The object a failure of this request names.
    var subject: AdminSubject {
        switch self {
        case .scheduleMove(let r, _), .lookUpRepository(let r), .clearReadOnly(let r), .acceptDataloss(let r, _): .repository(r)
        case .scheduleBulkMove(let s, _), .setWeight(let s, _), .setReplicationFactor(let s, _): .gitlabStorage(s)
        case .getMove(let m), .failMove(let m, _): .move(m)
        case .createRepository(let path, _): .newRepository(path)
        }
    }

    /// Which call this is, for the API error draw (`World.apiErrorDraw`).
    var kind: UInt64 {
        switch self {
        case .scheduleMove: 1
        case .scheduleBulkMove: 2
        case .getMove: 3
        case .lookUpRepository: 4
        case .setWeight: 5
        case .failMove: 6
        case .clearReadOnly: 7
        case .createRepository: 8
        case .acceptDataloss: 9
        case .setReplicationFactor: 10
        }
    }
}

/// What an admin request names, for its error messages.
public enum AdminSubject: Sendable, Equatable, CustomStringConvertible {
    case repository(RepositoryIndex)
    case move(MoveIndex)
    case gitlabStorage(GitLabStorageIndex)
    case gitalyStorage(GitalyStorageIndex)
    /// A repository not created yet, by its path.
    case newRepository(String)

    public var description: String {
        switch self {
        case .repository(let r): r.description
        case .move(let m): m.description
        case .gitlabStorage(let s): s.description
        case .gitalyStorage(let s): s.description
        case .newRepository(let path): "new repository \(path)"
        }
    }

    /// An integer key for the API error draw: the subject's index, or the path's FNV-1a hash.
    var key: UInt64 {
        switch self {
        case .repository(let r): UInt64(r.index)
        case .move(let m): UInt64(m.index)
        case .gitlabStorage(let s): UInt64(s.index)
        case .gitalyStorage(let s): UInt64(s.index)
        case .newRepository(let path): fnv1a(path.utf8)
        }
    }
}

/// A failed admin request: what failed, on which object (`move 12: unknown move`).
public struct AdminFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var error: AdminError
    public var subject: AdminSubject
    public var description: String { "\(subject): \(error.phrase)" }
}

/// A repository as the API shows it.
public struct RepositoryStatus: Sendable, Equatable {
    public var storage: GitLabStorageIndex
    public var readOnly: Bool
    /// Its moves, oldest first, with their states.
    public var moves: [(id: MoveIndex, state: MoveState)]

    public static func == (a: Self, b: Self) -> Bool {
        a.storage == b.storage && a.readOnly == b.readOnly && a.moves.elementsEqual(b.moves) { $0.id == $1.id && $0.state == $1.state }
    }
}

/// What a successful admin request returns.
public enum AdminReply: Sendable, Equatable {
    case moveScheduled(MoveIndex)
    case movesScheduled([MoveIndex])
    /// The move after the request (`getMove`, `failMove`).
    case move(RepositoryStorageMove)
    case repository(RepositoryStatus)
    case repositoryCreated(RepositoryIndex)
    /// The request took effect and returns nothing.
    case done
}

/// An admin answer and how long the call took (`gitlab.apiLatency`): the caller sees it that
/// much later.
public struct AdminAnswer: Sendable {
    public var result: Result<AdminReply, AdminFailure>
    public var latency: SimTime
}

extension AdminError {
    /// The error in words, after the object it names.
    public var phrase: String {
        switch self {
        case .serverError: "server error (500 or timeout)"
        case .unknownRepository: "unknown repository"
        case .unknownMove: "unknown move"
        case .unknownStorage: "unknown storage"
        case .repositoryReadOnly: "repository is read-only"
        case .noDestination: "no storage can take the repository"
        case .weightOutOfRange: "a weight is 0 to 100"
        case .storageFull: "storage full"
        case .replicationFactorOutOfRange: "replication factor out of range"
        }
    }
}

extension World {
    /// The one admin door. The time is the scheduler's (`sim.now`); the answer carries the API's
    /// latency. A server error (`gitlab.apiErrorRate`) is drawn per call from its own stream,
    /// keyed by the request's kind, its object and how many such calls that object has had, so
    /// how often a caller polls shifts no other call's draw (common random numbers).
    public static func admin(_ request: AdminRequest, _ sim: inout Simulation<World>) -> AdminAnswer {
        let latency = sim.model.apiLatency
        let subject = request.subject
        if sim.model.apiErrorDraw(request, subject: subject) {
            return AdminAnswer(result: .failure(AdminFailure(error: .serverError, subject: subject)), latency: latency)
        }
        let result = perform(request, &sim)
        return AdminAnswer(result: result.mapError { AdminFailure(error: $0, subject: subject) }, latency: latency)
    }

    /// The request's effect, without latency or server errors.
    static func perform(_ request: AdminRequest, _ sim: inout Simulation<World>) -> Result<AdminReply, AdminError> {
        let now = sim.now
        switch request {
        case .scheduleMove(let r, let d):
            if let d, !sim.model.fleet.virtualStorages.indices.contains(d.index) { return .failure(.unknownStorage) }
            return scheduleMove(&sim, repository: r.index, destination: d?.index).result.map { .moveScheduled(MoveIndex($0)) }
        case .scheduleBulkMove(let source, let d):
            guard sim.model.fleet.virtualStorages.indices.contains(source.index),
                  d.map({ sim.model.fleet.virtualStorages.indices.contains($0.index) }) ?? true else { return .failure(.unknownStorage) }
            return scheduleBulkMove(&sim, source: source.index, destination: d?.index).result.map { .movesScheduled($0.map(MoveIndex.init)) }
        case .getMove(let m):
            guard sim.model.moves.indices.contains(m.index) else { return .failure(.unknownMove) }
            return .success(.move(sim.model.move(m.index)))
        case .lookUpRepository(let r):
            guard sim.model.repositories.indices.contains(r.index) else { return .failure(.unknownRepository) }
            return .success(.repository(sim.model.status(of: r.index)))
        case .setWeight(let s, let weight):
            guard sim.model.fleet.virtualStorages.indices.contains(s.index) else { return .failure(.unknownStorage) }
            return sim.model.setWeight(storage: s.index, weight: weight).result.map { .done }
        case .failMove(let m, let reason):
            guard sim.model.moves.indices.contains(m.index) else { return .failure(.unknownMove) }
            failMove(&sim, m.index, reason: reason)
            return .success(.move(sim.model.move(m.index)))
        case .clearReadOnly(let r):
            guard sim.model.repositories.indices.contains(r.index) else { return .failure(.unknownRepository) }
            sim.model.clearReadOnly(r.index, at: now)
            return .success(.done)
        case .createRepository(let path, let sizeBytes):
            return sim.model.createRepository(path: path, sizeBytes: sizeBytes, at: now).result.map { .repositoryCreated(RepositoryIndex($0)) }
        case .acceptDataloss(let r, let storage):
            guard sim.model.repositories.indices.contains(r.index) else { return .failure(.unknownRepository) }
            let vs = sim.model.repositories[r.index].virtualStorage
            guard sim.model.fleet.virtualStorages[vs].members.contains(storage.index) else { return .failure(.unknownStorage) }
            sim.model.acceptDataloss(repository: r.index, authoritativeStorage: storage.index, at: now)
            return .success(.done)
        case .setReplicationFactor(let s, let factor):
            guard sim.model.fleet.virtualStorages.indices.contains(s.index) else { return .failure(.unknownStorage) }
            return sim.model.setReplicationFactor(virtualStorage: s.index, factor: factor).map { .done }
        }
    }

    /// A repository's storage, read-only flag and moves, from the world's own index.
    @inline(__always)
    func status(of r: Int) -> RepositoryStatus {
        let ids = moveChain(of: r)
        return RepositoryStatus(storage: GitLabStorageIndex(repositories[r].virtualStorage), readOnly: readOnly[r],
                                moves: ids.map { (MoveIndex($0), moves[$0].state) })
    }

    /// Whether this call fails with a server error: the n-th call of its kind on its object
    /// draws from its own substream of `gitlab.api.errors`.
    mutating func apiErrorDraw(_ request: AdminRequest, subject: AdminSubject) -> Bool {
        let rate = fleet.gitlab.apiErrorRate
        guard rate > 0 else { return false }
        // A repository's draws are keyed by its place, so its layout changes none.
        let kind = request.kind
        let key = if case .repository(let r) = subject { UInt64(place(of: r.index)) } else { subject.key }
        let n = adminCalls.count(request, subject: subject)
        var random = apiErrorRandom.substream(kind &* 0x9E37_79B9_7F4A_7C15 ^ key, UInt64(n))
        return random.bernoulli(rate)
    }
}

/// How many calls of each kind each object has had, for the API error draw: counters beside
/// each repository and each move, the objects a drain calls millions of times (a dictionary
/// keyed by kind and object cost 7% of a million-repository drain in hashing, and some 40
/// bytes an entry), and a dictionary for the rest (storages, new projects' paths, objects that
/// do not exist).
struct AdminCallCounts {
    /// Per repository, one counter for each kind of call that names a repository.
    private var repositories: [UInt32] = []
    /// Per move, one counter for each kind of call that names a move.
    private var moves: [UInt32] = []
    private var others: [Others: Int] = [:]

    private struct Others: Hashable {
        var kind: UInt64
        var key: UInt64
    }

    /// Counters per repository and per move: the kinds of call that name each.
    private static let perRepository = 4, perMove = 2

    mutating func addRepositories(_ count: Int) { repositories.append(contentsOf: repeatElement(0, count: count * Self.perRepository)) }
    mutating func addMove() { moves.append(contentsOf: repeatElement(0, count: Self.perMove)) }
    mutating func reserveMoves(_ count: Int) { moves.reserveCapacity(count * Self.perMove) }
    mutating func reserveRepositories(_ count: Int) { repositories.reserveCapacity(count * Self.perRepository) }

    /// The calls of `request`'s kind its object had before this one, and counts this one.
    mutating func count(_ request: AdminRequest, subject: AdminSubject) -> Int {
        switch (request, subject) {
        case (_, .repository(let r)) where r.index >= 0 && r.index < repositories.count / Self.perRepository:
            return Self.next(&repositories, r.index * Self.perRepository + Self.counter(request))
        case (_, .move(let m)) where m.index >= 0 && m.index < moves.count / Self.perMove:
            return Self.next(&moves, m.index * Self.perMove + Self.counter(request))
        default:
            let k = Others(kind: request.kind, key: subject.key)
            defer { others[k, default: 0] += 1 }
            return others[k, default: 0]
        }
    }

    /// Which of its object's counters a call takes (a repository's or a move's).
    private static func counter(_ request: AdminRequest) -> Int {
        switch request {
        case .scheduleMove, .getMove: 0
        case .lookUpRepository, .failMove: 1
        case .clearReadOnly: 2
        case .acceptDataloss: 3
        case .scheduleBulkMove, .setWeight, .createRepository, .setReplicationFactor:
            preconditionFailure("\(request) names neither a repository nor a move")
        }
    }

    private static func next(_ counters: inout [UInt32], _ i: Int) -> Int {
        defer { counters[i] &+= 1 }
        return Int(counters[i])
    }
}

extension RandomStream {
    /// An independent stream for the pair (`a`, `b`), derived from this stream's next value
    /// without advancing it: the draws for one object (a move, a repository's n-th call) stay the
    /// same however many other objects drew before it.
    func substream(_ a: UInt64, _ b: UInt64) -> RandomStream {
        var base = self
        var mix = SplitMix64(state: base.next() ^ a)
        var again = SplitMix64(state: mix.next() ^ b)
        return RandomStream(seed: again.next())
    }
}
