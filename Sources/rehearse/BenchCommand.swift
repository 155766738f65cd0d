import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Rehearse's own speed: the event kernel and the models built on it.",
        subcommands: [])
}
