import ArgumentParser
import Experiments
import Foundation
import GitalyModel
import Inventory
import LocalGit
import Migration
import Planner
import SimKernel
import SpecFiles

/// `rehearse calibrate local`: this machine's move costs, measured, as a fleet model.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure what moves cost and write a fleet model with the figures.",
        subcommands: [Local.self])

    struct Local: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "local",
            abstract: "Measure local-git moves between two storage folders and write a fleet model of this machine.",
            discussion: """
                Copies repositories made for the purpose from the first --storage to the second with \\
                the moves' own git commands (one at a time, then --concurrency at once), checksums and \\
                removes them, and writes a model: one node with this machine's cores holding the \\
                storages, a copy stream at the measured bytes per second, per-core copy rates from \\
                the copies at once, and the measured fixed costs. The folders are left as they were.
                """)

        @Option(name: .customLong("storage"), help: ArgumentHelp("A storage: NAME=DIR; give two, the copies go from the first to the second.", valueName: "name=dir"))
        var storages: [String] = []

        @Option(help: ArgumentHelp("Where to write the fleet model (YAML).", valueName: "file"))
        var out: String

        @Option(help: ArgumentHelp("Copies measured at once (the workers of the migrations to predict).", valueName: "n"))
        var concurrency: Int = 4

        @Option(help: ArgumentHelp("Repository sizes to measure, comma-separated (ASSUMED default: the range a local validation moves).", valueName: "sizes"))
        var sizes: String = "256KiB,1MiB,4MiB,16MiB,32MiB"

        func run() async throws {
            let storages = try parseStorages(self.storages)
            guard storages.count == 2 else { throw InputError("give two --storage NAME=DIR: copies go from the first to the second") }
            guard (1...64).contains(concurrency) else { throw InputError("--concurrency must be 1 to 64, got \(concurrency)") }
            for s in storages {
                var d: ObjCBool = false
                guard FileManager.default.fileExists(atPath: s.directory, isDirectory: &d), d.boolValue else { throw InputError("--storage \(s.name)=\(s.directory): no such folder") }
            }
            let sizes = try self.sizes.split(separator: ",").map { text -> Int in
                guard let b = Units.bytes(String(text)), b >= 1024, b <= 4_294_967_296 else { throw InputError("--sizes: \(text) is not a size from 1KiB to 4GiB") }
                return Int(b)
            }
            guard Set(sizes).count >= 2 else { throw InputError("--sizes: give at least two different sizes, to fit a rate and a fixed cost") }
            let c = try await Calibration.measure(source: storages[0].directory, destination: storages[1].directory, git: Git.committing(as: "rehearse calibrate"),
                                                  concurrency: concurrency, sizes: sizes) {
                FileHandle.standardError.write(Data("\($0)\n".utf8))
            }
            try AtomicFile.write(Data(Self.model(c, storages: storages.map(\.name)).utf8), to: out)
            print("wrote \(out): copy \(Units.formatRate(c.copyBytesPerSecond)) + \(fixed(c.copyOverheadSeconds * 1000, 1)) ms, \(concurrency) at once \(Units.formatRate(c.concurrentBytesPerSecond)), checksum \(fixed(c.checksumSeconds * 1000, 1)) ms, removal \(fixed(c.cleanupSeconds * 1000, 1)) ms, bookkeeping \(fixed(c.bookkeepingSeconds * 1000, 1)) ms")
        }

        /// The fleet model of this machine. Every figure is MEASURED by the calibration except
        /// where marked: a move's copy costs its fixed part (as the Sidekiq pickup, which comes
        /// before it) plus its bytes at the stream rate; copies at once share per-core rates.
        static func model(_ c: Calibration, storages: [String]) -> String {
            // Both ends of a copy are on this one node, so each copy takes two of its cores' users
            // (`World+Flows`: the packing and the indexing side each get min(1, c / 2k) of a core
            // among k copies): k copies together move R × min(k, c / 2) bytes per second.
            let perCore = c.concurrentBytesPerSecond / min(Double(c.concurrency), Double(c.cores) / 2)
            func rate(_ x: Double) -> String { "\(Int(x.rounded()))B/s" }
            func time(_ s: Double) -> String { "\(Int((s * 1e6).rounded()))us" }
            return """
            # Written by `rehearse calibrate local` (\(c.copies.count) copies one at a time, then \(c.concurrency) at once, of each size).
            # MEASURED copy: \(time(c.copyOverheadSeconds)) + bytes at \(rate(c.copyBytesPerSecond)) (least squares);
            #          \(c.concurrency) copies at once: \(rate(c.concurrentBytesPerSecond)) together on \(c.cores) cores;
            #          checksum \(time(c.checksumSeconds)) per side; source removal \(time(c.cleanupSeconds));
            #          the state's transactions of one move \(time(c.bookkeepingSeconds)), counted in the pickup.
            # ASSUMED disks and network far faster than the copies (the page cache); 1 TB per storage.
            # PUBLIC  push wait: 3 polls 10 s apart, as Rails and the local driver do.
            name: local-calibrated
            nodes:
              - name: local
                cpuCores: \(c.cores)
                disk: {readBandwidth: 100GB/s, writeBandwidth: 100GB/s}
                network: {bandwidth: 800Gbit/s}
                storages:
            \(storages.map { "      - {name: \($0), capacity: 1TB}" }.joined(separator: "\n"))
            gitlab:
              weights: {\(storages.enumerated().map { "\($0.element): \($0.offset == 0 ? 100 : 0)" }.joined(separator: ", "))}
              sidekiqConcurrency: \(c.concurrency)
              apiLatency: 1ms
              sidekiqPickup: \(time(c.copyOverheadSeconds + c.bookkeepingSeconds))
              moveStreamBandwidth: \(rate(c.copyBytesPerSecond))
              moveSourceRatePerCore: \(rate(perCore))
              moveDestinationRatePerCore: \(rate(perCore))
              checksumTime: \(time(c.checksumSeconds))
              checksumTimePerRef: 0s
              moveCleanupTime: \(time(c.cleanupSeconds))
              pushWaitPolls: 3
              pushWaitInterval: 10s

            """ + "\n"
        }
    }
}

/// `rehearse validate local`: one real drain against its prediction.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the simulator's prediction against a real migration.",
        subcommands: [Local.self])

    struct Local: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "local",
            abstract: "Drain real repositories with the local-git driver under pushes, and compare with the simulated driver's prediction on a calibrated model.",
            discussion: """
                Makes --repositories bare repositories on storage a under --work (heavy-tailed sizes, \\
                fork networks), plans a drain into b at --concurrency, runs it for real with the push \\
                workload, then runs the same plan on the model with the simulated driver and the same \\
                push rate. Prints `seed S measured_seconds M predicted_seconds P error_percent E`, then \\
                the blocked pushes side by side; exits 1 when the error is past --bar.
                """)

        @Option(help: ArgumentHelp("A folder to work in (its seed-S folder is made anew).", valueName: "dir"))
        var work: String

        @Option(help: ArgumentHelp("The calibrated fleet model, with storages a and b (`calibrate local`).", valueName: "file"))
        var model: String

        @Option(help: ArgumentHelp("Seed of the repositories, pushes and simulation.", valueName: "seed"))
        var seed: UInt64 = 1

        @Option(help: ArgumentHelp("Repositories to make and move.", valueName: "n"))
        var repositories: Int = 200

        @Option(help: ArgumentHelp("Moves at once (and workers).", valueName: "n"))
        var concurrency: Int = 4

        @Option(parsing: .unconditional, help: ArgumentHelp("Pushes per second during the drain.", valueName: "rate"))
        var pushRate: Double = 5

        @Option(parsing: .unconditional, help: ArgumentHelp("The largest error accepted, in percent.", valueName: "percent"))
        var bar: Double = 15

        func run() async throws {
            guard (10...10_000).contains(repositories) else { throw InputError("--repositories must be 10 to 10000, got \(repositories)") }
            guard (1...64).contains(concurrency) else { throw InputError("--concurrency must be 1 to 64, got \(concurrency)") }
            guard pushRate > 0, pushRate <= 100 else { throw InputError("--push-rate must be above 0 and at most 100, got \(pushRate)") }
            let spec: FleetSpec
            do { spec = try FleetSpec.load(path: model) } catch let e as SpecError { throw InputError(e.description) }
            let root = URL(fileURLWithPath: work).standardizedFileURL.appendingPathComponent("seed-\(seed)").path
            let files = FileManager.default
            try? files.removeItem(atPath: root)
            for s in ["a", "b"] { try files.createDirectory(atPath: "\(root)/\(s)", withIntermediateDirectories: true) }
            let say: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("validate: \($0)\n".utf8)) }
            let git = Git.committing(as: "rehearse validate")
            try await makeRepositories(in: "\(root)/a", git: git, say: say)
            let storages = [LocalGitLab.Storage(name: "a", directory: "\(root)/a"), LocalGitLab.Storage(name: "b", directory: "\(root)/b")]
            let found = try StorageScan.scan(storages)
            let gitlab = try LocalGitLab.create(path: "\(root)/gitlab.sqlite", storages: storages, repositories: found)
            let inventory = try scannedInventory(found, file: "\(root)/inventory.csv")
            try AtomicFile.write(Data(inventory.csv()), to: "\(root)/inventory.csv")
            let policyText = "drain: {from: [a], to: [b]}\nconcurrency: {perSource: \(concurrency), perDestination: \(concurrency), global: \(concurrency)}\n"
            let setup: MigrationSetup
            do {
                let fleet = try Fleet.build(spec)
                setup = try MigrationSetup(spec: spec, planFleet: PlanFleet(fleet), inventory: inventory, inventoryPath: "\(root)/inventory.csv",
                                           policy: try Policy.parse(policyText, file: "validate-policy.yaml"), planID: "validate-\(seed)")
            } catch let e as SpecError { throw InputError(e.description) } catch let e as PlanError { throw InputError(e.description) }
            var plan = setup.engineInput
            // ASSUMED for a local run: polls every 250 ms, so that the copies rather than the
            // polls set the pace, and retries after a second (doubling); the same in the real run
            // and its prediction.
            plan.pollInterval = EngineDuration(milliseconds: 250)
            plan.retry.backoffBase = .seconds(1)
            plan.retry.backoffCap = .seconds(30)

            say("seed \(seed): \(found.count) repositories, \(ByteText.decimal(Double(found.reduce(Int64(0)) { $0 + $1.sizeBytes }))); the real drain")
            var engine = try JournalledEngine(path: "\(root)/journal.sqlite", plan: plan)
            let driver = LocalGitDriver(gitlab: gitlab, git: git, workers: concurrency)
            let workload = PushWorkload(gitlab: gitlab, git: git, ratePerSecond: pushRate, seed: seed, scratch: "\(root)/scratch")
            let pushing = Task { try await workload.run(for: .seconds(86_400), ledger: "\(root)/ledger.csv") }
            let clock = ContinuousClock()
            let start = clock.now
            let ending = try await driver.run(&engine)
            let elapsed = clock.now - start
            pushing.cancel()
            let pushes = try await pushing.value
            guard ending == .finished(aborted: false), engine.engine.tally.done == found.count else {
                throw ClaimsFailed(description: "seed \(seed): the real drain did not finish: \(ending), \(engine.engine.tally)")
            }
            let lost = try await PushWorkload.missing(ledger: "\(root)/ledger.csv", in: gitlab, git: git)
            guard lost.isEmpty else { throw ClaimsFailed(description: "seed \(seed): \(lost.count) accepted pushes lost: \(lost.prefix(3))") }
            let measured = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18

            say("seed \(seed): the prediction")
            var run = try MigrationRun(fleet: setup.fleet, config: WorldConfig(seed: seed), plan: plan, repositoryIDs: setup.repositoryIDs)
            // ASSUMED 50 ms per push on the node: a local push of one small commit.
            var traffic: PushArrivals? = PushArrivals(ratePerSecond: pushRate, repositories: found.count, pushSeconds: 0.05, horizon: .hours(24), seed: seed)
            let outcome = try run.run(traffic: &traffic, horizon: .hours(24))
            guard let predicted = outcome.durationSeconds else { throw ClaimsFailed(description: "seed \(seed): the prediction did not finish within 24 h") }
            let error = (predicted - measured) / measured * 100
            print("seed \(seed) measured_seconds \(fixed(measured, 2)) predicted_seconds \(fixed(predicted, 2)) error_percent \(fixed(error, 1))")
            print("seed \(seed) pushes_blocked measured \(pushes.blocked) predicted \(outcome.report.outcomes[.readOnly] ?? 0) (accepted \(pushes.accepted), failed \(pushes.failed))")
            if abs(error) > bar { throw ClaimsFailed(description: "seed \(seed): the prediction is \(fixed(error, 1))% off, past the \(fixed(bar, 0))% bar") }
        }

        /// Heavy-tailed sizes (ASSUMED lognormal, median 1 MiB, σ 1.2, at most 48 MiB: a
        /// fleet's shape at a size that moves in a minute or two) and fork networks (ASSUMED: one
        /// repository in ten is a fork of an earlier one, holding its objects and one commit more).
        func makeRepositories(in dir: String, git: Git, say: (String) -> Void) async throws {
            var random = RandomStreams(seed: seed).stream("validate.repositories")
            let maker = SyntheticRepositories(git: git)
            var made: [String] = []
            for i in 1...repositories {
                let z = (-2 * log(random.nextOpenUnit())).squareRoot() * cos(2 * Double.pi * random.nextDouble())
                let bytes = Int(min(48 * 1_048_576, 1_048_576 * exp(1.2 * z)))
                let path = "\(dir)/@hashed/\(String(format: "%02x", i % 256))/\(i).git"
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                if !made.isEmpty && random.below(10) == 0 {
                    try await maker.fork(of: made[random.below(made.count)], at: path, bytes: bytes / 10, seed: seed &* 1_000_003 &+ UInt64(i))
                } else {
                    try await maker.make(at: path, bytes: bytes, seed: seed &* 1_000_003 &+ UInt64(i))
                    made.append(path)
                }
                if i % 50 == 0 { say("seed \(seed): \(i) of \(repositories) repositories made") }
            }
        }
    }
}
