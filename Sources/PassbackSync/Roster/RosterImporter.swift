import Foundation
import OneRoster
import PassbackCore
import PassbackStore

/// Progress of a long import, for a command line or a log.
public struct RosterProgress: Sendable {
    public var collection: RosterCollection
    /// Records read so far in this collection.
    public var read: Int
    /// Records the SIS says there are, when it says.
    public var total: Int?
}

/// What an import did.
public struct RosterReport: Sendable {
    public var runID: Int64
    public var source: String
    /// `full` or `delta`.
    public var mode: String
    public var counts: [RosterCollection: RosterCounts]
    public var rejects: [RosterReject]
    public var warnings: [String]
    /// Whether an interrupted pull was picked up where it stopped.
    public var resumed: Bool

    /// Everything added up.
    public var total: RosterCounts { counts.values.reduce(RosterCounts(), +) }
}

/// Rosters a connection into the cache: over REST (the first time in full, then as deltas
/// since the last complete pull less a safety overlap, one transaction per page, resumable
/// after a crash), or from a OneRoster 1.1 CSV zip (bulk or delta, all or nothing).
public struct RosterImporter: Sendable {
    let store: RosterStore
    let clock: any WallClock
    /// How far before the last pull's start a delta reaches back, for clock skew between
    /// Passback and the SIS and for records changed while the last pull was paging.
    public var deltaOverlap: TimeInterval = 300

    public init(store: RosterStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.clock = clock
    }

    // MARK: REST

    /// Pulls every rostered collection of a connection. A failure leaves each collection's
    /// resume point in the cache; the next pull continues from it. `request` is the queued
    /// request this pull carries out (its run is linked to it); nil for a pull run directly.
    public func pull(connection: ConnectionSettings, client: OneRosterClient, forceFull: Bool = false, request: Int64? = nil,
                     progress: @escaping @Sendable (RosterProgress) -> Void = { _ in }) async throws -> RosterReport {
        try store.saveConnection(connection, at: clock.now)
        _ = try store.failAbandonedRuns(connection: connection.id, at: clock.now)
        var anyDelta = false
        for c in RosterCollection.allCases where try store.cursor(connection: connection.id, collection: c).lastSuccessStartedAt != nil { anyDelta = true }
        let runMode = forceFull || !anyDelta ? "full" : "delta"
        let runID: Int64
        if let request {
            guard let id = try store.startRun(for: request, connection: connection.id, source: "rest", mode: runMode, at: clock.now) else {
                throw RosterRequestTaken(request: request)
            }
            runID = id
        } else {
            runID = try store.startRun(connection: connection.id, source: "rest", mode: runMode, at: clock.now)
        }
        var report = RosterReport(runID: runID, source: "rest", mode: runMode, counts: [:], rejects: [], warnings: [], resumed: false)
        do {
            for collection in RosterCollection.allCases {
                try await pull(collection, connection: connection.id, client: client, runID: runID, forceFull: forceFull,
                               report: &report, progress: progress)
            }
            try store.finishRun(runID, succeeded: true, counts: report.counts, error: nil, at: clock.now)
            return report
        } catch {
            try? store.finishRun(runID, succeeded: false, counts: report.counts, error: "\(error)", at: clock.now)
            throw error
        }
    }

    func pull(_ collection: RosterCollection, connection: String, client: OneRosterClient, runID: Int64, forceFull: Bool,
              report: inout RosterReport, progress: @escaping @Sendable (RosterProgress) -> Void) async throws {
        switch collection {
        case .orgs: try await pull(.orgs, collection, connection, client, runID, forceFull, &report, progress, RosterMapping.row)
        case .academicSessions: try await pull(.academicSessions, collection, connection, client, runID, forceFull, &report, progress, RosterMapping.row)
        case .courses: try await pull(.courses, collection, connection, client, runID, forceFull, &report, progress, RosterMapping.row)
        case .classes: try await pull(.classes, collection, connection, client, runID, forceFull, &report, progress, RosterMapping.row)
        case .users: try await pull(.users, collection, connection, client, runID, forceFull, &report, progress, RosterMapping.row)
        case .enrollments: try await pull(.enrollments, collection, connection, client, runID, forceFull, &report, progress, RosterMapping.row)
        case .categories: try await pull(.categories, collection, connection, client, runID, forceFull, &report, progress, RosterMapping.row)
        }
    }

    func pull<T: OneRosterObject>(
        _ path: CollectionPath<T>, _ collection: RosterCollection, _ connection: String, _ client: OneRosterClient, _ runID: Int64,
        _ forceFull: Bool, _ report: inout RosterReport, _ progress: @escaping @Sendable (RosterProgress) -> Void,
        _ map: (T) throws(RosterMapping.Refusal) -> RosterRow
    ) async throws {
        let cursor = try store.cursor(connection: connection, collection: collection)
        let pageSize = client.configuration.pageSize
        var mode: String
        var since: Date?
        var offset = 0
        var seenRun = runID
        var startedAt = clock.now
        if let activeRun = cursor.activeRunID, let activeMode = cursor.activeMode, !(forceFull && activeMode == "delta") {
            // Resume an interrupted pull under its own run id, so a full pull's "what did it
            // not see" stays right; re-read one page before the saved point in case records moved.
            mode = activeMode
            since = cursor.activeSince
            offset = max(0, cursor.activeOffset - pageSize)
            seenRun = activeRun
            startedAt = try store.run(activeRun)?.startedAt ?? startedAt
            report.resumed = true
        } else if let last = cursor.lastSuccessStartedAt, !forceFull {
            mode = "delta"
            since = last.addingTimeInterval(-deltaOverlap)
        } else {
            mode = "full"
        }
        let query = ListQuery(filter: since.map(Filter.modifiedSince), startOffset: offset)
        var counts = report.counts[collection] ?? RosterCounts()
        var read = offset
        for try await page in client.pages(path, query: query) {
            let (rows, refused) = RosterMapping.rows(page.items, collection: collection, location: { "GET \(path.path) offset \(page.offset + $0)" }, map: map)
            let readRejects = page.rejected.map {
                RosterReject(collection: collection, sourcedId: $0.sourcedId, location: "GET \(path.path) offset \($0.offset)", reason: $0.reason)
            }
            let pageCounts = try store.applyPage(rows, rejects: refused + readRejects, collection: collection, connection: connection, runID: seenRun,
                                                 mode: mode, since: since, nextOffset: page.nextOffset, pageOffset: page.offset)
            counts = counts + pageCounts
            report.rejects += refused + readRejects
            read = page.nextOffset
            progress(RosterProgress(collection: collection, read: read, total: page.totalCount))
        }
        counts.deleted += try store.completeCollection(collection, connection: connection, runID: seenRun, fullPull: mode == "full", startedAt: startedAt)
        report.counts[collection] = counts
    }

    // MARK: CSV

    /// Loads a OneRoster 1.1 CSV zip. A broken file (bad manifest, header or CSV syntax) fails
    /// the import before anything is written; a bad row is rejected with its file, line and
    /// reason and the rest loads. Bulk files are complete: what they do not list is marked deleted.
    public func importCSV(at url: URL, connection: ConnectionSettings, progress: @escaping @Sendable (RosterProgress) -> Void = { _ in }) throws -> RosterReport {
        let archive = try OneRosterCSVArchive.read(zipAt: url)
        var batches: [(collection: RosterCollection, rows: [RosterRow], lines: [String], bulk: Bool)] = []
        var rejects: [RosterReject] = archive.issues.map { issue in
            RosterReject(collection: Self.collection(ofFile: issue.file) ?? .orgs, sourcedId: issue.sourcedId,
                         location: "\(issue.file) line \(issue.line)" + (issue.column.map { ", column \($0)" } ?? ""), reason: issue.message)
        }
        func add<T>(_ file: CSVFileContents<T>?, _ collection: RosterCollection, _ map: (T) throws(RosterMapping.Refusal) -> RosterRow) {
            guard let file, file.mode != .absent else { return }
            let name = "\(collection.rawValue).csv"
            let (rows, refused) = RosterMapping.rows(file.records, collection: collection, location: { "\(name) line \(file.line(ofRecordAt: $0))" }, map: map)
            var lines: [String] = []
            lines.reserveCapacity(rows.count)
            var refusedIDs = Set(refused.compactMap(\.sourcedId))
            for (i, r) in file.records.enumerated() {
                if refusedIDs.remove(r.sourcedId) == nil { lines.append("\(name) line \(file.line(ofRecordAt: i))") }
            }
            rejects += refused
            batches.append((collection, rows, lines, file.mode == .bulk))
            progress(RosterProgress(collection: collection, read: file.records.count, total: file.records.count))
        }
        add(archive.orgs, .orgs, RosterMapping.row)
        add(archive.academicSessions, .academicSessions, RosterMapping.row)
        add(archive.courses, .courses, RosterMapping.row)
        add(archive.classes, .classes, RosterMapping.row)
        add(archive.users, .users, RosterMapping.row)
        add(archive.enrollments, .enrollments, RosterMapping.row)
        add(archive.categories, .categories, RosterMapping.row)
        var warnings = archive.warnings
        for (file, present) in [("demographics", archive.demographics != nil), ("lineItems", archive.lineItems != nil), ("results", archive.results != nil)] where present {
            warnings.append("\(file).csv was not imported: Passback does not cache \(file == "demographics" ? "demographics" : "gradebook data from the SIS")")
        }
        let mode = batches.contains { $0.bulk } ? "full" : "delta"
        try store.saveConnection(connection, at: clock.now)
        // A run a killed import left `running` is failed now, as a REST pull does (a CSV import
        // writes in one transaction, so such a run wrote nothing).
        _ = try store.failAbandonedRuns(connection: connection.id, at: clock.now)
        let runID = try store.startRun(connection: connection.id, source: "csv", mode: mode, at: clock.now)
        do {
            let counts = try store.applyBatch(batches, rejects: rejects, connection: connection.id, runID: runID)
            try store.finishRun(runID, succeeded: true, counts: counts, error: nil, at: clock.now)
            return RosterReport(runID: runID, source: "csv", mode: mode, counts: counts, rejects: try store.rejects(runID: runID), warnings: warnings, resumed: false)
        } catch {
            try? store.finishRun(runID, succeeded: false, counts: [:], error: "\(error)", at: clock.now)
            throw error
        }
    }

    static func collection(ofFile file: String) -> RosterCollection? {
        let base = file.hasSuffix(".csv") ? String(file.dropLast(4)) : file
        return RosterCollection(rawValue: base)
    }
}
