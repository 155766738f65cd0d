import Foundation
import Testing

/// `rehearse inventory` and `rehearse plan` end to end: files in, files out, and bad input as
/// one line naming file, line and field, exit code 2, nothing written.
@Suite struct PlanCLITests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-plan-cli-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func model(_ name: String) -> String { root.appendingPathComponent("models/\(name)").path }

    @Test func generateStatsPlanAndExplainRunEndToEnd() throws {
        let inv = path("gen.csv"), plan = path("plan.json")
        let g = try rehearse(["inventory", "generate", "--model", model("vms-and-pods.yaml"), "--repositories", "2000", "--seed", "4", "--out", inv])
        #expect(g.status == 0 && g.err.isEmpty)
        let s = try rehearse(["inventory", "stats", inv])
        #expect(s.status == 0 && s.out.hasPrefix("2000 repositories"))
        let p = try rehearse(["plan", "--inventory", inv, "--model", model("vms-and-pods.yaml"), "--policy", model("policies/vm-to-k8s.yaml"), "--out", plan])
        #expect(p.status == 0, "\(p.err)")
        #expect(p.out.hasPrefix("wrote \(plan): 2000 moves"))
        let first = try Data(contentsOf: URL(fileURLWithPath: plan))
        // The same inputs write the same bytes.
        _ = try rehearse(["plan", "--inventory", inv, "--model", model("vms-and-pods.yaml"), "--policy", model("policies/vm-to-k8s.yaml"), "--out", plan])
        #expect(try Data(contentsOf: URL(fileURLWithPath: plan)) == first)
        let e = try rehearse(["plan", "explain", "--plan", plan, "1"])
        #expect(e.status == 0 && e.out.hasPrefix("repository 1 (group-0/project-1, project,"))
    }

    @Test func aNegativeSizeStopsThePlanWithItsLineAndWritesNothing() throws {
        let inv = path("bad.csv"), plan = path("never.json")
        try "id,path,kind,storage,size_bytes,fork_root,reads_per_day,writes_per_day\n1,a,project,nfs-file01,5,,0,0\n2,b,project,nfs-file01,-7,,0,0\n"
            .write(toFile: inv, atomically: true, encoding: .utf8)
        let r = try rehearse(["plan", "--inventory", inv, "--model", model("sharded-vms.yaml"), "--policy", model("policies/minimal.yaml"), "--out", plan])
        #expect(r.status == 2)
        #expect(r.err == "rehearse: \(inv):3: size_bytes: a size is at least 0 bytes, got -7\n")
        #expect(!FileManager.default.fileExists(atPath: plan))
    }

    @Test func anInfeasiblePolicyFailsWithTheFigures() throws {
        let inv = path("big.csv"), policy = path("tight.yaml"), plan = path("none.json")
        try "id,path,kind,storage,size_bytes,fork_root,reads_per_day,writes_per_day\n1,a,project,nfs-file01,9000000000000,,0,0\n"
            .write(toFile: inv, atomically: true, encoding: .utf8)
        try "drain: {from: [nfs-file01], to: [nfs-file02]}\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let r = try rehearse(["plan", "--inventory", inv, "--model", model("sharded-vms.yaml"), "--policy", policy, "--out", plan])
        // nfs-file02: 16 TB at 75% = 12 TB, 10 TB used: 2 TB of room for 9 TB.
        #expect(r.status == 2)
        #expect(r.err == "rehearse: infeasible plan: phase drain: destinations lack 7.0 TB at a 75% fill limit (its moves need 9.0 TB; nfs-file02 have 2.0 TB below the limit)\n")
        #expect(!FileManager.default.fileExists(atPath: plan))
    }
}
