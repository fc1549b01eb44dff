import ArgumentParser
import Foundation
import OneRoster
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync

/// Options every command that opens the store shares.
struct StoreOptions: ParsableArguments {
    @Option(help: "Config file (JSON). Environment variables override it; see README.")
    var config: String?

    @Option(help: "SQLite file; overrides the config's `database`.")
    var database: String?

    func load() async throws -> (PassbackConfiguration, PassbackDatabase) {
        var configuration: PassbackConfiguration
        do {
            configuration = try await PassbackConfiguration.load(file: config)
        } catch let p as PassbackConfiguration.Problem {
            throw CommandFailure(p.description)
        }
        if let database { configuration.databasePath = database }
        do {
            let database = try PassbackDatabase(path: configuration.databasePath)
            // The store keeps a copy of each connection's time zones and limits, so every reader
            // (planner, API, scheduler) follows the configuration as it is now, not as of the last roster pull.
            for connection in configuration.connections.values.sorted(by: { $0.settings.id < $1.settings.id }) {
                try RosterStore(database).saveConnection(connection.settings, at: Date())
            }
            return (configuration, database)
        } catch let e as StoreError {
            throw CommandFailure(e.message)
        }
    }
}

/// `passback roster`: fill the cache from a connection's SIS.
struct RosterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: "Roster a connection's SIS into the cache, over REST or from a OneRoster 1.1 CSV zip.",
        subcommands: [Sync.self, Import.self]
    )

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pull every rostered collection over REST: in full the first time, then as a delta since the last complete pull.",
            discussion: "An interrupted pull resumes where it stopped the next time this runs.")

        @OptionGroup var store: StoreOptions
        @Option(help: "The connection id, as configured.")
        var connection: String
        @Flag(help: "Pull everything again (finds records the SIS removed without marking them).")
        var full = false
        @OptionGroup var safety: MassDeleteOptions

        func run() async throws {
            let (config, database) = try await store.load()
            let conn: PassbackConfiguration.Connection
            do { conn = try config.connection(connection) } catch let p as PassbackConfiguration.Problem { throw CommandFailure(p.description) }
            let client = ClientFactory.client(for: conn)
            var importer = config.rosterImporter(store: RosterStore(database))
            importer.deletionLimit = safety.limit(config)
            let started = Date()
            let report: RosterReport
            do {
                if safety.dryRun {
                    report = try await importer.preview(connection: conn.settings, client: client, forceFull: full, progress: ProgressLine.report)
                } else {
                    report = try await importer.pull(connection: conn.settings, client: client, forceFull: full, progress: ProgressLine.report)
                }
            } catch let e as RosterPullError {
                ProgressLine.finish()
                throw CommandFailure("\(e.description).")
            } catch let e as OneRosterError {
                ProgressLine.finish()
                throw CommandFailure(
                    safety.dryRun
                        ? "\(e.description). This was a dry run: nothing was written."
                        : "\(e.description). What was stored so far is kept; run this again to resume.")
            } catch let e as MassDeletionRefused {
                ProgressLine.finish()
                throw CommandFailure(
                    "\(e.description). The records this pull read were stored; the next pull reads "
                        + e.checks.map(\.collection.rawValue).joined(separator: ", ") + " again from the start before it sweeps.")
            }
            ProgressLine.finish()
            RosterReportPrinter.print(report, seconds: Date().timeIntervalSince(started))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a OneRoster 1.1 CSV zip (bulk or delta) into the cache.",
            discussion: "A broken file fails the import and changes nothing; a bad row is rejected with its file, line and reason.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The zip file.")
        var file: String
        @Option(help: "The connection id the data belongs to: a configured one, or a CSV-only one this database already holds.")
        var connection: String
        @Flag(help: "Start a new CSV-only connection (no SIS URL or secret) with this id.")
        var newConnection = false
        @OptionGroup var safety: MassDeleteOptions

        func run() async throws {
            let (config, database) = try await store.load()
            let settings: ConnectionSettings
            if let c = config.connections[connection] {
                settings = c.settings
            } else {
                // A CSV-only connection needs no SIS URL or secret, but is made on purpose: a
                // mistyped id must not start a new, empty district beside the real one.
                guard ConnectionSettings.isValidID(connection) else { throw ValidationError("connection id must be 1-64 characters of a-z, 0-9 and _") }
                let known = try RosterStore(database).connectionIDs()
                if !known.contains(connection), !newConnection {
                    let configured = config.connections.keys.sorted()
                    let held = known.filter { config.connections[$0] == nil }
                    throw CommandFailure(
                        """
                        no connection '\(connection)': configured: \(configured.isEmpty ? "none" : configured.joined(separator: ", ")); \
                        CSV-only in this database: \(held.isEmpty ? "none" : held.joined(separator: ", ")). \
                        Check the id, or pass --new-connection to start a new CSV-only connection '\(connection)'. Nothing was imported.
                        """)
                }
                settings = ConnectionSettings(id: connection, baseURL: URL(string: "file:///csv-only")!, auth: .none)
            }
            let started = Date()
            do {
                var importer = config.rosterImporter(store: RosterStore(database))
                importer.deletionLimit = safety.limit(config)
                importer.csvAlone = true
                let report = try importer.importCSV(at: URL(fileURLWithPath: file), connection: settings, dryRun: safety.dryRun, progress: ProgressLine.report)
                ProgressLine.finish()
                RosterReportPrinter.print(report, seconds: Date().timeIntervalSince(started))
            } catch let e as OneRosterCSVError {
                throw CommandFailure("\(file): \(e.description). Nothing was imported.")
            } catch let e as MassDeletionRefused {
                ProgressLine.finish()
                throw CommandFailure("\(file): \(e.description). Nothing was imported.")
            }
        }
    }
}

/// The roster safety valve's flags, shared by `sync` and `import`.
struct MassDeleteOptions: ParsableArguments {
    @Flag(help: "Read everything and print what would change, including what would be marked deleted; write nothing.")
    var dryRun = false
    @Flag(help: "Let a bulk file or full pull mark more than roster.maxDeleteShare of a collection deleted (or empty a collection).")
    var allowMassDelete = false

    func limit(_ config: PassbackConfiguration) -> RosterDeletionLimit {
        var limit = config.rosterDeletionLimit
        if allowMassDelete { limit.allowMassDelete = true }
        return limit
    }
}

/// Progress on standard error: one self-overwriting line on a terminal, nothing in a pipe
/// (where the final report says it all).
enum ProgressLine {
    static let isTerminal = isatty(2) == 1

    @Sendable static func report(_ p: RosterProgress) {
        guard isTerminal else { return }
        let total = p.total.map { " / \($0)" } ?? ""
        FileHandle.standardError.write(Data("\r\(p.collection.rawValue): \(p.read)\(total)\u{1B}[K".utf8))
    }

    static func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// A failure at run time: printed as `Error: ...` without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prints what an import did.
enum RosterReportPrinter {
    static func print(_ r: RosterReport, seconds: TimeInterval) {
        var out =
            r.dryRun
            ? "Dry run of a \(r.source == "csv" ? "CSV import" : "REST pull") (\(r.mode)) in \(String(format: "%.1f", seconds)) s: nothing was written\n"
            : "\(r.source == "csv" ? "CSV import" : "REST pull") (\(r.mode)\(r.resumed ? ", resumed" : ""), run \(r.runID)) in \(String(format: "%.1f", seconds)) s\n"
        out += "collection         created  updated unchanged  deleted rejected\n"
        for c in RosterCollection.allCases {
            guard let n = r.counts[c] else { continue }
            out += c.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
            for v in [n.created, n.updated, n.unchanged, n.deleted, n.rejected] {
                out += String(repeating: " ", count: max(1, 9 - String(v).count)) + String(v)
            }
            out += "\n"
        }
        let t = r.total
        let rows = t.created + t.updated + t.unchanged + t.deleted
        out += "\(rows) rows, \(seconds > 0 ? Int(Double(rows) / seconds) : rows) rows/s\n"
        for w in r.warnings { out += "warning: \(w)\n" }
        for check in r.deletions where check.deleting > 0 {
            out += "\(r.dryRun ? "would mark deleted" : "marked deleted"): \(check.collection.rawValue), \(check.proportion)"
            out += check.refusal == nil ? "\n" : "; over the limit: a real run stops here unless --allow-mass-delete\n"
            let shown = check.sample.prefix(50)
            out += "  " + shown.joined(separator: ", ") + (check.deleting > shown.count ? ", ... and \(check.deleting - shown.count) more" : "") + "\n"
        }
        for reject in r.rejects.prefix(50) { out += "rejected: \(reject.location)\(reject.sourcedId.map { " (\($0))" } ?? ""): \(reject.reason)\n" }
        if r.rejects.count > 50 {
            out += "... and \(r.rejects.count - 50) more rejected rows" + (r.dryRun ? "\n" : " (table roster_reject, run \(r.runID))\n")
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
