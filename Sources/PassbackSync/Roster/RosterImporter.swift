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
    /// A dry run: nothing was written (`runID` is 0).
    public var dryRun = false
    /// What each complete listing (bulk file, full pull) marks deleted, or would in a dry run.
    public var deletions: [RosterDeletionCheck] = []

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
    /// How much a complete listing may mark deleted before the import stops and asks.
    public var deletionLimit = RosterDeletionLimit()
    /// How a REST pull rides out a failing or rate-limited SIS (`roster.maxWaitSeconds`).
    public var pullRetry = RosterPullRetry()
    /// Bounds on a CSV zip's fields, rows and files (`csv.*` in the configuration).
    public var csvLimits = CSVLimits.standard
    /// Records of a CSV file read, mapped and stored per step: memory is bounded by this.
    public var csvBatchSize = 1000
    /// The CSV import is a command of its own (`passback roster import`), not a server: it may
    /// take a database no other process has open alone, through a rollback journal.
    public var csvAlone = false

    public init(store: RosterStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.clock = clock
    }

    // MARK: REST

    /// Pulls every rostered collection of a connection. A failure leaves each collection's
    /// resume point in the cache; the next pull continues from it. `request` is the queued
    /// request this pull carries out (its run is linked to it); nil for a pull run directly.
    public func pull(
        connection: ConnectionSettings, client: OneRosterClient, forceFull: Bool = false, request: Int64? = nil,
        progress: @escaping @Sendable (RosterProgress) -> Void = { _ in }
    ) async throws -> RosterReport {
        try store.saveConnection(connection, at: clock.now)
        _ = try store.failAbandonedRuns(connection: connection.id, at: clock.now)
        var anyDelta = false
        for c in RosterCollection.cached where try store.cursor(connection: connection.id, collection: c).lastSuccessStartedAt != nil { anyDelta = true }
        let runMode = forceFull || !anyDelta ? "full" : "delta"
        let runID: Int64
        if let request {
            guard let id = try store.startRun(for: request, full: forceFull, connection: connection.id, source: "rest", mode: runMode, at: clock.now) else {
                throw RosterRequestTaken(request: request)
            }
            runID = id
        } else {
            runID = try store.startRun(connection: connection.id, source: "rest", mode: runMode, at: clock.now)
        }
        var report = RosterReport(runID: runID, source: "rest", mode: runMode, counts: [:], rejects: [], warnings: [], resumed: false)
        let paging = Paging(retry: pullRetry, limiter: RateLimiter(requestsPerMinute: connection.requestsPerMinute), connection: connection, clock: clock)
        do {
            for collection in RosterCollection.cached {
                try await pull(
                    collection, connection: connection.id, client: client, runID: runID, forceFull: forceFull,
                    report: &report, progress: progress, paging: paging)
            }
            try store.finishRun(runID, succeeded: true, counts: report.counts, error: nil, at: clock.now)
            return report
        } catch {
            try? store.finishRun(runID, succeeded: false, counts: report.counts, error: "\(error)", at: clock.now)
            throw error
        }
    }

    func pull(
        _ collection: RosterCollection, connection: String, client: OneRosterClient, runID: Int64, forceFull: Bool,
        report: inout RosterReport, progress: @escaping @Sendable (RosterProgress) -> Void, paging: Paging
    ) async throws {
        switch collection {
        case .orgs: try await pull(.orgs, collection, connection, client, runID, forceFull, &report, progress, paging, RosterMapping.row)
        case .academicSessions:
            try await pull(.academicSessions, collection, connection, client, runID, forceFull, &report, progress, paging, RosterMapping.row)
        case .courses: try await pull(.courses, collection, connection, client, runID, forceFull, &report, progress, paging, RosterMapping.row)
        case .classes: try await pull(.classes, collection, connection, client, runID, forceFull, &report, progress, paging, RosterMapping.row)
        case .users: try await pull(.users, collection, connection, client, runID, forceFull, &report, progress, paging, RosterMapping.row)
        case .enrollments: try await pull(.enrollments, collection, connection, client, runID, forceFull, &report, progress, paging, RosterMapping.row)
        case .categories: try await pull(.categories, collection, connection, client, runID, forceFull, &report, progress, paging, RosterMapping.row)
        case .demographics: return
        }
    }

    func pull<T: OneRosterObject>(
        _ path: CollectionPath<T>, _ collection: RosterCollection, _ connection: String, _ client: OneRosterClient, _ runID: Int64,
        _ forceFull: Bool, _ report: inout RosterReport, _ progress: @escaping @Sendable (RosterProgress) -> Void, _ paging: Paging,
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
        var pages = client.pages(path, query: query).makeAsyncIterator()
        // A failed GET leaves the iterator on its page: the retry asks for the same page again.
        while let page = try await paging.retry.run(connection: paging.connection, limiter: paging.limiter, at: paging.clock, { try await pages.next() }) {
            let (rows, refused) = RosterMapping.rows(page.items, collection: collection, location: { "GET \(path.path) offset \(page.offset + $0)" }, map: map)
            let readRejects = page.rejected.map {
                RosterReject(collection: collection, sourcedId: $0.sourcedId, location: "GET \(path.path) offset \($0.offset)", reason: $0.reason)
            }
            let applied = try store.applyPage(
                rows, rejects: refused + readRejects, collection: collection, connection: connection, runID: seenRun,
                mode: mode, since: since, nextOffset: page.nextOffset, pageOffset: page.offset, at: paging.clock.now)
            counts = counts + applied.counts
            report.rejects += applied.rejects
            read = page.nextOffset
            progress(RosterProgress(collection: collection, read: read, total: page.totalCount))
        }
        report.counts[collection] = counts
        counts.deleted += try store.completeCollection(
            collection, connection: connection, runID: seenRun, fullPull: mode == "full", startedAt: startedAt,
            limit: deletionLimit, at: paging.clock.now)
        report.counts[collection] = counts
    }

    // MARK: REST dry run

    /// What ``pull(connection:client:forceFull:progress:)`` would change, read from the SIS and
    /// compared with the cache without writing anything: counts, rejects, and what each full
    /// listing would mark deleted (with whether a real pull would stop there). It reads every
    /// collection from the start (an interrupted pull is not resumed).
    public func preview(
        connection: ConnectionSettings, client: OneRosterClient, forceFull: Bool = false,
        progress: @escaping @Sendable (RosterProgress) -> Void = { _ in }
    ) async throws -> RosterReport {
        var anyDelta = false
        for c in RosterCollection.cached where try store.cursor(connection: connection.id, collection: c).lastSuccessStartedAt != nil { anyDelta = true }
        var report = RosterReport(
            runID: 0, source: "rest", mode: forceFull || !anyDelta ? "full" : "delta", counts: [:], rejects: [], warnings: [],
            resumed: false, dryRun: true)
        for collection in RosterCollection.cached {
            switch collection {
            case .orgs: try await preview(.orgs, collection, connection.id, client, forceFull, &report, progress, RosterMapping.row)
            case .academicSessions: try await preview(.academicSessions, collection, connection.id, client, forceFull, &report, progress, RosterMapping.row)
            case .courses: try await preview(.courses, collection, connection.id, client, forceFull, &report, progress, RosterMapping.row)
            case .classes: try await preview(.classes, collection, connection.id, client, forceFull, &report, progress, RosterMapping.row)
            case .users: try await preview(.users, collection, connection.id, client, forceFull, &report, progress, RosterMapping.row)
            case .enrollments: try await preview(.enrollments, collection, connection.id, client, forceFull, &report, progress, RosterMapping.row)
            case .categories: try await preview(.categories, collection, connection.id, client, forceFull, &report, progress, RosterMapping.row)
            case .demographics: continue
            }
        }
        return report
    }

    func preview<T: OneRosterObject>(
        _ path: CollectionPath<T>, _ collection: RosterCollection, _ connection: String, _ client: OneRosterClient, _ forceFull: Bool,
        _ report: inout RosterReport, _ progress: @escaping @Sendable (RosterProgress) -> Void,
        _ map: (T) throws(RosterMapping.Refusal) -> RosterRow
    ) async throws {
        let cursor = try store.cursor(connection: connection, collection: collection)
        let full = forceFull || cursor.lastSuccessStartedAt == nil || cursor.activeMode == "full"
        let since = full ? nil : cursor.lastSuccessStartedAt.map { $0.addingTimeInterval(-deltaOverlap) }
        var counts = RosterCounts()
        var listed = Set<String>()
        var read = 0
        for try await page in client.pages(path, query: ListQuery(filter: since.map(Filter.modifiedSince))) {
            let (rows, refused) = RosterMapping.rows(page.items, collection: collection, location: { "GET \(path.path) offset \(page.offset + $0)" }, map: map)
            let readRejects = page.rejected.map {
                RosterReject(collection: collection, sourcedId: $0.sourcedId, location: "GET \(path.path) offset \($0.offset)", reason: $0.reason)
            }
            let previewed = try store.previewPage(rows, rejects: refused + readRejects, collection: collection, connection: connection, complete: full)
            counts = counts + previewed.counts
            report.rejects += previewed.rejects
            listed.formUnion(rows.map(\.header.sourcedId))
            listed.formUnion((refused + readRejects).compactMap(\.sourcedId))
            read = page.nextOffset
            progress(RosterProgress(collection: collection, read: read, total: page.totalCount))
        }
        if full {
            let check = try store.previewDeletions(collection, connection: connection, listed: listed, listedNothing: read == 0, limit: deletionLimit)
            if check.refusal == nil { counts.deleted += check.deleting }
            report.deletions.append(check)
        }
        report.counts[collection] = counts
    }

    // MARK: CSV

    /// Loads a OneRoster 1.1 CSV zip, streamed within `csvLimits` (see ``RosterCSVImport``).
    /// A broken file (bad manifest, header or CSV syntax, or past a limit) fails the import and
    /// changes nothing; a bad row is rejected with its file, line and reason and the rest loads.
    /// Bulk files are complete: what they do not list is marked deleted.
    ///
    /// A bulk file that would mark more of a collection deleted than ``deletionLimit`` allows
    /// (or that lists nothing while the collection has active rows) fails the whole import
    /// before anything is written (``MassDeletionRefused``). With `dryRun`, everything is
    /// worked out and nothing is written.
    public func importCSV(
        at url: URL, connection: ConnectionSettings, dryRun: Bool = false,
        progress: @escaping @Sendable (RosterProgress) -> Void = { _ in }
    ) throws -> RosterReport {
        var run = RosterCSVImport(store: store, clock: clock, limits: csvLimits, batchSize: max(1, csvBatchSize), deletionLimit: deletionLimit)
        run.alone = csvAlone
        return try run.run(zipAt: url, connection: connection, dryRun: dryRun, progress: progress)
    }

    /// What every GET of one pull shares: the retry rules and the connection's rate.
    struct Paging {
        var retry: RosterPullRetry
        var limiter: RateLimiter<ContinuousClock>
        var connection: ConnectionSettings
        var clock: any WallClock
    }

    static func collection(ofFile file: String) -> RosterCollection? {
        let base = file.hasSuffix(".csv") ? String(file.dropLast(4)) : file
        return RosterCollection(rawValue: base)
    }
}
