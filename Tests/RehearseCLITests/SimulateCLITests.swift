import Foundation
import Testing

@Suite struct SimulateCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    @Test(arguments: [
        (["--model", "m.yaml"], "rehearse: give exactly one of --db (a trace) or --profile (synthetic traffic)\n"),
        (["--model", "m.yaml", "--db", "a", "--profile", "b"], "rehearse: give exactly one of --db (a trace) or --profile (synthetic traffic)\n"),
        (["--model", "m.yaml", "--profile", "p.yaml"], "rehearse: --hours is required with --profile: synthetic traffic needs a length\n"),
        (["--model", "m.yaml", "--db", "t.sqlite", "--rate", "0"], "rehearse: --rate must be a positive number, got 0.0\n"),
    ])
    func badFlagsGiveOneLineAndExitCode2(args: [String], message: String) throws {
        let r = try rehearse(["simulate"] + args)
        #expect(r.status == 2)
        #expect(r.err == message)
    }

    @Test func missingModelFileIsNamed() throws {
        let r = try rehearse(["simulate", "--model", "/nonexistent/fleet.yaml", "--db", "/nonexistent/t.sqlite"])
        #expect(r.status == 2)
        #expect(r.err.hasPrefix("rehearse: /nonexistent/fleet.yaml: "))
    }

    @Test func missingTraceDatabaseIsNamed() throws {
        let r = try rehearse(["simulate", "--model", Self.root + "/models/gitaly-cluster-3.yaml", "--db", "/nonexistent/t.sqlite"])
        #expect(r.status == 2)
        #expect(r.err.contains("/nonexistent/t.sqlite"))
    }

    @Test func profileRunPrintsTheDocumentedJSON() throws {
        let r = try rehearse(["simulate", "--model", Self.root + "/models/gitaly-cluster-3.yaml",
                              "--profile", Self.root + "/models/traffic/reference-10k-users.yaml", "--hours", "0.002", "--seed", "4", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let o = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        for key in ["seed", "submitted", "completed", "apdex", "acknowledged_writes", "lost_writes", "unavailable_repositories",
                    "write_unavailable_repository_seconds", "events"] {
            #expect(o?[key] != nil, "missing \(key)")
        }
        #expect(o?["seed"] as? Int == 4)
        #expect((o?["submitted"] as? Int ?? 0) > 0)
    }
}
