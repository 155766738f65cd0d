import Foundation
import SpecFiles

/// `plan.json`: sorted keys, the plan's own order for lists, so that the same plan always
/// encodes to the same bytes. Decoding checks the schema version before anything else.
extension Plan {
    /// The plan as `plan.json` (PlanJSONWriter: sorted keys, the plan's order, newline at the end).
    public func jsonData() -> Data {
        var writer = PlanJSONWriter()
        writer.out.reserveCapacity(256 + totals.moves * 240)
        writer.plan(self)
        return Data(writer.out)
    }

    private struct Version: Decodable { var schemaVersion: Int? }

    /// Reads a plan; `file` names it in errors. An unknown schema version is refused whole.
    public static func decode(_ data: Data, file: String) throws -> Plan {
        let decoder = JSONDecoder()
        let version: Version
        do { version = try decoder.decode(Version.self, from: data) } catch {
            throw SpecError(file: file, line: nil, field: "", message: "not a plan: the file is not a JSON object")
        }
        guard let v = version.schemaVersion else {
            throw SpecError(file: file, line: nil, field: "schemaVersion", message: "missing; this is not a plan written by rehearse plan")
        }
        guard v == currentSchemaVersion else {
            throw SpecError(file: file, line: nil, field: "schemaVersion", message: "unknown plan schema version \(v); this rehearse reads version \(currentSchemaVersion)")
        }
        do { return try decoder.decode(Plan.self, from: data) } catch let DecodingError.keyNotFound(key, context) {
            throw SpecError(file: file, line: nil, field: Self.path(context.codingPath + [key]), message: "missing required field")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context), let DecodingError.dataCorrupted(context) {
            throw SpecError(file: file, line: nil, field: Self.path(context.codingPath), message: context.debugDescription)
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.reduce("") { p, k in
            if let i = k.intValue { return "\(p)[\(i)]" }
            return p.isEmpty ? k.stringValue : "\(p).\(k.stringValue)"
        }
    }
}
