import Foundation
import SimKernel

/// Bare repositories made to measure, for calibration and validation: each holds one commit
/// of `bytes` random (incompressible) bytes on `main`, and a fork holds its root's objects
/// plus a commit of its own, as a fork network's members share history. Seeded: the same seed
/// gives the same contents.
public struct SyntheticRepositories: Sendable {
    public var git: Git

    public init(git: Git) { self.git = git }

    /// A new repository at `path` with `bytes` bytes of random content drawn from `seed`.
    public func make(at path: String, bytes: Int, seed: UInt64) async throws {
        try await git.run(["init", "--bare", "--quiet", "--initial-branch=main", path])
        try await commit(in: path, bytes: bytes, seed: seed, parent: nil)
    }

    /// A fork of `root` at `path`: its objects copied, then `bytes` of its own on top.
    public func fork(of root: String, at path: String, bytes: Int, seed: UInt64) async throws {
        try await git.run(["clone", "--bare", "--no-local", "--quiet", root, path])
        let head = try await git.run(["--git-dir", path, "rev-parse", "HEAD"]).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        try await commit(in: path, bytes: bytes, seed: seed, parent: head)
    }

    func commit(in path: String, bytes: Int, seed: UInt64, parent: String?) async throws {
        var random = RandomStreams(seed: seed).stream("synthetic.repository")
        var data = Data(capacity: bytes + 8)
        while data.count < bytes { withUnsafeBytes(of: random.next()) { data.append(contentsOf: $0) } }
        data.count = bytes
        let file = path + ".blob"
        try data.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let blob = try await git.run(["--git-dir", path, "hash-object", "-w", file]).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let tree = try await git.run(["--git-dir", path, "mktree"], input: "100644 blob \(blob)\tdata-\(seed)\n").standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try await git.run(["--git-dir", path, "commit-tree", tree, "-m", "content \(seed)"] + (parent.map { ["-p", $0] } ?? []))
            .standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        try await git.run(["--git-dir", path, "update-ref", "refs/heads/main", commit])
    }
}
