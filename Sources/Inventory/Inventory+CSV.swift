import SpecFiles

/// The CSV form of an inventory: one header line, exactly
/// `id,path,kind,storage,size_bytes,fork_root,reads_per_day,writes_per_day`, then one row per
/// repository; an empty `fork_root` means no network. Fields may be quoted with `"` (a path with
/// a comma); a doubled `""` inside quotes is one quote, as in RFC 4180.
extension Inventory {
    public static let csvHeader = "id,path,kind,storage,size_bytes,fork_root,reads_per_day,writes_per_day"
    static let csvFields = csvHeader.split(separator: ",").map(String.init)

    /// Reads CSV text; `file` names it in errors, `knownStorages` (a fleet's storages) makes a
    /// row on any other storage an error.
    public static func parseCSV(_ bytes: [UInt8], file: String, knownStorages: [String]? = nil) throws -> Inventory {
        var builder = InventoryBuilder(file: file, knownStorages: knownStorages)
        builder.reserve(bytes.count / 64)
        var lineNumber = 0
        var start = 0
        var sawHeader = false
        var fields: [String] = []
        fields.reserveCapacity(8)
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > start, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { start = end + 1 }
            if lineEnd == start { continue }  // blank lines, e.g. a trailing newline
            try splitCSV(bytes[start..<lineEnd], into: &fields, file: file, line: lineNumber)
            if !sawHeader {
                guard fields == csvFields else {
                    throw SpecError(file: file, line: lineNumber, field: "header", message: "expected the header \"\(csvHeader)\", got \"\(fields.joined(separator: ","))\"")
                }
                sawHeader = true
                continue
            }
            guard fields.count == csvFields.count else {
                throw SpecError(file: file, line: lineNumber, field: "", message: "expected \(csvFields.count) fields, got \(fields.count)")
            }
            try builder.add(entry(fields, file: file, line: lineNumber), line: lineNumber)
        }
        guard sawHeader else {
            throw SpecError(file: file, line: 1, field: "header", message: "the file is empty; expected the header \"\(csvHeader)\"")
        }
        return try builder.finish()
    }

    static func entry(_ f: [String], file: String, line: Int) throws -> InventoryEntry {
        func fail(_ field: String, _ message: String) -> SpecError {
            SpecError(file: file, line: line, field: field, message: message)
        }
        guard let id = Int64(f[0]) else { throw fail("id", "expected a whole number, got \"\(f[0])\"") }
        guard let kind = RepositoryKind(name: f[2]) else {
            throw fail("kind", "expected one of \(RepositoryKind.allCases.map(\.name).joined(separator: ", ")), got \"\(f[2])\"")
        }
        guard let size = Int64(f[4]) else { throw fail("size_bytes", "expected a whole number of bytes, got \"\(f[4])\"") }
        var root: RepositoryID?
        if !f[5].isEmpty {
            guard let r = Int64(f[5]) else { throw fail("fork_root", "expected a repository id or nothing, got \"\(f[5])\"") }
            root = RepositoryID(r)
        }
        guard let reads = Double(f[6]) else { throw fail("reads_per_day", "expected a number, got \"\(f[6])\"") }
        guard let writes = Double(f[7]) else { throw fail("writes_per_day", "expected a number, got \"\(f[7])\"") }
        return InventoryEntry(id: RepositoryID(id), path: f[1], kind: kind, storage: f[3], sizeBytes: size,
                              forkRoot: root, readsPerDay: reads, writesPerDay: writes)
    }

    static func splitCSV(_ line: ArraySlice<UInt8>, into fields: inout [String], file: String, line number: Int) throws {
        fields.removeAll(keepingCapacity: true)
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        var i = line.startIndex
        while true {
            if i < line.endIndex, line[i] == quote {
                var value: [UInt8] = []
                i += 1
                while true {
                    guard i < line.endIndex else {
                        throw SpecError(file: file, line: number, field: csvFields[min(fields.count, csvFields.count - 1)], message: "a quoted field is not closed")
                    }
                    if line[i] == quote {
                        if i + 1 < line.endIndex, line[i + 1] == quote { value.append(quote); i += 2; continue }
                        i += 1
                        break
                    }
                    value.append(line[i])
                    i += 1
                }
                fields.append(String(decoding: value, as: UTF8.self))
            } else {
                var j = i
                while j < line.endIndex, line[j] != comma { j += 1 }
                fields.append(String(decoding: line[i..<j], as: UTF8.self))
                i = j
            }
            if i >= line.endIndex { return }
            guard line[i] == comma else {
                throw SpecError(file: file, line: number, field: csvFields[min(fields.count - 1, csvFields.count - 1)], message: "unexpected text after a quoted field")
            }
            i += 1
            if i == line.endIndex { fields.append(""); return }
        }
    }

    /// The inventory as CSV, rows in inventory order; `parseCSV` reads it back unchanged.
    public func csv() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * 72 + 80)
        out.append(contentsOf: Self.csvHeader.utf8)
        out.append(UInt8(ascii: "\n"))
        for row in 0..<count {
            func put(_ s: String) { out.append(contentsOf: s.utf8) }
            func comma() { out.append(UInt8(ascii: ",")) }
            put(String(ids[row].rawValue)); comma()
            putCSVField(path(row), into: &out); comma()
            put(kinds[row].name); comma()
            putCSVField(storageName(row), into: &out); comma()
            put(String(sizeBytes[row])); comma()
            if let r = forkRootRow(row) { put(String(ids[r].rawValue)) }
            comma()
            put(Self.rate(readsPerDay[row])); comma()
            put(Self.rate(writesPerDay[row]))
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// The shortest text that reads back as the same Double ("3" for 3.0).
    static func rate(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }

    private func putCSVField(_ s: String, into out: inout [UInt8]) {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            out.append(contentsOf: s.utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }
}
