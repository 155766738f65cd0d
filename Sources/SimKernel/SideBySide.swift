import Dispatch
import Synchronization

/// Two independent pieces of work at once: one on this thread, the other on another, each
/// result (or error) handed back for the caller to tell in the order they used to run in. The
/// set-up of a GitLab.com-size run (the inventory's draws, the plan beside the fleet, the
/// engine beside the world) takes both cores instead of one. Neither piece may read what the
/// other makes, and each draws from its own random streams, so the results are those of
/// running them in turn.
public enum SideBySide {
    public static func run<A, B: Sendable>(_ here: () throws -> A, beside: @escaping @Sendable () throws -> B) -> (Result<A, any Error>, Result<B, any Error>) {
        let besideResult = Mutex<Result<B, any Error>?>(nil)
        let done = DispatchGroup()
        DispatchQueue.global().async(group: done) {
            let r = Result { try beside() }
            besideResult.withLock { $0 = r }
        }
        let hereResult = Result { try here() }
        done.wait()
        return (hereResult, besideResult.withLock { $0! })
    }
}
