import Foundation
import Testing

/// `rehearse migrate` end to end: plan, run against the simulated fleet, print the documented
/// `--json`; bad flags as one line and exit code 2.
@Suite struct MigrateCLITests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-migrate-cli-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    func model(_ name: String) -> String { root.appendingPathComponent("models/\(name)").path }

    /// Goal: one command plans a drain, runs it and reports what the issue asks for.
    /// Method: a hand-written inventory of three repositories on nfs-file01 of the sharded fleet
    /// and the minimal policy; every move finishes, the bytes moved are the inventory's, nothing
    /// is lost or left read-only, and the same seed prints the same JSON apart from wall time.
    @Test func drainPrintsTheDocumentedJSON() throws {
        let inv = dir.appendingPathComponent("three.csv").path
        try """
            id,path,kind,storage,size_bytes,fork_root,reads_per_day,writes_per_day
            1,g/a,project,nfs-file01,1000000000,,10,1
            2,g/b,project,nfs-file01,2000000000,,10,1
            3,g/c,project,nfs-file01,500000000,,10,1

            """.write(toFile: inv, atomically: true, encoding: .utf8)
        let args = ["migrate", "--model", model("sharded-vms.yaml"), "--inventory", inv, "--policy", model("policies/minimal.yaml"), "--seed", "3", "--json"]
        let r = try rehearse(args)
        #expect(r.status == 0, "\(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        for key in ["duration_seconds", "moves_finished", "moves_failed", "bytes_moved", "write_unavailable_repository_seconds",
                    "max_read_only_seconds", "acknowledged_writes", "lost_writes", "repositories_left_read_only", "phases",
                    "seed", "events", "wall_seconds"] {
            #expect(object[key] != nil, "\(key) missing from \(r.out)")
        }
        #expect(object["moves_finished"] as? Int == 3)
        #expect(object["bytes_moved"] as? Int == 3_500_000_000)
        #expect(object["lost_writes"] as? Int == 0)
        #expect(object["repositories_left_read_only"] as? Int == 0)
        #expect(object["seed"] as? Int == 3)
        // Three moves each read-only for at least its copy at the 27.21 MiB/s stream cap.
        let readOnly = try #require(object["max_read_only_seconds"] as? Double)
        #expect(readOnly >= 2_000_000_000 / (27.21 * 1_048_576))
        let again = try rehearse(args)
        func withoutWall(_ s: String) -> String { s.replacingOccurrences(of: #","wall_seconds":[0-9.e+-]+"#, with: "", options: .regularExpression) }
        #expect(withoutWall(again.out) == withoutWall(r.out))
    }

    /// Bad flags and files: one line naming what is wrong, exit code 2, nothing printed on stdout.
    @Test(arguments: [
        (["migrate", "--model", "m.yaml", "--inventory", "i.csv", "--policy", "p.yaml", "--profile", "t.yaml"],
         "rehearse: --hours is required with --profile: synthetic traffic needs a length\n"),
        (["migrate", "--model", "m.yaml", "--inventory", "i.csv", "--policy", "p.yaml", "--db", "t.sqlite", "--profile", "t.yaml", "--hours", "1"],
         "rehearse: give at most one of --db (a trace) or --profile (synthetic traffic)\n"),
        (["migrate", "status", "--journal", "/nonexistent/drain.journal"],
         "rehearse: /nonexistent/drain.journal: no such journal\n"),
    ])
    func badInputIsOneLineAndExitCode2(args: [String], message: String) throws {
        let r = try rehearse(args)
        #expect(r.status == 2)
        #expect(r.err == message)
        #expect(r.out.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/drain.journal"))
    }

    @Test func anUnknownDriverIsOneLineAndExitCode2() throws {
        let r = try rehearse(["migrate", "--driver", "gitaly", "--model", model("sharded-vms.yaml"), "--inventory", "x.csv", "--policy", "p.yaml"])
        #expect(r.status == 2)
        #expect(r.err == "rehearse: --driver gitaly: use simulated, local-git or gitlab\n")
        #expect(r.out.isEmpty)
    }
}
