import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An administrator's personal access token. Its text is never shown: not in a description,
/// a log line or an error.
public struct GitLabToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let secret: String
    public init(_ secret: String) { self.secret = secret }
    public var description: String { "<token>" }
    public var debugDescription: String { "<token>" }
}

/// What went wrong talking to GitLab, sorted by what a caller can do about it.
public enum GitLabError: Error, Equatable, CustomStringConvertible {
    /// No connection at all (refused, no such host): the address is wrong or GitLab is down.
    case unreachable(url: String, reason: String)
    /// 401 or 403: the token is wrong, expired, or not an administrator's.
    case unauthorized(status: Int, url: String, message: String)
    /// 429, 5xx, a timeout or a dropped connection: worth asking again, after `retryAfter`
    /// when GitLab said so.
    case transient(status: Int?, retryAfter: Duration?, what: String)
    /// Any other 4xx, with GitLab's message: asking again gives the same answer.
    case refused(status: Int, message: String)
    /// An answer that is not JSON where JSON was due (a proxy's or a sign-in page's HTML).
    case notJSON(status: Int, url: String, contentType: String)
    /// JSON of the wrong shape.
    case malformed(url: String, why: String)

    public var description: String {
        switch self {
        case .unreachable(let url, let reason): "cannot reach GitLab at \(url): \(reason)"
        case .unauthorized(let status, let url, let message): "\(url): \(status) \(message): the token must be an administrator's, with the api scope"
        case .transient(let status, _, let what): status.map { "\(what): \($0)" } ?? what
        case .refused(let status, let message): "\(status) \(message)"
        case .notJSON(let status, let url, let contentType): "\(url): answered \(status) with \(contentType.isEmpty ? "no content type" : contentType), not JSON"
        case .malformed(let url, let why): "\(url): unexpected JSON: \(why)"
        }
    }
}

/// GitLab's REST API (v4) over HTTP(S) with async-http-client: requests with the token in
/// `PRIVATE-TOKEN`, answers sorted into `GitLabError`s, and reads (GETs) asked again on a
/// transient error with capped exponential backoff that honours `Retry-After`. Writes (POST,
/// PUT) are never repeated here: a move may have been created by a request whose answer was
/// lost, so the engine looks it up first (Migration README).
public struct GitLabClient: Sendable {
    /// `https://gitlab.example.com`: the API is under `/api/v4`.
    public let baseURL: String
    let token: GitLabToken
    let http: HTTPClient
    /// A request's whole time, from connecting to the last byte. ASSUMED 30 s: GitLab's own
    /// Rails request timeout is 60 s (Rack::Timeout, docs.gitlab.com/ee/administration/...),
    /// and a move API call answers in well under a second.
    public var timeout: Duration = .seconds(30)
    /// Reads: attempts and backoff. ASSUMED: 6 attempts, 1 s doubling to at most 30 s (about a
    /// minute in all: longer than a GitLab pod's restart behind its load balancer).
    public var readAttempts = 6
    public var backoffBase: Duration = .seconds(1)
    public var backoffCap: Duration = .seconds(30)
    /// Answers larger than this are refused (a page of 100 projects is about 300 KB).
    static let maxAnswerBytes = 32 << 20

    /// The HTTP client every `GitLabClient` shares unless given one: AsyncHTTPClient's shared
    /// settings, but a connection is tried (and retried, with backoff) for at most 10 s instead
    /// of the request's whole 30 s, so an address that refuses connections is named sooner.
    /// ASSUMED 10 s: longer than a GitLab pod's restart behind its load balancer takes to answer
    /// again in most set-ups; the engine's retries carry anything longer. Never shut down: it
    /// lives as long as the process, as `HTTPClient.shared` does.
    public static let sharedHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(baseURL: String, token: GitLabToken, http: HTTPClient = GitLabClient.sharedHTTP) throws {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw GitLabError.unreachable(url: baseURL, reason: "not an http:// or https:// address")
        }
        self.baseURL = base
        self.token = token
        self.http = http
    }

    /// An answer: its status, headers and body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data
        public var url: String
    }

    /// The full address of an API path (`/projects/1`) with its query.
    public func url(_ path: String, query: [(String, String)] = []) -> String {
        var s = baseURL + "/api/v4" + path
        if !query.isEmpty {
            s += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        return s
    }

    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~[]")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// One request, no retry: the answer when it is a 2xx with JSON, else the error.
    public func send(_ method: HTTPMethod, _ url: String, json: Data? = nil) async throws(GitLabError) -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "PRIVATE-TOKEN", value: token.secret)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "rehearse")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        let answer: Answer
        do {
            let response = try await http.execute(request, timeout: .milliseconds(timeout.milliseconds))
            let body = try await response.body.collect(upTo: Self.maxAnswerBytes)
            answer = Answer(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView), url: url)
        } catch {
            throw Self.classify(transportError: error, url: url)
        }
        if let failure = Self.classify(answer, now: Date()) { throw failure }
        return answer
    }

    /// A GET, asked again on transient errors (backoff doubling from `backoffBase` up to
    /// `backoffCap`, or GitLab's `Retry-After` when longer), `readAttempts` times in all.
    public func get(_ url: String, onRetry: @Sendable (GitLabError, Duration) -> Void = { _, _ in }) async throws(GitLabError) -> Answer {
        var attempt = 1
        while true {
            do {
                return try await send(.GET, url)
            } catch {
                guard case .transient(_, let retryAfter, _) = error, attempt < readAttempts else { throw error }
                let wait = Self.backoff(attempt: attempt, base: backoffBase, cap: backoffCap, retryAfter: retryAfter)
                onRetry(error, wait)
                do { try await Task.sleep(for: wait) } catch { throw GitLabError.transient(status: nil, retryAfter: nil, what: "cancelled") }
                attempt += 1
            }
        }
    }

    /// The wait before attempt `attempt + 1`: `base · 2^(attempt−1)`, at most `cap`, and at least
    /// what `Retry-After` asked (which may exceed the cap: GitLab knows its rate limit).
    public static func backoff(attempt: Int, base: Duration, cap: Duration, retryAfter: Duration?) -> Duration {
        let doubled = base * (1 << min(max(attempt - 1, 0), 30))
        return max(min(doubled, cap), retryAfter ?? .zero)
    }

    /// Decodes a JSON answer, naming the address and the field when its shape is wrong.
    public static func decode<T: Decodable>(_ type: T.Type, _ answer: Answer) throws(GitLabError) -> T {
        do {
            return try GitLabWire.decoder.decode(T.self, from: answer.body)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .malformed(url: answer.url, why: "no field \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformed(url: answer.url, why: "field \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .malformed(url: answer.url, why: "field \(context.codingPath.map(\.stringValue).joined(separator: ".")) is null")
        } catch {
            throw .malformed(url: answer.url, why: "\(error)")
        }
    }

    // MARK: Sorting answers (pure, so that every case is tested without a network)

    /// nil for a 2xx JSON answer (or a 2xx with no body); else what went wrong.
    public static func classify(_ a: Answer, now: Date) -> GitLabError? {
        let contentType = a.headers.first(name: "Content-Type") ?? ""
        let isJSON = contentType.lowercased().contains("json")
        switch a.status {
        case 200..<300:
            if a.body.isEmpty || isJSON { return nil }
            return .notJSON(status: a.status, url: a.url, contentType: contentType)
        case 401, 403:
            return .unauthorized(status: a.status, url: a.url, message: message(a, isJSON: isJSON) ?? (a.status == 401 ? "Unauthorized" : "Forbidden"))
        case 408, 429, 500..<600:
            // A 502 from the load balancer or Workhorse is an HTML page: its text is no use,
            // only its status. Rack::Attack's 429 is plain text with `Retry-After`.
            let what = isJSON ? (message(a, isJSON: true) ?? "GitLab answered") : "GitLab answered \(contentType.isEmpty ? "a page" : contentType)"
            return .transient(status: a.status, retryAfter: retryAfter(a.headers.first(name: "Retry-After"), now: now), what: what)
        default:
            return .refused(status: a.status, message: message(a, isJSON: isJSON) ?? "GitLab answered \(contentType.isEmpty ? "a page" : contentType) without a message")
        }
    }

    static func message(_ a: Answer, isJSON: Bool) -> String? {
        guard isJSON, let body = try? GitLabWire.decoder.decode(GitLabWire.ErrorBody.self, from: a.body) else { return nil }
        return body.summary
    }

    /// `Retry-After`: seconds, or an HTTP date (RFC 9110 §10.2.3).
    public static func retryAfter(_ value: String?, now: Date) -> Duration? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let seconds = Int(v), seconds >= 0 { return .seconds(seconds) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: v) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSince(now) * 1000)))
    }

    /// A connection refused or a host not found is `unreachable`; a timeout or a connection
    /// lost mid-answer is transient.
    static func classify(transportError error: any Error, url: String) -> GitLabError {
        if let e = error as? GitLabError { return e }
        let text = "\(error)"
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return .transient(status: nil, retryAfter: nil, what: "no answer within the timeout")
        }
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED")
            || text.contains("NXDOMAIN") || text.contains("nodename nor servname") || text.contains("Name or service not known")
            || text.contains("connect(descriptor") {
            return .unreachable(url: url, reason: text)
        }
        return .transient(status: nil, retryAfter: nil, what: "connection lost: \(text)")
    }

    /// The next page's address from a `Link` header (`<...>; rel="next"`), as keyset
    /// pagination gives it (docs.gitlab.com/ee/api/rest/#keyset-based-pagination).
    public static func nextLink(_ link: String?) -> String? {
        guard let link else { return nil }
        for part in link.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count >= 2, pieces.dropFirst().contains(where: { $0 == "rel=\"next\"" || $0 == "rel=next" }) else { continue }
            let target = pieces[0]
            guard target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            return String(target.dropFirst().dropLast())
        }
        return nil
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
