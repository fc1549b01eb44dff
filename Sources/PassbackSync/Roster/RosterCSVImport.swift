import Foundation
import OneRoster
import PassbackCore
import PassbackStore

/// One CSV zip import, streamed: the zip is read file by file in batches of `batchSize` records
/// and each batch is mapped and stored as it comes, all inside one transaction. Memory stays
/// bounded by a batch (plus the sourcedIds of the file being read, to find duplicates),
/// whatever the zip's size, and a broken file anywhere still changes nothing.
struct RosterCSVImport {
    let store: RosterStore
    let clock: any WallClock
    let limits: CSVLimits
    var batchSize = 1000
    var deletionLimit = RosterDeletionLimit()

    func run(zipAt url: URL, connection: ConnectionSettings, dryRun: Bool = false, progress: @escaping @Sendable (RosterProgress) -> Void) throws -> RosterReport {
        var reader = try OneRosterCSVReader(zipAt: url, limits: limits)
        let manifest = reader.manifest
        let mode = RosterCollection.cached.contains { manifest.mode(of: $0.rawValue) == .bulk } ? "full" : "delta"
        var read: [RosterCollection: Int] = [:]
        func feed(_ sink: RosterImportSink) throws {
            func take<T>(_ file: CSVFileContents<T>, _ collection: RosterCollection, _ map: (T) throws(RosterMapping.Refusal) -> RosterRow) throws {
                try Self.apply(file, collection, map, sink)
                read[collection, default: 0] += file.records.count + file.issues.count
                progress(RosterProgress(collection: collection, read: read[collection] ?? 0, total: nil))
            }
            try reader.readFiles(batchSize: batchSize) { batch in
                switch batch {
                case .orgs(let f): try take(f, .orgs, RosterMapping.row)
                case .academicSessions(let f): try take(f, .academicSessions, RosterMapping.row)
                case .courses(let f): try take(f, .courses, RosterMapping.row)
                case .classes(let f): try take(f, .classes, RosterMapping.row)
                case .users(let f): try take(f, .users, RosterMapping.row)
                case .enrollments(let f): try take(f, .enrollments, RosterMapping.row)
                case .categories(let f): try take(f, .categories, RosterMapping.row)
                // Not cached, but a bad row is still reported, under its own collection.
                case .demographics(let f): try sink.reject(Self.rejects(f.issues, .demographics))
                // Not imported at all: the warning below says the whole file was left out.
                case .lineItems, .results: break
                }
            }
        }
        func warnings() -> [String] {
            var warnings = reader.warnings
            for file in ["demographics", "lineItems", "results"] where manifest.mode(of: file) != .absent {
                warnings.append("\(file).csv was not imported: Passback does not cache \(file == "demographics" ? "demographics" : "gradebook data from the SIS")")
            }
            return warnings
        }
        if dryRun {
            let preview = try store.previewStream(connection: connection, limit: deletionLimit, at: clock.now, feed)
            return RosterReport(runID: 0, source: "csv", mode: mode, counts: preview.counts, rejects: preview.rejects, warnings: warnings(), resumed: false,
                                dryRun: true, deletions: preview.deletions)
        }
        try store.saveConnection(connection, at: clock.now)
        // A run a killed import left `running` is failed now, as a REST pull does (a CSV import
        // writes in one transaction, so such a run wrote nothing).
        _ = try store.failAbandonedRuns(connection: connection.id, at: clock.now)
        let runID = try store.startRun(connection: connection.id, source: "csv", mode: mode, at: clock.now)
        do {
            let counts = try store.applyStream(connection: connection.id, runID: runID, limit: deletionLimit, feed)
            try store.finishRun(runID, succeeded: true, counts: counts, error: nil, at: clock.now)
            return RosterReport(runID: runID, source: "csv", mode: mode, counts: counts, rejects: try store.rejects(runID: runID), warnings: warnings(), resumed: false)
        } catch {
            try? store.finishRun(runID, succeeded: false, counts: [:], error: "\(error)", at: clock.now)
            throw error
        }
    }

    static func rejects(_ issues: [CSVRowIssue], _ collection: RosterCollection) -> [RosterReject] {
        issues.map { issue in
            RosterReject(collection: RosterImporter.collection(ofFile: issue.file) ?? collection, sourcedId: issue.sourcedId,
                         location: "\(issue.file) line \(issue.line)" + (issue.column.map { ", column \($0)" } ?? ""), reason: issue.message)
        }
    }

    /// Maps one batch and stores it: the rows the reader or the 1.1 model refused are rejected
    /// with their file and line, the others upserted.
    static func apply<T: OneRosterObject>(_ file: CSVFileContents<T>, _ collection: RosterCollection,
                                          _ map: (T) throws(RosterMapping.Refusal) -> RosterRow, _ sink: RosterImportSink) throws {
        let name = "\(collection.rawValue).csv"
        let issues = rejects(file.issues, collection)
        let (rows, refused) = RosterMapping.rows(file.records, collection: collection, location: { "\(name) line \(file.line(ofRecordAt: $0))" }, map: map)
        var lines: [Int] = []
        lines.reserveCapacity(rows.count)
        var refusedIDs = Set(refused.compactMap(\.sourcedId))
        for (i, r) in file.records.enumerated() where refusedIDs.isEmpty || refusedIDs.remove(r.sourcedId) == nil {
            lines.append(file.line(ofRecordAt: i))
        }
        try sink.reject(issues + refused)
        try sink.apply(rows, collection: collection, bulk: file.mode == .bulk) { "\(name) line \(lines[$0])" }
    }
}
