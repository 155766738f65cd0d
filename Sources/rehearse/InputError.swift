import Foundation

/// A problem with what the user gave us (a flag, a file, a line in a file), reported as one
/// sentence: what is wrong, where, and what was expected. The command line exits with code 2.
struct InputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
