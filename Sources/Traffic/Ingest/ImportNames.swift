#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Interns byte strings to dense ids 0, 1, 2, … in first-seen order: an open-addressing table
/// over one byte arena, so that finding a name already seen costs a hash of its bytes and one
/// comparison, and allocates nothing.
///
/// Why: an import used to decode every name of every line into a `String` and look it up in a
/// string-keyed dictionary; those allocations, their reference counting and Swift's seeded
/// string hashing were about a fifth of the import's time (issue 4). A log names a few hundred
/// storages, methods and clients and some thousands of repositories, over millions of lines.
struct ByteInterner {
    /// A slot of the open-addressing table: a name's hash kept beside its id, so that a probe
    /// that meets another name is rejected without reading that name's entry.
    struct Slot {
        var hash: UInt64
        /// -1 for an empty slot.
        var id: Int32
    }

    private var slots = [Slot](repeating: Slot(hash: 0, id: -1), count: 256)
    private var used = 0
    /// Entry i's bytes are `arena[offsets[i]..<offsets[i + 1]]`.
    private var offsets: [Int] = [0]
    private var arena: [UInt8] = []

    var count: Int { used }

    /// The id of `key`, and whether it was added by this call.
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> (id: Int32, added: Bool) {
        let h = UInt64(bitPattern: LineHash.of(buffer: key))
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots[i]
            if slot.id < 0 { break }
            if slot.hash == h && matches(Int(slot.id), key) { return (slot.id, false) }
            i = (i + 1) & mask
        }
        let id = Int32(used)
        used += 1
        arena.append(contentsOf: key)
        offsets.append(arena.count)
        slots[i] = Slot(hash: h, id: id)
        // At most half full, so that a probe ends after a step or two.
        if used * 2 > slots.count { grow() }
        return (id, true)
    }

    private func matches(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = offsets[id], end = offsets[id + 1]
        guard end - start == key.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            key.isEmpty || memcmp(a.baseAddress! + start, key.baseAddress!, key.count) == 0
        }
    }

    private mutating func grow() {
        var bigger = [Slot](repeating: Slot(hash: 0, id: -1), count: slots.count * 2)
        let mask = bigger.count - 1
        for slot in slots where slot.id >= 0 {
            var i = Int(truncatingIfNeeded: slot.hash) & mask
            while bigger[i].id >= 0 { i = (i + 1) & mask }
            bigger[i] = slot
        }
        slots = bigger
    }
}

/// One stored call as the reader thread hands it to the writer: integers only, names as the
/// reader's local ids (`ImportNames`), so that the writer binds it without touching a string.
struct ImportRow {
    var hash: Int64
    var arrivalNs: Int64
    var durationNs: Int64
    var requestBytes: Int64?
    var responseBytes: Int64?
    var packBytes: Int64?
    var cpuTimeMs: Double?
    var method: Int32
    /// Local ids, -1 for none.
    var storage: Int32
    var repository: Int32
    var client: Int32
    var code: Int32
    var routeNode: Int32
    /// Index into the batch's `secondaries`, -1 for none.
    var secondaries: Int32
    var operation: OperationType
}

/// The names one input's lines use, interned by the reader thread to local ids (per input, in
/// first-seen order); each name first seen is queued in `added` for the writer, which maps local
/// ids to the store's ids. Two spellings of one name (an escape in one line, none in another)
/// may get two local ids; the writer maps both to the same stored row, since it keys its own
/// tables by the decoded name.
struct ImportNames {
    /// A name first seen, with what the writer needs to find or insert its row.
    enum Added: Sendable {
        case method(service: String, name: String)
        case storage(String)
        case repository(storage: Int32, path: String, project: String?, glRepository: String?)
        case client(String)
        case code(String)
    }

    var methods = ByteInterner()
    var storages = ByteInterner()
    var repositories = ByteInterner()
    var clients = ByteInterner()
    var codes = ByteInterner()
    /// The proto table's op type of each local method (`OperationType.of(method:)`), looked up
    /// once per method rather than once per line.
    var methodOperations: [OperationType] = []
    var added: [Added] = []
    /// Reused buffer for keys made of two parts.
    var scratch: [UInt8] = []

    /// The row of an access line, interning its names. Tables are filled in the order the
    /// single-threaded importer used (method, storage, the empty storage of a repository without
    /// one, repository, client, code, route node), so the store's ids come out the same.
    mutating func row(_ a: AccessLine, line b: UnsafeBufferPointer<UInt8>, hash: Int64, secondaries: inout [String]) -> ImportRow {
        let method = methodId(service: a.service, method: a.method, b)
        let storage = a.storage.map { single($0, b, .storage) } ?? -1
        var repository: Int32 = -1
        if let path = a.repositoryPath {
            // A repository is named by its storage and relative path; one without a storage
            // (never seen in Gitaly's logs, possible in CSV) goes to the empty storage name.
            let sid = storage >= 0 ? storage : single(.text(""), b, .storage)
            repository = repositoryId(storage: sid, path: path, a, b)
        }
        let client = a.client.map { single($0, b, .client) } ?? -1
        let code = single(a.code, b, .code)
        let routeNode = a.routeNode.map { single(.text($0), b, .storage) } ?? -1
        var secondary: Int32 = -1
        if let s = a.routeSecondaries {
            secondary = Int32(secondaries.count)
            secondaries.append(s)
        }
        return ImportRow(
            hash: hash, arrivalNs: a.arrivalNs, durationNs: a.durationNs, requestBytes: a.requestBytes,
            responseBytes: a.responseBytes, packBytes: a.packBytes, cpuTimeMs: a.cpuTimeMs, method: method,
            storage: storage, repository: repository, client: client, code: code, routeNode: routeNode,
            secondaries: secondary, operation: a.loggedOperation ?? methodOperations[Int(method)])
    }

    /// The row of a record built elsewhere (a CSV line, a generator), through the same tables.
    mutating func row(_ r: RPCRecord, hash: Int64, secondaries: inout [String]) -> ImportRow {
        let access = AccessLine(
            arrivalNs: r.arrivalNs, durationNs: r.durationNs, service: .text(r.service), method: .text(r.method),
            loggedOperation: r.operation, storage: r.storage.map { .text($0) },
            repositoryPath: r.repositoryPath.map { .text($0) }, projectPath: r.projectPath.map { .text($0) },
            glRepository: r.glRepository.map { .text($0) }, client: r.client.map { .text($0) }, code: .text(r.code),
            requestBytes: r.requestBytes, responseBytes: r.responseBytes, packBytes: r.packBytes,
            cpuTimeMs: r.cpuTimeMs, routeNode: r.routeNode, routeSecondaries: r.routeSecondaries)
        return [UInt8]().withUnsafeBufferPointer { row(access, line: $0, hash: hash, secondaries: &secondaries) }
    }

    /// Hands over the names added since the last call.
    mutating func takeAdded() -> [Added] {
        var out: [Added] = []
        swap(&out, &added)
        return out
    }

    /// The tables of names that are keyed by themselves alone.
    enum SingleKind {
        case storage, client, code
    }

    mutating func single(_ ref: NameRef, _ b: UnsafeBufferPointer<UInt8>, _ kind: SingleKind) -> Int32 {
        let (id, text) = ref.withBytes(b) { bytes -> (Int32, String?) in
            let (id, isNew): (Int32, Bool)
            switch kind {
            case .storage: (id, isNew) = storages.intern(bytes)
            case .client: (id, isNew) = clients.intern(bytes)
            case .code: (id, isNew) = codes.intern(bytes)
            }
            return (id, isNew ? String(decoding: bytes, as: UTF8.self) : nil)
        }
        if let text {
            switch kind {
            case .storage: added.append(.storage(text))
            case .client: added.append(.client(text))
            case .code: added.append(.code(text))
            }
        }
        return id
    }

    /// Methods are keyed by service and name together: the key is the service's length (four
    /// bytes), its bytes and the method's bytes, which no other pair of names can spell.
    mutating func methodId(service: NameRef, method: NameRef, _ b: UnsafeBufferPointer<UInt8>) -> Int32 {
        scratch.removeAll(keepingCapacity: true)
        service.withBytes(b) { s in
            withUnsafeBytes(of: UInt32(s.count).littleEndian) { scratch.append(contentsOf: $0) }
            scratch.append(contentsOf: s)
        }
        method.withBytes(b) { scratch.append(contentsOf: $0) }
        let (id, isNew) = scratch.withUnsafeBufferPointer { methods.intern($0) }
        if isNew {
            let name = method.string(b)
            added.append(.method(service: service.string(b), name: name))
            methodOperations.append(OperationType.of(method: name))
        }
        return id
    }

    /// Repositories are keyed by their storage's local id (four bytes) and their path.
    mutating func repositoryId(storage: Int32, path: NameRef, _ a: AccessLine, _ b: UnsafeBufferPointer<UInt8>) -> Int32 {
        scratch.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: storage.littleEndian) { scratch.append(contentsOf: $0) }
        path.withBytes(b) { scratch.append(contentsOf: $0) }
        let (id, isNew) = scratch.withUnsafeBufferPointer { repositories.intern($0) }
        if isNew {
            added.append(.repository(storage: storage, path: path.string(b), project: a.projectPath?.string(b),
                                     glRepository: a.glRepository?.string(b)))
        }
        return id
    }
}

extension NameRef {
    /// Calls `body` with the name's bytes: the line's own when it holds no escape, else the
    /// decoded text's.
    func withBytes<R>(_ b: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch self {
        case .plain(let s, let e):
            return body(UnsafeBufferPointer(rebasing: b[s..<e]))
        case .escaped, .text:
            var text = string(b)
            return text.withUTF8(body)
        }
    }
}
