// swift-tools-version:6.0
// libFuzzer targets for Rehearse's parsers. A package of its own so that the instrumented
// builds (`-sanitize=fuzzer,address`) stay out of the main package's `swift build` and
// `swift test`; run them with `make fuzz` from the top folder (see Fuzz/README.md).
import PackageDescription

let package = Package(
    name: "RehearseFuzz",
    dependencies: [.package(name: "Rehearse", path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzer"]),
        .executableTarget(name: "FuzzFleetYAML", dependencies: ["FuzzDriver", .product(name: "GitalyModel", package: "Rehearse")]),
        .executableTarget(name: "FuzzUnits", dependencies: ["FuzzDriver", .product(name: "SpecFiles", package: "Rehearse")]),
        .executableTarget(name: "FuzzLogLine", dependencies: ["FuzzDriver", .product(name: "Traffic", package: "Rehearse")]),
        .executableTarget(name: "FuzzTraceCSV", dependencies: ["FuzzDriver", .product(name: "Traffic", package: "Rehearse")]),
        .executableTarget(name: "FuzzTimestamp", dependencies: ["FuzzDriver", .product(name: "Traffic", package: "Rehearse")]),
    ],
    swiftLanguageModes: [.v6]
)
