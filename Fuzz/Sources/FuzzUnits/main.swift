import FuzzDriver
import SpecFiles

// Sizes, rates and durations as a model file writes them. Besides crashes, checks that a
// quantity that parses is finite: every caller converts it on (to Int64 bytes, to SimTime).
runFuzzer { data, size in
    let t = text(data, size)
    for parsed in [Units.bytes(t), Units.bytesPerSecond(t), Units.seconds(t)] {
        if let value = parsed { precondition(value.isFinite, "\"\(t)\" parsed to \(value)") }
    }
    return 0
}
