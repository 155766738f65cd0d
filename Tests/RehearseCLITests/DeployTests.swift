import Foundation
import Testing
import Yams

/// The files of deploy/: no container engine or cluster runs here, so these tests check what can
/// be checked on one machine. Each manifest carries the fields its engine requires, and the
/// exact shell command it runs, given the index variables as the engine sets them, passes here
/// and merges into the single-machine sweep row for row. The GitLab CI file's check against
/// GitLab's own schema is `make check-deploy` (it needs check-jsonschema from PyPI).
@Suite struct DeployTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy").standardized
    let cli = ExperimentCLITests()

    /// A YAML file of deploy/ as nested dictionaries and arrays.
    static func load(_ relative: String) throws -> [String: Any] {
        let text = try String(contentsOf: deploy.appendingPathComponent(relative), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "\(relative) is not a YAML mapping")
    }

    /// Follows a path of keys and indices through a loaded YAML document.
    static func at(_ node: Any?, _ path: Any...) -> Any? {
        var node = node
        for step in path {
            if let key = step as? String { node = (node as? [String: Any])?[key] } else if let i = step as? Int { node = (node as? [Any]).flatMap { i < $0.count ? $0[i] : nil } }
        }
        return node
    }

    /// The two-point sweep with 6 replications each (12 pairs: 7 shards get 2 or 1), run once
    /// on one machine; returns the experiment and the rows its database holds.
    func sweepAndSingleRun() throws -> (experiment: String, rows: [String]) {
        let file = try cli.experiment("deploy", claims: ["P(data_loss) < 0.5 at 95%"])
        try (String(contentsOfFile: file, encoding: .utf8) + "\nsweep:\n  model.gitlab.apiErrorRate: [0.1, 0.4]\n").write(toFile: file, atomically: true, encoding: .utf8)
        let single = cli.dir.appendingPathComponent("single.sqlite").path
        let r = try rehearse(["sweep", file, "--db", single])
        #expect(r.status == 0, "\(r.err)")
        return (file, try ExperimentCLITests.rows(single))
    }

    /// Runs `command` with /bin/sh in `directory`, with `rehearse` first on PATH.
    func shell(_ command: String, in directory: URL, _ environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = rehearseExecutable().deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Goal: the Indexed Job has what Kubernetes requires of one, and its pods' command, run
    /// with JOB_COMPLETION_INDEX = 0 … completions − 1, writes shards the merge Job's command
    /// joins into the single-machine sweep. Method: read both Jobs and the volume claim; check
    /// the fields (batch/v1 Job, completionMode Indexed, completions ≥ 1, parallelism ≤
    /// completions, restartPolicy Never as backoffLimitPerIndex needs, SHARDS = completions,
    /// the claim both mount, mounted where RESULTS points); run each container's exact
    /// command with its env values, EXPERIMENT and RESULTS pointed at a temporary folder; run
    /// a finished index again (a retried pod: exit 0, nothing changed) and one whose earlier
    /// pod died part-way (a stale `.partial`: started afresh); compare the merged rows.
    @Test func kubernetesIndexedJobRunsTheShardsAndMergeJoinsThem() throws {
        let (experiment, expected) = try sweepAndSingleRun()
        let sweep = try Self.load("kubernetes/sweep-job.yaml"), merge = try Self.load("kubernetes/merge-job.yaml")
        let volume = try Self.load("kubernetes/results-volume.yaml")
        #expect(volume["apiVersion"] as? String == "v1" && volume["kind"] as? String == "PersistentVolumeClaim")
        #expect((Self.at(volume, "spec", "accessModes") as? [String]) == ["ReadWriteMany"], "shards write from many nodes at once")
        let claim = try #require(Self.at(volume, "metadata", "name") as? String)

        for job in [sweep, merge] {
            #expect(job["apiVersion"] as? String == "batch/v1" && job["kind"] as? String == "Job")
            #expect(Self.at(job, "spec", "template", "spec", "restartPolicy") as? String == "Never")
            #expect(Self.at(job, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName") as? String == claim)
            let container = try #require(Self.at(job, "spec", "template", "spec", "containers", 0) as? [String: Any])
            #expect(container["name"] is String && container["image"] is String && container["workingDir"] as? String == "/opt/rehearse")
            #expect(container["command"] as? [String] == ["/bin/sh", "-c"] && (container["args"] as? [String])?.count == 1)
        }
        #expect(Self.at(sweep, "spec", "completionMode") as? String == "Indexed")
        let completions = try #require(Self.at(sweep, "spec", "completions") as? Int)
        let parallelism = try #require(Self.at(sweep, "spec", "parallelism") as? Int)
        #expect(completions >= 1 && (1...completions).contains(parallelism))
        #expect(Self.at(sweep, "spec", "backoffLimitPerIndex") is Int)

        // The containers' env as the pod sees it, with the cluster's places swapped for ours.
        let results = cli.dir.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
        func env(_ job: [String: Any]) throws -> (command: String, values: [String: String]) {
            let container = try #require(Self.at(job, "spec", "template", "spec", "containers", 0) as? [String: Any])
            var values: [String: String] = [:]
            for entry in container["env"] as? [[String: Any]] ?? [] {
                let name = try #require(entry["name"] as? String)
                values[name] = entry["value"] as? String ?? "\(entry["value"] ?? "")"
            }
            #expect(values["RESULTS"] == Self.at(container, "volumeMounts", 0, "mountPath") as? String, "RESULTS is where the volume is mounted")
            values["RESULTS"] = results.path
            return (try #require((container["args"] as? [String])?.first), values)
        }
        var (shardCommand, shardEnv) = try env(sweep)
        #expect(shardEnv["SHARDS"] == String(completions), "SHARDS must equal spec.completions")
        #expect(FileManager.default.fileExists(atPath: Self.deploy.appendingPathComponent("..").appendingPathComponent(try #require(shardEnv["EXPERIMENT"])).path), "the image's experiment exists")
        shardEnv["EXPERIMENT"] = experiment
        shardEnv["THREADS"] = "1"   // the pod's limits.cpu (resourceFieldRef)
        shardCommand = shardCommand.trimmingCharacters(in: .whitespacesAndNewlines)

        try Data("a pod killed part-way".utf8).write(to: results.appendingPathComponent("shard-2.sqlite.partial"))
        for index in 0..<completions {
            let r = try shell(shardCommand, in: cli.dir, shardEnv.merging(["JOB_COMPLETION_INDEX": String(index)]) { $1 })
            #expect(r.status == 0, "index \(index): \(r.err)")
            #expect(r.out.contains("shard \(index + 1)/\(completions)"), "\(r.out)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: results.path).sorted()
        #expect(files == (1...completions).map { "shard-\($0).sqlite" }.sorted(), "no partial file is left: \(files)")
        let first = results.appendingPathComponent("shard-1.sqlite")
        let before = try Data(contentsOf: first)
        let again = try shell(shardCommand, in: cli.dir, shardEnv.merging(["JOB_COMPLETION_INDEX": "0"]) { $1 })
        #expect(again.status == 0 && again.out == "shard 1/\(completions) of deploy is already in \(first.path)\n", "\(again.out)\(again.err)")
        #expect(try Data(contentsOf: first) == before)

        let (mergeCommand, mergeEnv) = try env(merge)
        for attempt in 1...2 {   // a retried merge pod makes all.sqlite anew
            let m = try shell(mergeCommand, in: cli.dir, mergeEnv)
            #expect(m.status == 0, "merge attempt \(attempt): \(m.err)")
            #expect(try ExperimentCLITests.rows(results.appendingPathComponent("all.sqlite").path) == expected)
        }
        #expect(FileManager.default.fileExists(atPath: results.appendingPathComponent("report.html").path))
        #expect(!FileManager.default.fileExists(atPath: results.appendingPathComponent("all.sqlite.new").path))
    }

    /// Goal: the GitLab CI pipeline's sweep jobs, run as GitLab runs `parallel: N` (CI_NODE_INDEX
    /// 1 … N, CI_NODE_TOTAL N), and its merge job give the single-machine sweep. Method: read
    /// the file; check the stages and that each job's stage exists, `parallel` lies in GitLab's
    /// 2 … 200, the merge job needs the sweep job and keeps what it writes; run each sweep
    /// job's script lines in a job folder holding what the build job's artifact holds
    /// (`bin/rehearse`) with EXPERIMENT set to the small sweep, hand the shard artifacts to the
    /// merge job's folder, run its script and compare the rows.
    @Test func gitlabCIParallelJobsRunTheShardsAndTheMergeJobJoinsThem() throws {
        let (experiment, expected) = try sweepAndSingleRun()
        let pipeline = try Self.load("gitlab-ci/rehearse-sweep.gitlab-ci.yml")
        let stages = try #require(pipeline["stages"] as? [String])
        for (name, job) in pipeline where name.hasPrefix("rehearse:") {
            #expect(stages.contains(Self.at(job, "stage") as? String ?? ""), "\(name)'s stage is declared")
        }
        let build = try #require(pipeline["rehearse:build"] as? [String: Any])
        let sweep = try #require(pipeline["rehearse:sweep"] as? [String: Any])
        let merge = try #require(pipeline["rehearse:merge"] as? [String: Any])
        #expect(Self.at(build, "artifacts", "paths") as? [String] == ["bin/rehearse"])
        let n = try #require(sweep["parallel"] as? Int)
        #expect((2...200).contains(n), "GitLab's parallel: takes 2 to 200")
        #expect((sweep["needs"] as? [String]) == ["rehearse:build"] && (merge["needs"] as? [String])?.contains("rehearse:sweep") == true)
        #expect(Self.at(sweep, "artifacts", "paths") as? [String] == ["shard-*.sqlite"])
        #expect(Self.at(merge, "artifacts", "paths") as? [String] == ["all.sqlite", "report.html"])
        let variables = try #require(pipeline["variables"] as? [String: String])
        #expect(FileManager.default.fileExists(atPath: Self.deploy.appendingPathComponent("..").appendingPathComponent(try #require(variables["EXPERIMENT"])).path))

        /// A job's folder, as a runner lays it out: the build job's artifact in bin/.
        func jobFolder(_ name: String) throws -> URL {
            let folder = cli.dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("bin"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("bin/rehearse"), withDestinationURL: rehearseExecutable())
            return folder
        }
        let mergeFolder = try jobFolder("merge-job")
        let env = variables.merging(["EXPERIMENT": experiment]) { $1 }
        for index in 1...n {
            let folder = try jobFolder("sweep-job-\(index)")
            for line in try #require(sweep["script"] as? [String]) {
                let r = try shell(line, in: folder, env.merging(["CI_NODE_INDEX": String(index), "CI_NODE_TOTAL": String(n)]) { $1 })
                #expect(r.status == 0, "sweep \(index)/\(n): \(line): \(r.err)")
            }
            let artifact = "shard-\(index).sqlite"   // the shard-*.sqlite artifact
            try FileManager.default.copyItem(at: folder.appendingPathComponent(artifact), to: mergeFolder.appendingPathComponent(artifact))
        }
        for line in try #require(merge["script"] as? [String]) {
            let r = try shell(line, in: mergeFolder, env)
            #expect(r.status == 0, "merge: \(line): \(r.err)")
        }
        #expect(try ExperimentCLITests.rows(mergeFolder.appendingPathComponent("all.sqlite").path) == expected)
        #expect(FileManager.default.fileExists(atPath: mergeFolder.appendingPathComponent("report.html").path))
    }
}
