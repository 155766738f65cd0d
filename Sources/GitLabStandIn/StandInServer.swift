import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LocalGit
import Migration
import NIOCore
import ServiceLifecycle
import UnixSignals
import Synchronization

/// The GitLab API stand-in as an HTTP server (hummingbird, plain HTTP on loopback): `StandInAPI`
/// answers every request, and a pool of `LocalMoveWorkers` carries the scheduled moves out on
/// the storage folders, as Sidekiq does behind GitLab's API.
public struct StandInServer: Sendable {
    public var gitlab: LocalGitLab
    public var adminToken: String
    public var userToken: String?
    public var faults: StandInFaults
    /// Sidekiq threads running moves. ASSUMED 4, as the local-git driver's.
    public var workers = 4
    public var git = Git()
    /// PUBLIC: Rails reads the push counter 3 times, 10 s apart (update_repository_storage_methods.rb).
    public var pushWaitPolls = 3
    public var pushWaitInterval: Duration = .seconds(10)
    public var log: @Sendable (String) -> Void = { _ in }
    /// What the stand-in counted (second move requests while one is in flight).
    public let ledger = StandInLedger()

    public init(gitlab: LocalGitLab, adminToken: String, userToken: String? = nil, faults: StandInFaults = StandInFaults()) {
        self.gitlab = gitlab
        self.adminToken = adminToken
        self.userToken = userToken
        self.faults = faults
    }

    /// A token of GitLab's shape (`glpat-` and 20 characters), from the system's random source.
    public static func newToken() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        var g = SystemRandomNumberGenerator()
        return "glpat-" + String((0..<20).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }

    /// Starts serving on `host:port` (port 0: any free one) in the background and returns once
    /// the server listens.
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws -> RunningStandIn {
        let (group, queue, bound) = serviceGroup(host: host, port: port, signals: [])
        let movers = self.movers
        let task = Task { try await movers.serve(queue: queue) { _ in try await group.run() } }
        var waited = 0
        while bound.port.withLock({ $0 }) == nil {
            if waited > 3000 { task.cancel(); throw StandInError.notListening(host, port) }
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        return RunningStandIn(port: bound.port.withLock { $0 }!, ledger: ledger, group: group, task: task)
    }

    /// Serves on `host:port` until SIGINT or SIGTERM; `ready` gets the port once it listens.
    public func run(host: String = "127.0.0.1", port: Int, ready: @escaping @Sendable (Int) -> Void) async throws {
        let (group, queue, bound) = serviceGroup(host: host, port: port, signals: [.sigterm, .sigint], ready: ready)
        _ = bound
        try await movers.serve(queue: queue) { _ in try await group.run() }
    }

    var movers: LocalMoveWorkers {
        LocalMoveWorkers(gitlab: gitlab, git: git, count: workers, pushWaitPolls: pushWaitPolls, pushWaitInterval: pushWaitInterval,
                         faults: MoveFaults(stuck: faults.stuckMoves, corruptCopy: faults.failingMoves, failCleanup: faults.cleanupFailures), log: log)
    }

    /// The HTTP server as a service group (stopped gracefully: requests in flight are answered
    /// first) over the queue the workers take moves from.
    func serviceGroup(host: String, port: Int, signals: [UnixSignal], ready: @escaping @Sendable (Int) -> Void = { _ in }) -> (ServiceGroup, MoveQueue, BoundPort) {
        let queue = MoveQueue()
        let api = StandInAPI(gitlab: gitlab, adminToken: adminToken, userToken: userToken, faults: faults, ledger: ledger) { await queue.push($0) }
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, context in
            try await Self.answer(request, context: context, api: api, host: host)
        }
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("**", method: method, use: handler)
        }
        let bound = BoundPort()
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "rehearse-gitlab-standin"),
                              onServerRunning: { channel in
                                  let p = channel.localAddress?.port ?? port
                                  bound.port.withLock { $0 = p }
                                  ready(p)
                              },
                              logger: Self.quietLogger)
        return (ServiceGroup(services: [app], gracefulShutdownSignals: signals, logger: Self.quietLogger), queue, bound)
    }

    /// Hummingbird's own log: critical only (its shutdown on cancellation logs at error level;
    /// every error of a request is already an answer, `StandInAPI.respond`).
    static let quietLogger: Logger = {
        var l = Logger(label: "gitlab-standin")
        l.logLevel = .critical
        return l
    }()

    static func answer(_ request: Request, context: BasicRequestContext, api: StandInAPI, host: String) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let query = StandInRequest.pairs(request.uri.query ?? "")
        // HTTP/1.1's Host header arrives as the request's authority.
        let origin = "http://" + (request.head.authority ?? headers["host"] ?? host)
        let answer = await api.respond(StandInRequest(method: request.method.rawValue, path: request.uri.path, query: query, headers: headers,
                                                      body: Data(body.readableBytesView), origin: origin))
        var fields = HTTPFields()
        for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) {
            if let n = HTTPField.Name(name) { fields[n] = value }
        }
        return Response(status: .init(code: answer.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// A stand-in serving in the background.
public struct RunningStandIn: Sendable {
    public let port: Int
    public let ledger: StandInLedger
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Stops taking connections, answers the requests in flight, stops the workers.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

public enum StandInError: Error, CustomStringConvertible {
    case notListening(String, Int)
    public var description: String {
        switch self {
        case .notListening(let host, let port): "the stand-in did not start listening on \(host):\(port)"
        }
    }
}

/// The port the server bound, once it listens.
final class BoundPort: Sendable {
    let port = Mutex<Int?>(nil)
}
