import SimKernel

/// What one call cost the node that served it, as its log line recorded it (`grpc.time_ms`,
/// `command.cpu_time_ms`, payload and pack bytes; GITALY_LOGS.md). A nil field was not logged;
/// the call's class model stands in for it.
public struct RecordedCost: Sendable, Equatable {
    public var durationSeconds: Double?
    public var cpuSeconds: Double?
    public var bytesRead: Double?
    public var bytesWritten: Double?
    public init(durationSeconds: Double? = nil, cpuSeconds: Double? = nil, bytesRead: Double? = nil, bytesWritten: Double? = nil) {
        self.durationSeconds = durationSeconds
        self.cpuSeconds = cpuSeconds
        self.bytesRead = bytesRead
        self.bytesWritten = bytesWritten
    }
}

/// Per-call costs: replayed calls and replication work carry a slot of `World.serviceCosts`
/// in the RPC, so events stay 16 bytes. Slots are reused once the call has its answer.
extension World {
    mutating func allocateCost(_ c: RecordedCost) -> Int32 {
        if let slot = freeCostSlots.popLast() {
            serviceCosts[Int(slot)] = c
            return slot
        }
        serviceCosts.append(c)
        return Int32(serviceCosts.count - 1)
    }

    mutating func freeCost(_ slot: Int32) {
        guard slot >= 0 else { return }
        freeCostSlots.append(slot)
    }

    /// A call's service seconds from its record. With its CPU time logged: that CPU plus its
    /// bytes at the node's current disk bandwidth (bytes from the record where logged, else the
    /// class's). Without CPU but with a duration: the handler's duration stands for the whole
    /// service, as the real node did it (it includes waits for disk and git). With neither: the
    /// class model.
    mutating func recordedServiceSeconds(_ c: RecordedCost, _ rpcClass: RPCClass, node n: Int) -> Double {
        let p = profiles[rpcClass.index]
        let f = nodes[n].slowdownFactor
        let io = { (recorded: Double?, model: Double, bandwidth: Double) -> Double in
            let bytes = recorded ?? model
            return bytes > 0 ? bytes / max(1, bandwidth * f) : 0
        }
        if let cpu = c.cpuSeconds {
            return cpu * cpuStretch(node: n) + io(c.bytesRead, p.bytesRead, diskReadBytesPerSecond[n]) + io(c.bytesWritten, p.bytesWritten, diskWriteBytesPerSecond[n])
        }
        if let d = c.durationSeconds { return d }
        return serviceRandom.exponential(rate: cpuRate[rpcClass.index]) * cpuStretch(node: n)
            + io(c.bytesRead, p.bytesRead, diskReadBytesPerSecond[n]) + io(c.bytesWritten, p.bytesWritten, diskWriteBytesPerSecond[n])
    }
}
