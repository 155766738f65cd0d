import Foundation
import Migration
import NIOHTTP1
import Testing
@testable import GitLabAPI

/// Goal: every kind of answer GitLab (or what stands in front of it) gives is sorted into what
/// the caller can do about it. Method: answers written by hand from GitLab's documentation
/// (docs.gitlab.com/ee/api/rest/troubleshooting.html: status codes and `{"message": ...}`
/// bodies; Rack::Attack's plain-text 429 with `Retry-After`; a load balancer's HTML 502).
@Suite struct AnswerSortingTests {
    static let now = Date(timeIntervalSince1970: 1_764_500_000)

    func answer(_ status: Int, _ contentType: String?, _ body: String, _ extra: [(String, String)] = []) -> GitLabClient.Answer {
        var h = HTTPHeaders()
        if let contentType { h.add(name: "Content-Type", value: contentType) }
        for (k, v) in extra { h.add(name: k, value: v) }
        return GitLabClient.Answer(status: status, headers: h, body: Data(body.utf8), url: "https://gitlab.example.com/api/v4/x")
    }

    @Test func aJSONSuccessIsNoError() {
        #expect(GitLabClient.classify(answer(200, "application/json", "{}"), now: Self.now) == nil)
        #expect(GitLabClient.classify(answer(201, "application/json; charset=utf-8", "{\"id\":1}"), now: Self.now) == nil)
        #expect(GitLabClient.classify(answer(204, nil, ""), now: Self.now) == nil)
    }

    @Test func anHTMLPageWithA200IsNotJSON() {
        // A sign-in page or a proxy's page: the address is wrong, not GitLab's API.
        #expect(GitLabClient.classify(answer(200, "text/html; charset=utf-8", "<html>Sign in</html>"), now: Self.now)
            == .notJSON(status: 200, url: "https://gitlab.example.com/api/v4/x", contentType: "text/html; charset=utf-8"))
    }

    @Test func fourOhOneAndFourOhThreeAreTheToken() {
        #expect(GitLabClient.classify(answer(401, "application/json", "{\"message\":\"401 Unauthorized\"}"), now: Self.now)
            == .unauthorized(status: 401, url: "https://gitlab.example.com/api/v4/x", message: "401 Unauthorized"))
        #expect(GitLabClient.classify(answer(403, "text/plain", "Forbidden"), now: Self.now)
            == .unauthorized(status: 403, url: "https://gitlab.example.com/api/v4/x", message: "Forbidden"))
    }

    @Test func rateLimitsAndServerErrorsAreTransientWithTheirWait() {
        #expect(GitLabClient.classify(answer(429, "text/plain", "Retry later\n", [("Retry-After", "7")]), now: Self.now)
            == .transient(status: 429, retryAfter: .seconds(7), what: "GitLab answered text/plain"))
        // An HTTP date 90 s after `now` (RFC 9110's format).
        let date = Self.now.addingTimeInterval(90)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(GitLabClient.classify(answer(503, "application/json", "{\"message\":\"503 Service Unavailable\"}", [("Retry-After", f.string(from: date))]), now: Self.now)
            == .transient(status: 503, retryAfter: .seconds(90), what: "503 Service Unavailable"))
        #expect(GitLabClient.classify(answer(502, "text/html", "<html><h1>502</h1></html>"), now: Self.now)
            == .transient(status: 502, retryAfter: nil, what: "GitLab answered text/html"))
    }

    @Test func otherClientErrorsAreRefusalsWithGitLabsMessage() {
        #expect(GitLabClient.classify(answer(404, "application/json", "{\"message\":\"404 Project Not Found\"}"), now: Self.now)
            == .refused(status: 404, message: "404 Project Not Found"))
        #expect(GitLabClient.classify(answer(400, "application/json", "{\"message\":{\"project\":[\"is read-only\"]}}"), now: Self.now)
            == .refused(status: 400, message: "project is read-only"))
        #expect(GitLabClient.classify(answer(400, "application/json", "{\"error\":\"destination_storage_name does not have a valid value\"}"), now: Self.now)
            == .refused(status: 400, message: "destination_storage_name does not have a valid value"))
    }

    /// Backoff: 1, 2, 4, 8 s, then the 10 s cap; a longer `Retry-After` wins over the cap.
    @Test func backoffDoublesToItsCapAndYieldsToRetryAfter() {
        let waits = (1...6).map { GitLabClient.backoff(attempt: $0, base: .seconds(1), cap: .seconds(10), retryAfter: nil) }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
        #expect(GitLabClient.backoff(attempt: 1, base: .seconds(1), cap: .seconds(10), retryAfter: .seconds(60)) == .seconds(60))
        #expect(GitLabClient.backoff(attempt: 3, base: .seconds(1), cap: .seconds(10), retryAfter: .seconds(2)) == .seconds(4))
    }

    /// The `Link` header as GitLab documents it for keyset pagination.
    @Test func theNextPageComesFromTheLinkHeader() {
        let link = "<https://gitlab.example.com/api/v4/projects?pagination=keyset&per_page=50&order_by=id&sort=asc&id_after=42>; rel=\"next\", "
            + "<https://gitlab.example.com/api/v4/projects?pagination=keyset&per_page=50&order_by=id&sort=asc>; rel=\"first\""
        #expect(GitLabClient.nextLink(link) == "https://gitlab.example.com/api/v4/projects?pagination=keyset&per_page=50&order_by=id&sort=asc&id_after=42")
        #expect(GitLabClient.nextLink("<https://gitlab.example.com/api/v4/projects?page=1>; rel=\"first\"") == nil)
        #expect(GitLabClient.nextLink(nil) == nil)
    }

    @Test func theTokenIsNeverShown() throws {
        let token = GitLabToken("glpat-secret-value-123")
        #expect("\(token)" == "<token>" && String(reflecting: token) == "<token>")
        let client = try GitLabClient(baseURL: "https://gitlab.example.com/", token: token)
        #expect(!"\(client)".contains("glpat-secret-value-123"))
        #expect(client.url("/projects", query: [("repository_storage", "nfs file01")]) == "https://gitlab.example.com/api/v4/projects?repository_storage=nfs%20file01")
    }
}

/// Goal: the JSON shapes read what GitLab's documentation shows. Method: the example answer of
/// `POST /projects/:id/repository_storage_moves` from docs.gitlab.com/ee/api/project_repository_storage_moves.html,
/// and every state's human name, as `human_state_name` gives it.
@Suite struct WireTests {
    @Test func theDocumentedMoveDecodes() throws {
        let json = """
            {"id": 1, "created_at": "2020-05-07T04:27:17.234Z", "state": "scheduled", "source_storage_name": "default",
             "destination_storage_name": "storage2",
             "project": {"id": 1, "description": null, "name": "project1", "name_with_namespace": "John Doe2 / project1",
                         "path": "project1", "path_with_namespace": "namespace1/project1", "created_at": "2020-05-07T04:27:17.016Z"}}
            """
        let move = try GitLabWire.decoder.decode(GitLabWire.StorageMove.self, from: Data(json.utf8))
        #expect(move.id == 1 && move.state == "scheduled" && move.sourceStorageName == "default" && move.destinationStorageName == "storage2")
        #expect(move.project?.pathWithNamespace == "namespace1/project1" && move.snippet == nil)
    }

    @Test func everyStateHasItsHumanName() {
        #expect(MoveState.allCases.map(\.humanName) == ["initial", "scheduled", "started", "finished", "failed", "replicated", "cleanup failed"])
        for s in MoveState.allCases { #expect(MoveState(humanName: s.humanName) == s) }
        #expect(MoveState(humanName: "cleanup_failed") == nil)
    }

    /// Project, snippet and group moves are numbered apart in GitLab; the engine's ids keep them apart.
    @Test func moveIDsOfEachContainerKindStayApart() {
        let ids = GitLabContainer.allCases.map { $0.moveID(5) }
        #expect(Set(ids).count == 3)
        for c in GitLabContainer.allCases {
            let (back, n) = GitLabContainer.split(c.moveID(123_456_789))
            #expect(back == c && n == 123_456_789)
        }
        #expect(GitLabContainer(.design) == nil && GitLabContainer(.wiki) == .group)
    }
}
