import SpecFiles

/// The JSON form of an inventory: `{"repositories": [{...}, ...]}`, each object with the CSV's
/// field names (`fork_root` null or absent for none). Read through `YAMLCursor` (JSON is YAML's
/// flow syntax) so errors name line and field and unknown fields are rejected like in every
/// other input file. Meant for hand-written and small inventories; CSV is the format for a
/// million rows.
extension Inventory {
    public static func parseJSON(_ text: String, file: String, knownStorages: [String]? = nil) throws -> Inventory {
        let doc = try YAMLCursor.document(text, file: file)
        let top = try doc.mapping(allowed: ["repositories"])
        let rows = try top.required("repositories").list()
        var builder = InventoryBuilder(file: file, knownStorages: knownStorages)
        builder.reserve(rows.count)
        for c in rows {
            let m = try c.mapping(allowed: csvFields)
            func field(_ name: String) throws -> YAMLCursor { try m.required(name) }
            func whole(_ name: String) throws -> Int64 {
                let c = try field(name)
                let s = try c.scalarText()
                guard let v = Int64(s) else { throw c.error("expected a whole number, got \"\(s)\"") }
                return v
            }
            let kindCursor = try field("kind")
            let kindText = try kindCursor.scalarText()
            guard let kind = RepositoryKind(name: kindText) else {
                throw kindCursor.error("expected one of \(RepositoryKind.allCases.map(\.name).joined(separator: ", ")), got \"\(kindText)\"")
            }
            var root: RepositoryID?
            if let r = m["fork_root"], try r.scalarText() != "null", try !r.scalarText().isEmpty {
                root = RepositoryID(try whole("fork_root"))
            }
            let e = InventoryEntry(
                id: RepositoryID(try whole("id")), path: try field("path").scalarText(), kind: kind,
                storage: try field("storage").scalarText(), sizeBytes: try whole("size_bytes"), forkRoot: root,
                readsPerDay: try m.get("reads_per_day", 0) { try $0.double() },
                writesPerDay: try m.get("writes_per_day", 0) { try $0.double() })
            do {
                try builder.add(e, line: c.line)
            } catch var error as SpecError {
                // The builder names the CSV column; here the field path includes the row.
                error.field = "\(c.path).\(error.field)"
                if let f = m[error.field.split(separator: ".").last.map(String.init) ?? ""] { error.line = f.line }
                throw error
            }
        }
        do {
            return try builder.finish()
        } catch var error as SpecError {
            if let line = error.line, let i = rows.firstIndex(where: { $0.line == line }) {
                error.field = "\(rows[i].path).\(error.field)"
            }
            throw error
        }
    }

    /// The inventory as JSON, one repository per line, keys sorted; `parseJSON` reads it back.
    public func json() -> String {
        var out = "{\"repositories\": [\n"
        out.reserveCapacity(count * 180)
        for row in 0..<count {
            let root = forkRootRow(row).map { String(ids[$0].rawValue) } ?? "null"
            out += "{\"fork_root\": \(root), \"id\": \(ids[row].rawValue), \"kind\": \"\(kinds[row].name)\", "
            out += "\"path\": \(jsonString(path(row))), \"reads_per_day\": \(Self.rate(readsPerDay[row])), "
            out += "\"size_bytes\": \(sizeBytes[row]), \"storage\": \(jsonString(storageName(row))), "
            out += "\"writes_per_day\": \(Self.rate(writesPerDay[row]))}"
            out += row + 1 < count ? ",\n" : "\n"
        }
        out += "]}\n"
        return out
    }

}
