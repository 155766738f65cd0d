import Foundation

/// Reading a whole input file as text, with a reason a person can act on: Foundation's own
/// errors read "The file couldn't be opened. (NSCocoaErrorDomain error 256.)" for a directory,
/// a missing file and a permission problem alike.
public enum TextFile {
    /// ASSUMED bound: models and profiles are kilobytes; a file past this is not one.
    public static let maxBytes = 64 << 20

    /// The file's text; a `SpecError` naming the file and why it cannot be read otherwise.
    public static func read(path: String) throws -> String {
        func fail(_ reason: String) -> SpecError { SpecError(file: path, line: nil, field: "", message: "cannot read the file: \(reason)") }
        var st = stat()
        guard stat(path, &st) == 0 else { throw fail(String(cString: strerror(errno)).lowercased()) }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw fail("it is a directory") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw fail("it is not a regular file") }
        guard st.st_size <= maxBytes else { throw fail("it is \(st.st_size) bytes, more than the \(maxBytes >> 20) MiB an input file may have") }
        guard access(path, R_OK) == 0 else { throw fail(String(cString: strerror(errno)).lowercased()) }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("reading it failed") }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("it is not UTF-8 text") }
        return text
    }

    /// Writes `text` to a temporary file beside `path` and renames it over `path`, so that a
    /// failed write leaves no half-written file; a `SpecError` naming the file and why otherwise.
    public static func write(_ text: String, to path: String) throws {
        func fail(_ reason: String) -> SpecError { SpecError(file: path, line: nil, field: "", message: "cannot write the file: \(reason)") }
        let temporary = path + ".partial-\(getpid())"
        guard let f = fopen(temporary, "w") else { throw fail(String(cString: strerror(errno)).lowercased()) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f) == 0
        guard written == bytes.count, closed else {
            let reason = String(cString: strerror(errno)).lowercased()
            unlink(temporary)
            throw fail(reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno)).lowercased()
            unlink(temporary)
            throw fail(reason)
        }
    }
}
