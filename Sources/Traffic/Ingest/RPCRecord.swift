/// One finished RPC as read from a log line, before it is stored.
///
/// Times are Unix-epoch nanoseconds (UTC), which reach to the year 2262. Absent fields are nil:
/// older Gitaly versions log no payload bytes, storage-scoped RPCs carry no repository, and only
/// Praefect lines carry a route (GITALY_LOGS.md §1).
public struct RPCRecord: Sendable, Equatable {
    /// When the call arrived: the line's `time` minus `grpc.time_ms` (the line is written when the
    /// call ends). With the old whole-second `time` format this is accurate to one second only.
    public var arrivalNs: Int64
    /// `grpc.time_ms`, the handler's duration.
    public var durationNs: Int64
    /// `grpc.service`, e.g. `gitaly.CommitService`.
    public var service: String
    /// `grpc.method`, e.g. `FindCommit`.
    public var method: String
    public var operation: OperationType
    /// `grpc.request.repoStorage`, else `grpc.request.StorageName`, else Praefect's `virtual_storage`.
    public var storage: String?
    /// `grpc.request.repoPath`, else Praefect's `relative_path`.
    public var repositoryPath: String?
    /// `grpc.request.glProjectPath`.
    public var projectPath: String?
    /// `grpc.request.glRepository` (`project-N`).
    public var glRepository: String?
    /// `grpc.meta.client_name`.
    public var client: String?
    /// `grpc.code`: OK, Canceled, ResourceExhausted, …
    public var code: String
    /// `grpc.request.payload_bytes` and `grpc.response.payload_bytes`: gRPC messages only, not the
    /// sidechannel that carries clone and fetch data.
    public var requestBytes: Int64?
    public var responseBytes: Int64?
    /// `pack_objects_cache.served_bytes`, else `pack_objects_cache.generated_bytes`: the best
    /// volume proxy for clones and fetches (GITALY_LOGS.md §1).
    public var packBytes: Int64?
    /// `command.cpu_time_ms`, else `command.user_time_ms + command.system_time_ms`: CPU of the git
    /// processes the call spawned.
    public var cpuTimeMs: Double?
    /// Praefect's `route`: the Gitaly storage that served an accessor (`route.storage`) or the
    /// primary of a mutator (`route.primary`).
    public var routeNode: String?
    /// Praefect's `route.secondaries`, comma-separated, for mutators.
    public var routeSecondaries: String?

    public init(arrivalNs: Int64, durationNs: Int64, service: String, method: String, operation: OperationType,
                storage: String? = nil, repositoryPath: String? = nil, projectPath: String? = nil,
                glRepository: String? = nil, client: String? = nil, code: String = "OK",
                requestBytes: Int64? = nil, responseBytes: Int64? = nil, packBytes: Int64? = nil,
                cpuTimeMs: Double? = nil, routeNode: String? = nil, routeSecondaries: String? = nil) {
        self.arrivalNs = arrivalNs; self.durationNs = durationNs
        self.service = service; self.method = method; self.operation = operation
        self.storage = storage; self.repositoryPath = repositoryPath; self.projectPath = projectPath
        self.glRepository = glRepository; self.client = client; self.code = code
        self.requestBytes = requestBytes; self.responseBytes = responseBytes; self.packBytes = packBytes
        self.cpuTimeMs = cpuTimeMs; self.routeNode = routeNode; self.routeSecondaries = routeSecondaries
    }
}
