import ArgumentParser
import Foundation
import OneRoster
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

        func run() async throws {
            let (config, database) = try await store.load()
            let conn: PassbackConfiguration.Connection
            do { conn = try config.connection(connection) } catch let p as PassbackConfiguration.Problem { throw CommandFailure(p.description) }
            let client = ClientFactory.client(for: conn)
            let importer = RosterImporter(store: RosterStore(database))
            let started = Date()
            let report: RosterReport
            do {
                report = try await importer.pull(connection: conn.settings, client: client, forceFull: full, progress: ProgressLine.report)
            } catch let e as OneRosterError {
                ProgressLine.finish()
                throw CommandFailure("\(e.description). What was stored so far is kept; run this again to resume.")
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
        @Option(help: "The connection id the data belongs to, as configured.")
        var connection: String

        func run() async throws {
            let (config, database) = try await store.load()
            let settings: ConnectionSettings
            if let c = config.connections[connection] {
                settings = c.settings
            } else {
                // A CSV-only connection needs no SIS URL or secret.
                guard ConnectionSettings.isValidID(connection) else { throw ValidationError("connection id must be a-z, 0-9 and _") }
                settings = ConnectionSettings(id: connection, baseURL: URL(string: "file:///csv-only")!, auth: .none)
            }
            let started = Date()
            do {
                let report = try RosterImporter(store: RosterStore(database)).importCSV(at: URL(fileURLWithPath: file), connection: settings, progress: ProgressLine.report)
                ProgressLine.finish()
                RosterReportPrinter.print(report, seconds: Date().timeIntervalSince(started))
            } catch let e as OneRosterCSVError {
                throw CommandFailure("\(file): \(e.description). Nothing was imported.")
            }
        }
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
        var out = "\(r.source == "csv" ? "CSV import" : "REST pull") (\(r.mode)\(r.resumed ? ", resumed" : ""), run \(r.runID)) in \(String(format: "%.1f", seconds)) s\n"
        out += "collection         created  updated unchanged  deleted rejected\n"
        for c in RosterCollection.allCases {
            guard let n = r.counts[c] else { continue }
            out += c.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
            for v in [n.created, n.updated, n.unchanged, n.deleted, n.rejected] { out += String(repeating: " ", count: max(1, 9 - String(v).count)) + String(v) }
            out += "\n"
        }
        let t = r.total
        let rows = t.created + t.updated + t.unchanged + t.deleted
        out += "\(rows) rows, \(seconds > 0 ? Int(Double(rows) / seconds) : rows) rows/s\n"
        for w in r.warnings { out += "warning: \(w)\n" }
        for reject in r.rejects.prefix(50) { out += "rejected: \(reject.location)\(reject.sourcedId.map { " (\($0))" } ?? ""): \(reject.reason)\n" }
        if r.rejects.count > 50 { out += "... and \(r.rejects.count - 50) more rejected rows (table roster_reject, run \(r.runID))\n" }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
