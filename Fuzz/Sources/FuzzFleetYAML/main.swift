import FuzzDriver
import GitalyModel

// A fleet model file: parsed, then built (the cross-reference checks). Errors are fine;
// crashes, hangs and memory blow-ups are findings.
runFuzzer { data, size in
    _ = try? Fleet.build(FleetSpec.parse(text(data, size), file: "fuzz.yaml"))
    return 0
}
