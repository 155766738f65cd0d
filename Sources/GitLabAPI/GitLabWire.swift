import Foundation
import Migration

/// The JSON GitLab's REST API (v4) sends and takes for what a migration uses, in one place
/// for the driver that reads it and the stand-in that writes it. Field names are GitLab's
/// (snake_case on the wire); shapes follow the API documentation: repository storage moves
/// (docs.gitlab.com/ee/api/project_repository_storage_moves.html, and the snippet and group
/// pages), projects (docs.gitlab.com/ee/api/projects.html), application settings
/// (docs.gitlab.com/ee/api/settings.html), errors (docs.gitlab.com/ee/api/rest/troubleshooting.html).
public enum GitLabWire {
    /// A repository storage move (`API::Entities::Projects::RepositoryStorageMove` and its
    /// snippet and group twins): `state` is the state's human name ("cleanup failed").
    public struct StorageMove: Codable, Sendable, Equatable {
        public var id: Int64
        public var createdAt: String
        public var state: String
        public var sourceStorageName: String
        public var destinationStorageName: String
        public var project: Container?
        public var snippet: Container?
        public var group: Container?

        public init(id: Int64, createdAt: String, state: MoveState, sourceStorageName: String, destinationStorageName: String,
                    container: GitLabContainer, identity: Container) {
            self.id = id
            self.createdAt = createdAt
            self.state = state.humanName
            self.sourceStorageName = sourceStorageName
            self.destinationStorageName = destinationStorageName
            switch container {
            case .project: project = identity
            case .snippet: snippet = identity
            case .group: group = identity
            }
        }
    }

    /// The container a move names: a project's identity (`ProjectIdentity`: id, name, path,
    /// ...), a snippet's (`BasicSnippet`: id, title, ...) or a group's (id, name, web_url).
    public struct Container: Codable, Sendable, Equatable {
        public var id: Int64
        public var name: String?
        public var nameWithNamespace: String?
        public var path: String?
        public var pathWithNamespace: String?
        public var title: String?
        public var webUrl: String?
        public var createdAt: String?
        public init(id: Int64, name: String? = nil, nameWithNamespace: String? = nil, path: String? = nil, pathWithNamespace: String? = nil,
                    title: String? = nil, webUrl: String? = nil, createdAt: String? = nil) {
            self.id = id
            self.name = name
            self.nameWithNamespace = nameWithNamespace
            self.path = path
            self.pathWithNamespace = pathWithNamespace
            self.title = title
            self.webUrl = webUrl
            self.createdAt = createdAt
        }
    }

    /// `POST /:containers/:id/repository_storage_moves`: no destination lets the weights pick.
    public struct ScheduleMove: Codable, Sendable, Equatable {
        public var destinationStorageName: String?
        public init(destinationStorageName: String?) { self.destinationStorageName = destinationStorageName }
    }

    /// A project as `GET /projects` and `GET /projects/:id` answer an administrator:
    /// `repository_storage` is shown to administrators only, `statistics` with `statistics=true`.
    public struct Project: Codable, Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var path: String
        public var pathWithNamespace: String
        public var repositoryStorage: String?
        public var statistics: Statistics?
        public var forkedFromProject: Container?
        public var createdAt: String?
        public init(id: Int64, name: String, path: String, pathWithNamespace: String, repositoryStorage: String?, statistics: Statistics?,
                    forkedFromProject: Container?, createdAt: String?) {
            self.id = id
            self.name = name
            self.path = path
            self.pathWithNamespace = pathWithNamespace
            self.repositoryStorage = repositoryStorage
            self.statistics = statistics
            self.forkedFromProject = forkedFromProject
            self.createdAt = createdAt
        }
    }

    public struct Statistics: Codable, Sendable, Equatable {
        public var repositorySize: Int64
        public var storageSize: Int64?
        public init(repositorySize: Int64, storageSize: Int64?) {
            self.repositorySize = repositorySize
            self.storageSize = storageSize
        }
    }

    /// The part of `GET|PUT /application/settings` a migration uses.
    public struct Settings: Codable, Sendable, Equatable {
        public var repositoryStoragesWeighted: [String: Int]
        public init(repositoryStoragesWeighted: [String: Int]) { self.repositoryStoragesWeighted = repositoryStoragesWeighted }
    }

    /// An error's body: `{"message": "404 Project Not Found"}`, a validation error's
    /// `{"message": {"project": ["is read-only"]}}`, or a parameter error's `{"error": "..."}`.
    public struct ErrorBody: Codable, Sendable, Equatable {
        public var message: Message?
        public var error: String?
        public init(message: Message? = nil, error: String? = nil) {
            self.message = message
            self.error = error
        }

        public enum Message: Codable, Sendable, Equatable {
            case text(String)
            case fields([String: [String]])

            public init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .text(s) } else { self = .fields(try c.decode([String: [String]].self)) }
            }

            public func encode(to encoder: any Encoder) throws {
                var c = encoder.singleValueContainer()
                switch self {
                case .text(let s): try c.encode(s)
                case .fields(let f): try c.encode(f)
                }
            }
        }

        /// One line: "project is read-only", "404 Project Not Found".
        public var summary: String {
            switch message {
            case .text(let s): return s
            case .fields(let f): return f.keys.sorted().map { k in "\(k) \(f[k]!.joined(separator: ", "))" }.joined(separator: "; ")
            case nil: return error ?? "no message"
            }
        }
    }

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        // GitLab writes "group/project", not "group\/project".
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}

/// The three kinds of container GitLab moves between storages, each with its own API and its
/// own table of moves (PRAEFECT.md §8).
public enum GitLabContainer: String, Sendable, CaseIterable {
    case project, snippet, group

    /// `projects`, `snippets`, `groups`: the path of `/:containers/:id`.
    public var plural: String { rawValue + "s" }

    /// GitLab's model class (`Project`): its API's "404 Project Not Found" and the Rails
    /// console's `Project.find(1)`; its moves are `Projects::RepositoryStorageMove`.
    public var className: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

    /// What a plan's repository kind is moved as: a project carries its wiki and design
    /// repositories (GitLab moves them together), so a `design` entry has no move of its own;
    /// a `wiki` entry is a group's wiki, which gitalyctl drains on its own.
    public init?(_ kind: RepositoryKind) {
        switch kind {
        case .project: self = .project
        case .snippet: self = .snippet
        case .wiki: self = .group
        case .design: return nil
        }
    }

    /// GitLab numbers the moves of each container kind in a table of its own, so one number can
    /// name three moves. The engine's `MoveID` names one: a project move keeps its number, a
    /// snippet move's is offset by 2^48 and a group move's by 2^49 (GitLab's ids are bigints
    /// far below that).
    static let offsets: [GitLabContainer: Int64] = [.project: 0, .snippet: 1 << 48, .group: 1 << 49]

    public func moveID(_ gitlabID: Int64) -> MoveID { MoveID(gitlabID + Self.offsets[self]!) }

    /// The container kind and GitLab's own number of an engine's move id.
    public static func split(_ m: MoveID) -> (GitLabContainer, Int64) {
        if m.value >= 1 << 49 { return (.group, m.value - (1 << 49)) }
        if m.value >= 1 << 48 { return (.snippet, m.value - (1 << 48)) }
        return (.project, m.value)
    }
}

extension MoveState {
    /// The state's name as GitLab's API shows it (`human_state_name`: underscores as spaces).
    public var humanName: String {
        switch self {
        case .initial: "initial"
        case .scheduled: "scheduled"
        case .started: "started"
        case .finished: "finished"
        case .failed: "failed"
        case .replicated: "replicated"
        case .cleanupFailed: "cleanup failed"
        }
    }

    public init?(humanName: String) {
        guard let s = Self.allCases.first(where: { $0.humanName == humanName }) else { return nil }
        self = s
    }
}
