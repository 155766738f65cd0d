import Testing
import SimKernel
@testable import GitalyModel

func move(_ states: [MoveEvent]) throws -> (RepositoryStorageMove, [[MoveSideEffect]]) {
    var m = RepositoryStorageMove(id: 1, repository: 1, sourceStorage: 0, destinationStorage: 1)
    var effects: [[MoveSideEffect]] = []
    for e in states { effects.append(try m.apply(e)) }
    return (m, effects)
}

@Test func moveStateValuesMatchGitLab() {
    // gitlab `repository_storage_movable.rb` state values, written out by hand.
    #expect(MoveState.allCases.map(\.rawValue) == [1, 2, 3, 4, 5, 6, 7])
    #expect(MoveState(rawValue: 6) == .replicated && MoveState(rawValue: 7) == .cleanupFailed)
}

@Test func successfulMoveGoesReadOnlyThenWritableOnTheDestination() throws {
    let (m, effects) = try move([.schedule, .start, .finishReplication, .finishCleanup])
    #expect(m.state == .finished)
    #expect(effects == [[.setReadOnly, .enqueueWorker], [], [.setWritable, .switchToDestination], []])
}

@Test func failureBeforeStartLeavesTheRepositoryReadOnly() throws {
    let (m, effects) = try move([.schedule, .fail])
    #expect(m.state == .failed)
    #expect(effects.last == [], "no setWritable: gitlab#385309")
    let (initial, _) = try move([.fail])
    #expect(initial.state == .failed)
}

@Test func failureAfterStartMakesTheRepositoryWritable() throws {
    let (m, effects) = try move([.schedule, .start, .fail])
    #expect(m.state == .failed && effects.last == [.setWritable])
}

@Test func failureAfterReplicationIsCleanupFailed() throws {
    let (m, effects) = try move([.schedule, .start, .finishReplication, .fail])
    #expect(m.state == .cleanupFailed && effects.last == [])
}

@Test func invalidTransitionsAreRefused() {
    var m = RepositoryStorageMove(id: 1, repository: 1, sourceStorage: 0, destinationStorage: 1)
    #expect(throws: MoveTransitionError.invalid(from: .initial, event: .start)) { try m.apply(.start) }
    #expect(throws: MoveTransitionError.containerReadOnly) { try m.apply(.schedule, containerReadOnly: true) }
    var done = try! move([.schedule, .start, .finishReplication, .finishCleanup]).0
    for e in [MoveEvent.schedule, .start, .finishReplication, .finishCleanup, .fail] {
        #expect(throws: MoveTransitionError.invalid(from: .finished, event: e)) { try done.apply(e) }
    }
}

/// Goal: the weighted pick gives storage i with probability wᵢ/Σw. Method: chi-square over
/// 40,000 picks with weights 0, 10, 30, 60; the 0.999 quantile of χ²(2) is 13.82.
@Test func weightedPickFollowsWeights() {
    var random = RandomStreams(seed: 11).stream("weights")
    let weights = [0, 10, 30, 60]
    var counts = [0, 0, 0, 0]
    let n = 40_000
    for _ in 0..<n { counts[StorageWeights.pick(weights, random: &random)] += 1 }
    #expect(counts[0] == 0)
    let chi2 = (1...3).map { i -> Double in
        let e = Double(n) * Double(weights[i]) / 100
        return (Double(counts[i]) - e) * (Double(counts[i]) - e) / e
    }.reduce(0, +)
    #expect(chi2 < 13.82, "counts \(counts)")
    // Rails' max_by over keys that are all 0 keeps the first storage.
    #expect(StorageWeights.pick([0, 0, 0], random: &random) == 0)
    #expect(StorageWeights.pick([0, 0, 7], random: &random) == 2)
}
