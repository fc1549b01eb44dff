import ArgumentParser
import Foundation
import PassbackCore
import PassbackStore
import PassbackSync

/// `passback verify`: the drift check of one section.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-read a section's SIS objects and flag what differs from what Passback wrote (SIS_DIFFERS).",
        discussion: """
            Reads back every lineItem and result Passback believes the SIS holds as it is now, and compares the fields \
            Passback owns. Objects edited by hand in the SIS since the last sync (or not stored as sent) show SIS_DIFFERS \
            and UPDATES_AVAILABLE; the next Sync Changes writes exactly those again. Exits 1 when some differ.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "The connection id.")
    var connection: String
    @Option(help: "The section's sourcedId.")
    var section: String

    func run() async throws {
        let (config, database) = try await store.load()
        guard let conn = config.connections[connection] else {
            throw CommandFailure("no connection '\(connection)' is configured; known: \(config.connections.keys.sorted().joined(separator: ", "))")
        }
        guard let classID = try LMSStore(database).classID(connection: connection, sourcedId: section) else {
            throw CommandFailure("no section '\(section)' in connection \(connection); roster it first")
        }
        let report: SectionVerifier.Report
        do {
            report = try await SectionVerifier(database: database).verify(
                classID: classID, client: ClientFactory.client(for: conn),
                requestsPerMinute: conn.settings.requestsPerMinute, concurrency: conn.settings.concurrency)
        } catch let f as SyncPlanner.Failure {
            throw CommandFailure(f.description)
        }
        for p in report.differing { print("SIS_DIFFERS \(p.message)") }
        print(
            "checked \(report.checked) object(s): \(report.differing.count) differ\(report.unreadable > 0 ? ", \(report.unreadable) could not be read (\(report.firstError ?? ""))" : "")"
        )
        if !report.differing.isEmpty {
            print("run `passback sync --connection \(connection) --section \(section)` (Sync Changes) to write them again")
            throw ExitCode(1)
        }
        if report.unreadable > 0 { throw ExitCode(2) }
    }
}
