import GitalyModel
import Traffic

/// Maps a Gitaly method, as a trace logs it, onto the simulated world's RPC classes.
public enum RPCClassifier {
    public enum Outcome: Equatable, Sendable {
        case rpc(RPCClass)
        /// A call Gitaly makes to itself while serving another one (hooks during a push,
        /// pack-objects during a fetch): its cost is inside the outer call's class in the world
        /// model, so replaying it too would count the load twice (GITALY_LOGS.md §3:
        /// "PackObjectsHookWithSidechannel ... server-internal, one per fetch"; the hooks run
        /// "during push").
        case internalCall
        /// No operation type is known (a method missing from the proto table and not logged
        /// with `grpc.meta.method_operation`), so the world cannot route it.
        case unclassified
    }

    /// Clone and fetch RPCs (GITALY_LOGS.md §3; the legacy non-sidechannel PostUploadPack too).
    static let uploadPack: Set<String> = ["PostUploadPackWithSidechannel", "SSHUploadPackWithSidechannel", "SSHUploadPack", "PostUploadPack"]
    /// Push RPCs (GITALY_LOGS.md §3).
    static let receivePack: Set<String> = ["PostReceivePack", "SSHReceivePack"]

    public static func classify(_ m: MethodName) -> Outcome {
        if m.service == "gitaly.HookService" { return .internalCall }
        if uploadPack.contains(m.method) { return .rpc(.uploadPack) }
        if receivePack.contains(m.method) { return .rpc(.receivePack) }
        switch m.operation {
        case .accessor: return .rpc(.read)
        case .mutator: return .rpc(.write)
        case .maintenance: return .rpc(.maintenance)
        case .unknown: return .unclassified
        }
    }
}
