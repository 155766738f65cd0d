// The CSV line parser is internal to Traffic (the importer is its only public door, and it
// needs a store), hence @testable: the fuzz build is a debug build, which enables testing.
import FuzzDriver
@testable import Traffic

// A CSV trace: the first line is tried as a header (every column in `TraceCSV.header`'s order
// when it is not one), every further line is parsed against it, as the importer does.
runFuzzer { data, size in
    let lines = bytes(data, size).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    let first = lines.first.map { UnsafeBufferPointer(rebasing: $0) }
    let header = first.flatMap { TraceCSV.Header(line: $0) } ?? defaultHeader
    for line in lines.dropFirst() { _ = header.parse(line: UnsafeBufferPointer(rebasing: line)) }
    return 0
}
