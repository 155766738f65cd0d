// swift-tools-version:6.0
// Rehearse: a deterministic simulation and capacity-planning testbed for Gitaly fleets.
// Modules follow ../shared/ARCHITECTURE.md; arrows point one way:
// CGSL, CZlib ← SimKernel ← Stochastics ← GitalyModel / Traffic / Inventory ← Experiments, Bench ← rehearse;
// Inventory ← Planner (pure: no GitalyModel type crosses into it) ← rehearse;
// Migration ← SimulatedDriver (the world), LocalGit (real git), GitLabAPI (a GitLab) ← rehearse: one engine, three drivers;
// LocalGit, GitLabAPI ← GitLabStandIn (a GitLab API over local storages, for tests) ← gitlab-standin;
// SpecFiles (input files) sits below every module that reads one.
import PackageDescription

let package = Package(
    name: "Rehearse",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rehearse", targets: ["rehearse"]),
        .library(name: "SimKernel", targets: ["SimKernel"]),
        .library(name: "Stochastics", targets: ["Stochastics"]),
        .library(name: "SpecFiles", targets: ["SpecFiles"]),
        .library(name: "GitalyModel", targets: ["GitalyModel"]),
        .library(name: "Traffic", targets: ["Traffic"]),
        .library(name: "Migration", targets: ["Migration"]),
        .library(name: "Report", targets: ["Report"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // GitLab's REST API: the client (the gitlab driver) and, for tests, a server standing in for it.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // GSL through the system library (Debian: libgsl-dev); a C shim keeps Swift 6 away
        // from GSL's global mutable state (its error handler).
        .systemLibrary(name: "CGSL", path: "Sources/CGSL", providers: [.apt(["libgsl-dev"])]),
        .target(name: "SimKernel", dependencies: ["CGSL"], exclude: ["README.md"]),
        .target(name: "Stochastics", dependencies: ["CGSL", "SimKernel"], exclude: ["README.md"]),
        // Reading input files (YAML with file:line:field errors, human units), shared by every
        // module that reads a model, a policy or an experiment.
        .target(name: "SpecFiles", dependencies: [.product(name: "Yams", package: "Yams")], exclude: ["README.md"]),
        .target(name: "GitalyModel", dependencies: ["SimKernel", "SpecFiles", .product(name: "Yams", package: "Yams")], exclude: ["README.md"]),
        // zlib through the system library (Debian: zlib1g-dev), for gzip-compressed trace input.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "Traffic",
            dependencies: [
                "SimKernel", "Stochastics", "SpecFiles", "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md"]),
        // Repositories to migrate (CSV/JSON, generated heavy-tailed inventories) and the pure
        // planner that turns inventory + fleet + policy into a plan.
        .target(name: "Inventory", dependencies: ["SimKernel", "Stochastics", "SpecFiles"], exclude: ["README.md"]),
        .target(name: "Planner", dependencies: ["Inventory", "SpecFiles"], exclude: ["README.md"]),
        // The sans-IO migration engine and its journal: knows nothing of the simulator.
        .target(name: "Migration", dependencies: [.product(name: "GRDB", package: "GRDB.swift")], exclude: ["README.md"]),
        // The HTML report: plain value types in, one self-contained HTML file out (Foundation only).
        .target(name: "Report", exclude: ["README.md"]),
        // The engine's driver inside the simulator: engine actions onto the world's admin door.
        .target(name: "SimulatedDriver", dependencies: ["Migration", "GitalyModel", "SimKernel"], exclude: ["README.md"]),
        .target(name: "Experiments", dependencies: ["SimKernel", "Stochastics", "SpecFiles", "GitalyModel", "Traffic", "Inventory", "Planner", "Migration", "SimulatedDriver", "Report", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams")], exclude: ["README.md"]),
        // The engine's driver for real git: bare repositories in storage folders, GitLab's
        // metadata and move state machine in SQLite, git run through swift-subprocess.
        .target(name: "LocalGit", dependencies: ["Migration", "SimKernel", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Subprocess", package: "swift-subprocess")], exclude: ["README.md"]),
        // The engine's driver for a real GitLab: its REST API through async-http-client.
        .target(name: "GitLabAPI", dependencies: [
            "Migration",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], exclude: ["README.md"]),
        // A GitLab API stand-in for tests and for other clients: GitLab's routes, JSON and faults
        // over a local GitLab state whose moves real git carries out.
        .target(name: "GitLabStandIn", dependencies: [
            "GitLabAPI", "LocalGit", "Migration", "SimKernel",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], exclude: ["README.md"]),
        .executableTarget(name: "gitlab-standin", dependencies: [
            "GitLabStandIn", "LocalGit", "Migration", "SpecFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"]),
        .target(name: "Bench", dependencies: ["SimKernel", "Stochastics", "GitalyModel"], exclude: ["README.md"]),
        .executableTarget(
            name: "rehearse",
            dependencies: [
                "SimKernel", "Stochastics", "Bench", "SpecFiles", "GitalyModel", "Traffic", "Experiments",
                "Inventory", "Planner", "Migration", "Report", "LocalGit", "GitLabAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"]),
        .testTarget(name: "SimKernelTests", dependencies: ["SimKernel", "Stochastics"]),
        .testTarget(name: "StochasticsTests", dependencies: ["Stochastics", "SimKernel"]),
        .testTarget(name: "GitalyModelTests", dependencies: ["GitalyModel", "SimKernel", "SpecFiles"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "GitalyModel", "Traffic", "SimKernel", "Migration", "SpecFiles", "Report", "Planner", "Inventory", "SimulatedDriver", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "SimKernel", "Stochastics"]),
        .testTarget(name: "InventoryTests", dependencies: [
            "Inventory", "SimKernel", "Stochastics", "SpecFiles",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "PlannerTests", dependencies: [
            "Planner", "Inventory", "SimKernel", "SpecFiles",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "RehearseCLITests", dependencies: ["rehearse", "GitalyModel", "SimKernel", "LocalGit", "Migration", "GitLabStandIn",
                                                            .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "MigrationTests", dependencies: ["Migration", "SimKernel", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "LocalGitTests", dependencies: ["LocalGit", "Migration"]),
        .testTarget(name: "GitLabTests", dependencies: ["GitLabAPI", "GitLabStandIn", "LocalGit", "Migration", .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "TrafficTests", dependencies: ["Traffic", "SimKernel", "Stochastics", "CZlib", "SpecFiles"]),
    ],
    swiftLanguageModes: [.v6]
)
