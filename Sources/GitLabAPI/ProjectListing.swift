import Foundation

/// The projects on some storages, as an administrator lists them: `GET /projects?
/// repository_storage=NAME&statistics=true`, page after page with keyset pagination by id
/// (`pagination=keyset&order_by=id&sort=asc`, the next page in `Link`), which GitLab requires
/// past 50,000 projects (docs.gitlab.com/ee/api/rest/#keyset-based-pagination) and which
/// gitalyctl also orders by id (PRAEFECT.md §9).
public struct ProjectListing: Sendable {
    /// One project: where it lives, how big its repository is, and its fork network's root
    /// when GitLab shows its parent.
    public struct Found: Sendable, Equatable {
        public var id: Int64
        public var path: String
        public var storage: String
        public var repositoryBytes: Int64
        public var forkRoot: Int64?
    }

    public var client: GitLabClient
    /// PUBLIC: 100 is `per_page`'s maximum (docs.gitlab.com/ee/api/rest/#pagination).
    public var perPage = 100
    public var progress: @Sendable (String) -> Void

    public init(client: GitLabClient, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.progress = progress
    }

    public func projects(on storages: [String]) async throws(GitLabError) -> [Found] {
        var found: [Found] = []
        var parents: [Int64: Int64] = [:]
        for storage in storages {
            var next: String? = client.url("/projects", query: [
                ("repository_storage", storage), ("statistics", "true"), ("pagination", "keyset"),
                ("order_by", "id"), ("sort", "asc"), ("per_page", String(perPage)),
            ])
            var pages = 0
            while let url = next {
                let answer = try await client.get(url) { error, wait in
                    progress("\(error); asking again in \(wait)")
                }
                let page = try GitLabClient.decode([GitLabWire.Project].self, answer)
                for p in page {
                    // A project on another storage answers a filter GitLab did not apply (a
                    // non-administrator's token): refuse rather than list the wrong fleet.
                    guard let s = p.repositoryStorage else {
                        throw .malformed(url: url, why: "project \(p.id) has no repository_storage: the token must be an administrator's")
                    }
                    guard s == storage else { throw .malformed(url: url, why: "project \(p.id) is on \(s), not \(storage)") }
                    guard let stats = p.statistics else { throw .malformed(url: url, why: "project \(p.id) has no statistics") }
                    found.append(Found(id: p.id, path: p.pathWithNamespace, storage: s, repositoryBytes: stats.repositorySize, forkRoot: nil))
                    if let parent = p.forkedFromProject?.id { parents[p.id] = parent }
                }
                pages += 1
                progress("\(storage): \(found.count) projects after \(pages) pages")
                next = GitLabClient.nextLink(answer.headers.first(name: "Link"))
            }
        }
        // GitLab shows a fork's parent; the network's root is the last ancestor on the way up
        // that was listed (one on a storage not listed is outside this inventory).
        let listed = Set(found.map(\.id))
        for i in found.indices {
            var at = found[i].id, root: Int64?
            var seen: Set<Int64> = [at]
            while let up = parents[at], seen.insert(up).inserted {
                if listed.contains(up) { root = up }
                at = up
            }
            found[i].forkRoot = root
        }
        return found
    }
}
