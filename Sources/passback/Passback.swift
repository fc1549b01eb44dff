import ArgumentParser

/// The operator's command line: `passback sandbox` today; `serve`, `demo`, `roster`, `sync`,
/// `token` and `migrate` join it as the gateway lands.
@main
struct Passback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passback",
        abstract: "Passback: keep LMS and SIS gradebooks in step over OneRoster 1.1.",
        subcommands: [DemoCommand.self, SandboxCommand.self, RosterCommand.self, SyncCommand.self, VerifyCommand.self, WorkerCommand.self, TokenCommand.self, ServeCommand.self]
    )
}
