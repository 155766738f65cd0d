import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs git as a child process (swift-subprocess, never a shell), with a timeout: past it the
/// process gets SIGTERM, then SIGKILL two seconds later. Git reads no system or global
/// configuration and never prompts, so a run does not depend on who runs it.
public struct Git: Sendable {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var arguments: [String]
        public var reason: String
        public var description: String { "git \(arguments.joined(separator: " ")): \(reason)" }
    }

    public struct Output: Sendable {
        public var standardOutput: String
        public var standardError: String
    }

    /// The default timeout of one git command. ASSUMED 6 h, Rails' long Gitaly timeout that
    /// `ReplicateRepository` runs with (gitlab `gitaly_client.rb`), so a copy is never cut
    /// shorter than GitLab would cut it.
    public static let defaultTimeout: Duration = .seconds(6 * 3600)
    /// Output kept from one command; a larger one fails the command.
    static let outputLimit = 256 << 20

    public var executable: String
    public var environment: [String: String]

    public init(executable: String = "git", environment: [String: String] = [:]) {
        self.executable = executable
        self.environment = environment
    }

    /// Git that commits as `name` (the commits Rehearse makes itself: calibration,
    /// validation, the push workload), whatever the machine's configuration says.
    public static func committing(as name: String) -> Git {
        let email = name.replacingOccurrences(of: " ", with: "-") + "@rehearse.invalid"
        return Git(environment: ["GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email])
    }

    /// Runs `git ARGUMENTS` in `directory`; fails unless git exits 0.
    @discardableResult
    public func run(_ arguments: [String], in directory: String? = nil, input: String? = nil, timeout: Duration = Git.defaultTimeout) async throws -> Output {
        var env: [Environment.Key: String?] = ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"]
        for (k, v) in environment { env[Environment.Key(stringLiteral: k)] = v }
        let executable = self.executable, environment = env
        let result: Output? = try await withThrowingTaskGroup(of: Output?.self) { group in
            group.addTask {
                var options = PlatformOptions()
                options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
                let r = try await Subprocess.run(
                    .name(executable), arguments: Arguments(arguments), environment: .inherit.updating(environment),
                    workingDirectory: directory.map { FilePath($0) }, platformOptions: options,
                    input: .string(input ?? ""), output: .string(limit: Git.outputLimit), error: .string(limit: 1 << 16))
                guard case .exited(0) = r.terminationStatus else {
                    let detail = r.standardError.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
                    throw Failure(arguments: arguments, reason: "\(r.terminationStatus)" + (detail.isEmpty ? "" : ": \(detail)"))
                }
                return Output(standardOutput: r.standardOutput, standardError: r.standardError)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        guard let result else { throw Failure(arguments: arguments, reason: "timed out after \(timeout)") }
        return result
    }

    /// Gitaly's `CalculateChecksum` of the bare repository at `path` (`RepositoryChecksum`).
    /// `show-ref` exits 1 when there is no reference: the checksum of an empty repository.
    public func checksum(of path: String) async throws -> RepositoryChecksum {
        do {
            let out = try await run(["--git-dir", path, "show-ref", "--head"])
            return RepositoryChecksum(showRef: out.standardOutput)
        } catch let f as Failure where f.reason.hasPrefix("exited(1)") {
            _ = try await run(["--git-dir", path, "rev-parse", "--is-bare-repository"])
            return RepositoryChecksum()
        }
    }

    /// Whether `path` is a bare git repository.
    public func isBareRepository(_ path: String) async -> Bool {
        guard let out = try? await run(["--git-dir", path, "rev-parse", "--is-bare-repository"], timeout: .seconds(60)) else { return false }
        return out.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "true"
    }
}
