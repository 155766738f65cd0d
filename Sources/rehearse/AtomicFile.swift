import Foundation

/// Writing an output file whole or not at all: the bytes go to a temporary file beside the
/// target, which is then renamed over it (rename is atomic on one filesystem), so a failure
/// leaves no half-written file behind.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temp)
            if rename(temp.path, url.path) != 0 { throw InputError("\(path): cannot write the file: \(String(cString: strerror(errno)))") }
        } catch let e as InputError {
            try? FileManager.default.removeItem(at: temp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw InputError("\(path): cannot write the file: \(error.localizedDescription)")
        }
    }
}
