import ArgumentParser
import Foundation

// MARK: admins: a run's writes, retry, discard, the default schedule, roster pulls

/// The writes (outbox jobs) of one run, those not accepted first.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A run's writes (ids for retry and discard), those not accepted first.")
    @OptionGroup var connection: Connection
    @Option(help: "The run's id (the first column of `passbackctl runs`).") var run: String
    @Flag(help: "Only the writes that were not accepted.") var notAccepted = false

    func run() async throws {
        try await perform {
            let api = try connection.api()
            let states = ["AVAILABLE", "SCHEDULED", "RUNNING", "RETRYABLE", "DISCARDED", "CANCELLED"]
            var jobs = try await api.all(
                "RunWritesNotAccepted", ["id": run, "s": states], path: ["node", "jobs"])
            if !notAccepted {
                jobs += try await api.all(
                    "RunWritesAccepted", ["id": run], path: ["node", "jobs"])
            }
            let rows = jobs.map { j in
                [
                    string(j["id"]), string(j["kind"]), string((j["material"] as? [String: Any])?["title"]), string(j["state"]), string(j["attempt"]),
                    string(j["lastError"])
                ]
            }
            emit(Table(columns: ["id", "kind", "material", "state", "attempts", "last error"], rows: rows).render(connection.format, json: jobs))
        }
    }
}

/// Runs `retrySyncJobs` or `discardSyncJobs` on job ids and prints the first page of what its
/// payload lists (`list`, with `selection`), saying how many more there are, then its user errors.
func jobsMutation(
    _ connection: Connection, _ jobs: [String], mutation: String, list: String, what: String,
    columns: [String], row: ([String: Any]) -> [String]
) async throws {
    guard !jobs.isEmpty else { throw CLIError("give one or more job ids (see `passbackctl jobs --run RUN --not-accepted`)", status: 2) }
    // The document is named after its mutation (documents/RetrySyncJobs.graphql).
    let data = try await connection.api().run(mutation.prefix(1).uppercased() + mutation.dropFirst(), ["i": ["jobIds": jobs]])
    let payload = data[mutation] as? [String: Any] ?? [:]
    let listed = nodes(payload[list])
    emit(Table(columns: columns, rows: listed.map(row)).render(connection.format, json: listed))
    noteUnlisted(payload[list], what)
    try userErrors(payload)
}

/// Sends failed writes again, or stops waiting ones.
struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Admins: send the items of failed writes again (a new run per section).")
    @OptionGroup var connection: Connection
    @Argument(help: "Job ids, from `passbackctl jobs --run RUN`.") var jobs: [String]

    func run() async throws {
        try await perform {
            try await jobsMutation(
                connection, jobs, mutation: "retrySyncJobs", list: "runs", what: "runs queued",
                columns: ["run", "section", "state"]
            ) { [string($0["id"]), string(($0["section"] as? [String: Any])?["sourcedId"]), string($0["state"])] }
        }
    }
}

struct Discard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Admins: stop writes still waiting or retrying (their items show ERROR).")
    @OptionGroup var connection: Connection
    @Argument(help: "Job ids, from `passbackctl jobs --run RUN`.") var jobs: [String]

    func run() async throws {
        try await perform {
            try await jobsMutation(
                connection, jobs, mutation: "discardSyncJobs", list: "jobs", what: "writes discarded",
                columns: ["id", "state"]
            ) { [string($0["id"]), string($0["state"])] }
        }
    }
}

/// The org's default weekly schedule.
struct DefaultSchedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "default-schedule",
        abstract: "Admins: set your org's default weekly sync schedule, or --off to remove it.")
    @OptionGroup var connection: Connection
    @Option(help: "Day: 1 (Monday) to 7 (Sunday).") var weekday: Int?
    @Option(help: "Start time, HH:MM (the run happens within three hours after it).") var start: String?
    @Option(help: "IANA time zone, e.g. America/Chicago.") var zone: String?
    @Flag(help: "Remove the default.") var off = false

    func run() async throws {
        try await perform {
            var schedule: Any = NSNull()
            if !off {
                guard let weekday, (1...7).contains(weekday), let start, let zone else {
                    throw CLIError("give --weekday 1-7, --start HH:MM and --zone (an IANA name), or --off", status: 2)
                }
                schedule = ["weekday": weekday, "startTime": start, "timeZone": zone]
            }
            let data = try await connection.api().run("SaveDefaultSyncSchedule", ["i": ["schedule": schedule]])
            let payload = data["saveDefaultSyncSchedule"] as? [String: Any] ?? [:]
            try userErrors(payload)
            let org = payload["org"] as? [String: Any] ?? [:]
            emit(
                off
                    ? "The default schedule of \(string(org["name"])) was removed; it takes effect in 24 hours.\n"
                    : "The default schedule of \(string(org["name"])) was saved; it takes effect in 24 hours.\n")
        }
    }
}

/// The connection's roster pulls, asked for or scheduled.
struct RosterRuns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "roster-runs", abstract: "Admins: the roster pulls, asked for or scheduled, newest first.")
    @OptionGroup var connection: Connection
    @Option(help: "How many.") var limit = 20

    func run() async throws {
        try await perform {
            let data = try await connection.api().run("RosterRuns", ["n": max(1, min(limit, 100))])
            let runs = (data["rosterRuns"] as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
            let rows = runs.map { r in
                [
                    string(r["requestedAt"]), string(r["trigger"]), string(r["mode"]), string(r["state"]),
                    "\(string(r["created"]))/\(string(r["updated"]))/\(string(r["deleted"]))/\(string(r["rejected"]))", string(r["error"])
                ]
            }
            emit(
                Table(columns: ["asked", "trigger", "mode", "state", "created/updated/deleted/rejected", "error"], rows: rows).render(
                    connection.format, json: runs))
        }
    }
}

/// A payload's user errors as the command's failure (exit 1), each on its own line.
func userErrors(_ payload: [String: Any]) throws {
    let errors = payload["userErrors"] as? [[String: Any]] ?? []
    guard !errors.isEmpty else { return }
    throw CLIError(errors.map { string($0["message"]) }.joined(separator: "\n"))
}
