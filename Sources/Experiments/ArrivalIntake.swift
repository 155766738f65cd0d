import GitalyModel
import SimKernel
import Traffic

/// How a traffic arrival enters the world, for every loop that feeds one (`TrafficRun`,
/// `MigrationRun`): its method classified onto the world's RPC classes, its recorded cost
/// mapped (`TrafficRun.recordedCost`), and every arrival either submitted or counted under the
/// reason it was left out.
struct ArrivalIntake {
    var classes: [RPCClassifier.Outcome] = []
    var submitted = 0
    var internalCalls = 0
    var unclassified = 0
    var withoutRepository = 0

    /// Submits `a` to the world at its time (the caller has run the world up to it), or counts
    /// why it was left out. Returns whether it was submitted.
    @discardableResult
    mutating func take(_ a: Arrival, methods: [MethodName], into simulation: inout Simulation<World>) -> Bool {
        // A source may grow its method table as it reads; classify the newcomers.
        while classes.count < methods.count { classes.append(RPCClassifier.classify(methods[classes.count])) }
        let m = Int(a.method)
        switch m < classes.count ? classes[m] : .unclassified {
        case .internalCall:
            internalCalls += 1
        case .unclassified:
            unclassified += 1
        case .rpc(let rpcClass):
            guard a.repository >= 0, Int(a.repository) < simulation.model.repositories.count else {
                withoutRepository += 1
                return false
            }
            // Traffic names repositories by place (`World.place(of:)`).
            World.submit(&simulation, place: Int(a.repository), rpcClass: rpcClass, at: a.time, cost: TrafficRun.recordedCost(a.cost, rpcClass))
            submitted += 1
            return true
        }
        return false
    }
}
