@testable import Traffic

/// Every column in the order `TraceCSV.header` writes them.
nonisolated(unsafe) let defaultHeader: TraceCSV.Header = {
    var h = Array(TraceCSV.header.utf8)
    return h.withUnsafeMutableBufferPointer { TraceCSV.Header(line: UnsafeBufferPointer($0))! }
}()
