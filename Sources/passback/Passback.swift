import ArgumentParser

/// The operator's command line: `demo`, `sandbox`, `roster`, `sync`, `verify`, `worker`, `token`, `lti`
/// and `serve`. The database is migrated whenever a command opens it; there is no `migrate`.
@main
struct Passback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passback",
        abstract: "Passback: keep LMS and SIS gradebooks in step over OneRoster 1.1.",
        subcommands: [
            DemoCommand.self, SandboxCommand.self, RosterCommand.self, SyncCommand.self, VerifyCommand.self, WorkerCommand.self, TokenCommand.self,
            LTICommand.self,
            ServeCommand.self
        ]
    )
}
