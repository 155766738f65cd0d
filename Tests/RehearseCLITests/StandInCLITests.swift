import Foundation
import Testing

/// `gitlab-standin` on bad flags and folders: one line naming the flag, exit code 2, and no
/// state file left behind.
@Suite struct StandInCLITests {
    @Test(arguments: [
        (["--port", "abc", "--storages", "a=/tmp"], "gitlab-standin: The value 'abc' is invalid for '--port <port>'"),
        (["--port", "70000", "--storages", "a=/tmp"], "gitlab-standin: --port must be 0 to 65535, got 70000"),
        (["--storages", "a"], "gitlab-standin: --storages a: expected NAME=DIR"),
        (["--storages", "=/tmp"], "gitlab-standin: --storages =/tmp: expected NAME=DIR"),
        (["--storages", ","], "gitlab-standin: --storages: give at least one NAME=DIR"),
        (["--storages", "a=/nonexistent-rehearse-folder"], "gitlab-standin: --storage a=/nonexistent-rehearse-folder: no such folder"),
        (["--storages", "a=/tmp", "--lost-schedule-answers", "2"], "gitlab-standin: --lost-schedule-answers must be a share from 0 to 1, got 2.0"),
        ([], "gitlab-standin: Missing expected argument '--storages <list>'"),
    ])
    func badInputGivesOneLineAndExitCode2(arguments: [String], message: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-standin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try rehearse(arguments + ["--state", "\(dir)/state.sqlite"], program: "gitlab-standin")
        #expect(r.status == 2, "\(r.err)")
        #expect(r.err == message + "\n")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/state.sqlite"))
    }
}
