import SimKernel

/// How long repositories stay read-only: a move holds its repository read-only from `schedule`
/// to `finish_replication` or its failure, and a failure before `started` leaves it read-only
/// until an operator clears it (gitlab#385309; PRAEFECT.md §8). Only the read-only flag counts
/// here; the write-unavailable repository-seconds of the report also count a missing primary.
public struct ReadOnlyClock: Sendable, Equatable {
    /// Per repository read-only now: the instant it became read-only.
    var since: [Int: SimTime] = [:]
    /// The longest read-only stretch that has ended.
    var endedSecondsMax = 0.0

    /// The repository's flag becomes `readOnly` at `now`.
    mutating func set(_ r: Int, readOnly: Bool, at now: SimTime) {
        if readOnly {
            if since[r] == nil { since[r] = now }
        } else if let start = since.removeValue(forKey: r) {
            endedSecondsMax = max(endedSecondsMax, (now - start).seconds)
        }
    }

    /// The instant `r` became read-only, or nil when it is writable.
    public func readOnlySince(_ r: Int) -> SimTime? { since[r] }

    /// The longest read-only stretch of any repository up to `now`, counting the ones still
    /// read-only as ending now. O(repositories read-only now).
    public func readOnlySecondsMax(at now: SimTime) -> Double {
        since.values.reduce(endedSecondsMax) { max($0, (now - $1).seconds) }
    }

    /// The repositories read-only now, by index.
    public var repositoriesReadOnly: [Int] { since.keys.sorted() }
}

extension World {
    /// The repositories left read-only: read-only now with no move under way that will set them
    /// writable again. A move that failed before `started` leaves its repository so until an
    /// operator (or the engine) clears it (gitlab#385309). A repository whose move is still
    /// in flight when a run ends is not left read-only: its move ends it. O(read-only + moves
    /// under way).
    public var repositoriesLeftReadOnly: [Int] {
        var held = Set<Int>()
        for m in activeMoves where !moves[m].state.isTerminal { held.insert(moves[m].repository) }
        return readOnlyClock.repositoriesReadOnly.filter { !held.contains($0) }
    }

    /// Sets a repository's read-only flag and times how long it stays set; the caller
    /// re-evaluates whether the repository takes writes (`refreshAvailability`).
    mutating func setReadOnly(_ r: Int, _ flag: Bool, _ now: SimTime) {
        readOnly[r] = flag
        readOnlyClock.set(r, readOnly: flag, at: now)
    }
}
