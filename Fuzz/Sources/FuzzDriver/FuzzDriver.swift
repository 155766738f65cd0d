import CFuzzer
#if canImport(Glibc)
import Glibc
#endif

/// One fuzz input as libFuzzer hands it over.
public typealias FuzzInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// The body `runFuzzer` was given, for the entry point below.
nonisolated(unsafe) private var registeredBody: FuzzInput?

/// libFuzzer's own `main` (linked whole with -sanitize=fuzzer, though SwiftPM's `main` wins)
/// refers to this symbol, so it must exist; it forwards to the registered body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    registeredBody?(data, size) ?? 0
}

/// Runs libFuzzer with the process's arguments on `body` and exits with its status.
public func runFuzzer(_ body: FuzzInput) -> Never {
    registeredBody = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, body))
}

/// The input's bytes (an empty input may come as a null pointer).
public func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
}

/// The input as text, invalid UTF-8 repaired as a file reader would.
public func text(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    String(decoding: bytes(data, size), as: UTF8.self)
}
