import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a trace input could not be read. Every case names the input; the line is the last one
/// completely read before the failure (0 when none was).
public enum TraceInputError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, line: Int, reason: String)
    /// The gzip stream ended before its trailer: the file was cut short (a copy in progress, a
    /// full disk while rotating).
    case truncatedGzip(path: String, line: Int)
    case corruptGzip(path: String, line: Int, reason: String)
    case lineTooLong(path: String, line: Int, limitBytes: Int)
    /// The first line looks like a CSV header (commas, no braces) but is not a valid one.
    case badCSVHeader(path: String, line: Int, reason: String)
    /// A malformed line in a strict import (`ImportOptions.strict`); `line` is 1-based.
    case malformedLine(path: String, line: Int, reason: String)
    /// More than `ImportOptions.maxMalformedShare` of the lines read were malformed.
    case tooManyMalformed(malformed: Int, lines: Int, limit: Double, first: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open: \(reason)"
        case .readFailed(let path, let line, let reason): "\(path):\(line + 1): read failed: \(reason)"
        case .truncatedGzip(let path, let line): "\(path):\(line + 1): gzip stream is truncated (the file ends before the gzip trailer, after \(line) complete lines)"
        case .corruptGzip(let path, let line, let reason): "\(path):\(line + 1): gzip data is corrupt: \(reason)"
        case .lineTooLong(let path, let line, let limitBytes): "\(path):\(line + 1): line is longer than \(limitBytes) bytes"
        case .badCSVHeader(let path, let line, let reason): "\(path):\(line): not a CSV trace header: \(reason)"
        case .malformedLine(let path, let line, let reason): "\(path):\(line): malformed line: \(reason)"
        case .tooManyMalformed(let malformed, let lines, let limit, let first):
            "\(malformed) of \(lines) lines are malformed, more than the \(Self.percent(limit)) allowed; the first: \(first)"

        }
    }

    /// A share as a percentage with up to two decimals: 0.05 → "5%".
    static func percent(_ share: Double) -> String {
        let p = (share * 10_000).rounded() / 100
        return p == p.rounded() ? "\(Int(p))%" : "\(p)%"
    }
}

/// Reads a file (or standard input) line by line in bounded memory, inflating gzip when the
/// first two bytes are gzip's magic number (1f 8b, RFC 1952 §2.3.1) whatever the file is called.
///
/// Lines are handed out as byte buffers valid only during the callback; a trailing `\r` is
/// removed. A last line without a newline is still a line.
public struct LineReader {
    public let path: String
    /// Bound on one line, so that a file with no newline cannot exhaust memory.
    public static let maxLineBytes = 16 << 20
    static let chunkBytes = 1 << 20

    public init(path: String) { self.path = path }

    /// Calls `body` with each line and its 1-based number; returns the number of lines.
    @discardableResult
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws -> Int {
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw TraceInputError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
            var st = stat()
            if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw TraceInputError.cannotOpen(path: path, reason: "it is a directory")
            }
        }
        defer { if fd != 0 { close(fd) } }
        var source = RawSource(fd: fd, path: path)
        var splitter = LineSplitter(path: path)
        var inflater: GzipInflater?
        defer { inflater?.end() }
        var firstChunk = true
        while true {
            // The first chunk holds at least the two magic bytes unless the input is shorter: a
            // pipe may deliver a single byte first.
            let n = try source.fill(atLeast: firstChunk ? 2 : 1)
            if firstChunk {
                firstChunk = false
                if n >= 2 && source.buffer[0] == 0x1f && source.buffer[1] == 0x8b { inflater = try GzipInflater(path: path) }
            }
            if n == 0 {
                if let inflater, !inflater.finished { throw TraceInputError.truncatedGzip(path: path, line: splitter.lines) }
                break
            }
            try source.buffer.withUnsafeBufferPointer { b in
                let chunk = UnsafeBufferPointer(rebasing: b[0..<n])
                if inflater != nil {
                    try inflater!.feed(chunk, lines: splitter.lines) { try splitter.append($0, body) }
                } else {
                    try splitter.append(chunk, body)
                }
            }
        }
        try splitter.finish(body)
        return splitter.lines
    }

    /// Reads of one file descriptor into one reused buffer.
    struct RawSource {
        let fd: Int32
        let path: String
        var lines = 0
        var buffer = [UInt8](repeating: 0, count: LineReader.chunkBytes)

        init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
        }

        /// Reads until `minimum` bytes are in `buffer` or the input ends; returns the count.
        mutating func fill(atLeast minimum: Int) throws -> Int {
            var total = 0
            while total < minimum {
                let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + total, $0.count - total) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TraceInputError.readFailed(path: path, line: lines, reason: String(cString: strerror(errno)))
                }
                if n == 0 { break }
                total += n
            }
            return total
        }
    }

    /// Cuts a byte stream into lines, carrying a partial line across chunks.
    struct LineSplitter {
        let path: String
        var carry: [UInt8] = []
        var lines = 0

        mutating func append(_ chunk: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
            guard let base = chunk.baseAddress else { return }
            var start = 0
            while start < chunk.count {
                guard let nl = memchr(base + start, 0x0A, chunk.count - start) else {
                    carry.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start...]))
                    if carry.count > LineReader.maxLineBytes {
                        throw TraceInputError.lineTooLong(path: path, line: lines, limitBytes: LineReader.maxLineBytes)
                    }
                    return
                }
                let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                if carry.isEmpty {
                    try emit(UnsafeBufferPointer(rebasing: chunk[start..<end]), body)
                } else {
                    carry.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<end]))
                    let line = carry
                    carry.removeAll(keepingCapacity: true)
                    try line.withUnsafeBufferPointer { try emit($0, body) }
                }
                start = end + 1
            }
        }

        mutating func emit(_ line: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
            lines += 1
            var n = line.count
            if n > 0 && line[n - 1] == 0x0D { n -= 1 }
            try body(UnsafeBufferPointer(rebasing: line[0..<n]), lines)
        }

        mutating func finish(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
            guard !carry.isEmpty else { return }
            let line = carry
            carry.removeAll()
            try line.withUnsafeBufferPointer { try emit($0, body) }
        }
    }
}

/// zlib's inflate set up for gzip (window bits 15 + 16, zlib manual `inflateInit2`), restarted at
/// each member boundary because `cat a.gz b.gz` and logrotate's appends make multi-member files
/// (RFC 1952 §2.2).
struct GzipInflater {
    let path: String
    /// zlib keeps a pointer back to its `z_stream` and refuses a moved one (`inflateStateCheck`),
    /// so the stream lives at a fixed heap address rather than inside this struct.
    let stream: UnsafeMutablePointer<z_stream>
    /// True when the last member ended exactly at its trailer and no input is pending.
    var finished = false
    var output = [UInt8](repeating: 0, count: 1 << 18)

    init(path: String) throws {
        self.path = path
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deallocate()
            throw TraceInputError.corruptGzip(path: path, line: 0, reason: "inflateInit2 failed with code \(rc)")
        }
    }

    mutating func end() {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// One call of `inflate` into the output buffer; hands what it produced to `sink`.
    mutating func step(_ sink: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> (Int32, Int) {
        let (rc, produced) = output.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
            stream.pointee.next_out = out.baseAddress
            stream.pointee.avail_out = UInt32(out.count)
            let rc = inflate(stream, Z_NO_FLUSH)
            return (rc, out.count - Int(stream.pointee.avail_out))
        }
        if produced > 0 { try output.withUnsafeBufferPointer { try sink(UnsafeBufferPointer(rebasing: $0[0..<produced])) } }
        return (rc, produced)
    }

    /// Inflates `input` completely, handing each block of output to `sink`. An empty input
    /// inflates nothing.
    mutating func feed(_ input: UnsafeBufferPointer<UInt8>, lines: @autoclosure () -> Int, _ sink: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        // zlib reads through next_in but never writes it (zlib.h: "next input byte").
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
        stream.pointee.avail_in = UInt32(input.count)
        while stream.pointee.avail_in > 0 {
            if finished {
                // Another member follows the one that ended.
                inflateReset(stream)
                finished = false
            }
            let (rc, produced) = try step(sink)
            switch rc {
            case Z_OK:
                continue
            case Z_BUF_ERROR where produced > 0:
                continue
            case Z_STREAM_END:
                finished = true
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib code \(rc)"
                throw TraceInputError.corruptGzip(path: path, line: lines(), reason: message)
            }
        }
        // Output may still be pending with all input consumed; drain it.
        while !finished {
            let (rc, produced) = try step(sink)
            if rc == Z_STREAM_END { finished = true; break }
            if rc == Z_BUF_ERROR || produced == 0 { break }
            if rc != Z_OK {
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib code \(rc)"
                throw TraceInputError.corruptGzip(path: path, line: lines(), reason: message)
            }
        }
        stream.pointee.next_in = nil
    }
}

/// `read(2)`, named apart from the method of the same name.
@inline(__always) func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
