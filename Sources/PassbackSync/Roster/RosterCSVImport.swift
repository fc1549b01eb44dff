import Foundation
import OneRoster
import PassbackCore
import PassbackStore

/// One CSV zip import, streamed: the zip is read file by file in batches of `batchSize` records
/// and each batch is mapped and stored as it comes, all inside one transaction. Memory stays
/// bounded by a few batches (plus the sourcedIds of the file being read, to find duplicates),
/// whatever the zip's size, and a broken file anywhere still changes nothing.
///
/// Reading and mapping (inflating, parsing, checking each row against the 1.1 model,
/// fingerprinting) run on a thread of their own, at most ``aheadBatches`` batches ahead of the
/// transaction, which stores them in the order read: the two halves of the work each take
/// about half of an import, so on two cores it takes about half the time.
struct RosterCSVImport {
    let store: RosterStore
    let clock: any WallClock
    let limits: CSVLimits
    var batchSize = 1000
    var deletionLimit = RosterDeletionLimit()
    /// How many mapped batches may wait for the transaction.
    var aheadBatches = 4
    /// The import is a command of its own: it may take a database no other process has open
    /// alone (``RosterStore/applyStream(connection:runID:limit:alone:now:_:)``).
    var alone = false

    func run(
        zipAt url: URL, connection: ConnectionSettings, dryRun: Bool = false, progress: @escaping @Sendable (RosterProgress) -> Void
    ) throws -> RosterReport {
        let reader = try OneRosterCSVReader(zipAt: url, limits: limits)
        let manifest = reader.manifest
        let mode = RosterCollection.cached.contains { manifest.mode(of: $0.rawValue) == .bulk } ? "full" : "delta"
        let producer = Producer(reader: reader, batchSize: batchSize, capacity: aheadBatches)
        func feed(_ sink: RosterImportSink) throws {
            var read: [RosterCollection: Int] = [:]
            try producer.consume { batch in
                try Self.store(batch, sink)
                if let collection = batch.progressCollection {
                    read[collection, default: 0] += batch.count
                    progress(RosterProgress(collection: collection, read: read[collection] ?? 0, total: nil))
                }
            }
        }
        func warnings() -> [String] {
            var warnings = producer.reader.warnings
            for file in ["demographics", "lineItems", "results"] where manifest.mode(of: file) != .absent {
                warnings.append(
                    "\(file).csv was not imported: Passback does not cache \(file == "demographics" ? "demographics" : "gradebook data from the SIS")")
            }
            return warnings
        }
        if dryRun {
            let preview = try store.previewStream(connection: connection, limit: deletionLimit, at: clock.now, feed)
            return RosterReport(
                runID: 0, source: "csv", mode: mode, counts: preview.counts, rejects: preview.rejects, warnings: warnings(), resumed: false,
                dryRun: true, deletions: preview.deletions)
        }
        try store.saveConnection(connection, at: clock.now)
        // A run a killed import left `running` is failed now, as a REST pull does (a CSV import
        // writes in one transaction, so such a run wrote nothing).
        _ = try store.failAbandonedRuns(connection: connection.id, at: clock.now)
        let runID = try store.startRun(connection: connection.id, source: "csv", mode: mode, at: clock.now)
        do {
            let counts = try store.applyStream(connection: connection.id, runID: runID, limit: deletionLimit, alone: alone, now: { clock.now }, feed)
            try store.finishRun(runID, succeeded: true, counts: counts, error: nil, at: clock.now)
            return RosterReport(
                runID: runID, source: "csv", mode: mode, counts: counts, rejects: try store.rejects(runID: runID), warnings: warnings(), resumed: false)
        } catch {
            try? store.finishRun(runID, succeeded: false, counts: [:], error: "\(error)", at: clock.now)
            throw error
        }
    }

    static func rejects(_ issues: [CSVRowIssue], _ collection: RosterCollection) -> [RosterReject] {
        issues.map { issue in
            RosterReject(
                collection: RosterImporter.collection(ofFile: issue.file) ?? collection, sourcedId: issue.sourcedId,
                location: "\(issue.file) line \(issue.line)" + (issue.column.map { ", column \($0)" } ?? ""), reason: issue.message)
        }
    }

    /// One batch read and mapped, ready for the transaction.
    struct MappedBatch {
        var collection: RosterCollection
        /// Rows refused before the store: by the reader (with their file and line) or by the mapping.
        var rejects: [RosterReject]
        var rows: [RosterRow]
        /// `lines[i]` is the line of `rows[i]` in its file.
        var lines: [Int]
        var bulk: Bool
        /// Records and issues read, for the progress line; nil for a file that is only checked (demographics).
        var progressCollection: RosterCollection?
        var count: Int

        /// Gives each row that has none its fingerprint. Taken by whichever of the two threads
        /// has time: the reader when batches wait for the transaction (``Producer/put(_:)``),
        /// else the transaction's thread as the batch reaches it (``Producer/consume(_:)``).
        mutating func takeFingerprints() {
            for i in rows.indices where rows[i].header.fingerprint.isEmpty {
                rows[i].header.fingerprint = RosterMapping.fingerprint(rows[i])
            }
        }
    }

    /// Maps one batch: the rows the reader or the 1.1 model refused become rejects with their
    /// file and line, the others rows to upsert.
    static func map<T: OneRosterObject>(
        _ file: CSVFileContents<T>, _ collection: RosterCollection,
        _ map: (T) throws(RosterMapping.Refusal) -> RosterRow
    ) -> MappedBatch {
        let name = "\(collection.rawValue).csv"
        let issues = rejects(file.issues, collection)
        let (rows, refused) = RosterMapping.rows(
            file.records, collection: collection, fingerprints: false,
            location: { "\(name) line \(file.line(ofRecordAt: $0))" }, map: map)
        var lines: [Int] = []
        lines.reserveCapacity(rows.count)
        var refusedIDs = Set(refused.compactMap(\.sourcedId))
        for (i, r) in file.records.enumerated() where refusedIDs.isEmpty || refusedIDs.remove(r.sourcedId) == nil {
            lines.append(file.line(ofRecordAt: i))
        }
        return MappedBatch(
            collection: collection, rejects: issues + refused, rows: rows, lines: lines, bulk: file.mode == .bulk,
            progressCollection: collection, count: file.records.count + file.issues.count)
    }

    /// Maps a batch of a file that is read and checked but not cached (demographics): its bad
    /// rows are still reported, under its own collection.
    static func checked<T: OneRosterObject>(_ file: CSVFileContents<T>, _ collection: RosterCollection) -> MappedBatch {
        MappedBatch(
            collection: collection, rejects: rejects(file.issues, collection), rows: [], lines: [], bulk: false,
            progressCollection: nil, count: 0)
    }

    /// Stores one mapped batch: its rejects, then its rows (fingerprinted, ``MappedBatch/takeFingerprints()``).
    static func store(_ batch: MappedBatch, _ sink: RosterImportSink) throws {
        try sink.reject(batch.rejects)
        guard batch.progressCollection != nil else { return }
        let name = "\(batch.collection.rawValue).csv"
        try sink.apply(batch.rows, collection: batch.collection, bulk: batch.bulk) { "\(name) line \(batch.lines[$0])" }
    }

    /// Reads and maps the zip on a thread of its own, handing mapped batches to the
    /// transaction through a queue of bounded length (so memory stays bounded: the reader waits
    /// while the queue is full). An error on either side stops both: the reader's is thrown by
    /// ``consume(_:)`` as it was, and when the transaction stops, the reader is stopped and
    /// waited for before ``consume(_:)`` returns.
    final class Producer: @unchecked Sendable {
        /// The reader; read from the thread only while it runs, then (its warnings) by the caller.
        private(set) var reader: OneRosterCSVReader
        private let batchSize: Int
        private let capacity: Int
        private let condition = NSCondition()
        /// Batches read and not yet taken, from `head` on; a taken slot is emptied at once, so a
        /// batch is freed as soon as the transaction has it (only `capacity` wait at a time).
        private var queue: [MappedBatch?] = []
        private var head = 0
        /// The reader is done: nil while it runs, then how it ended.
        private var outcome: Result<Void, any Error>?
        /// The transaction stopped: the reader gives up at its next batch.
        private var stopped = false
        /// Batches the reader handed over so far.
        private(set) var batchesRead = 0

        /// Whether the reader has ended (read everything, failed, or stopped).
        var readerEnded: Bool {
            condition.lock()
            defer { condition.unlock() }
            return outcome != nil
        }

        struct Stopped: Error {}

        init(reader: OneRosterCSVReader, batchSize: Int, capacity: Int) {
            self.reader = reader
            self.batchSize = batchSize
            self.capacity = max(1, capacity)
        }

        /// Runs the reader and passes each mapped batch to `body`, in order, on the calling thread.
        func consume(_ body: (MappedBatch) throws -> Void) throws {
            let thread = Thread { [self] in read() }
            thread.stackSize = 8 << 20
            thread.name = "passback csv reader"
            thread.start()
            do {
                // The batch is this loop's own (its queue slot was emptied): fingerprinted in place.
                while var batch = try next() {
                    batch.takeFingerprints()
                    try body(batch)
                }
            } catch {
                stop()
                throw error
            }
        }

        private func read() {
            let result: Result<Void, any Error>
            do {
                try reader.readFiles(batchSize: batchSize) { batch in
                    switch batch {
                    case .orgs(let f): try put(RosterCSVImport.map(f, .orgs, RosterMapping.row))
                    case .academicSessions(let f): try put(RosterCSVImport.map(f, .academicSessions, RosterMapping.row))
                    case .courses(let f): try put(RosterCSVImport.map(f, .courses, RosterMapping.row))
                    case .classes(let f): try put(RosterCSVImport.map(f, .classes, RosterMapping.row))
                    case .users(let f): try put(RosterCSVImport.map(f, .users, RosterMapping.row))
                    case .enrollments(let f): try put(RosterCSVImport.map(f, .enrollments, RosterMapping.row))
                    case .categories(let f): try put(RosterCSVImport.map(f, .categories, RosterMapping.row))
                    // Not cached, but a bad row is still reported, under its own collection.
                    case .demographics(let f): try put(RosterCSVImport.checked(f, .demographics))
                    // Not imported at all: the run's warnings say the whole file was left out. Its
                    // reading still stops when the transaction has failed.
                    case .lineItems, .results: try checkStopped()
                    }
                }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            condition.lock()
            outcome = result
            condition.broadcast()
            condition.unlock()
        }

        private func checkStopped() throws {
            condition.lock()
            defer { condition.unlock() }
            if stopped { throw Stopped() }
        }

        private func put(_ batch: consuming MappedBatch) throws {
            // Batches already wait for the transaction: it is the slower side, so the reader,
            // which would only wait for room, takes the fingerprints.
            condition.lock()
            let behind = queue.count - head > 0
            condition.unlock()
            if behind { batch.takeFingerprints() }
            condition.lock()
            defer { condition.unlock() }
            while queue.count - head >= capacity && !stopped { condition.wait() }
            if stopped { throw Stopped() }
            if head > 64 {
                queue.removeFirst(head)
                head = 0
            }
            queue.append(batch)
            batchesRead += 1
            condition.broadcast()
        }

        /// The next batch; nil once the reader is done; the reader's error if it failed.
        private func next() throws -> MappedBatch? {
            condition.lock()
            defer { condition.unlock() }
            while head == queue.count && outcome == nil { condition.wait() }
            if head < queue.count, let batch = queue[head] {
                queue[head] = nil
                head += 1
                condition.broadcast()
                return batch
            }
            try outcome?.get()
            return nil
        }

        /// Stops the reader and waits until it has ended.
        private func stop() {
            condition.lock()
            defer { condition.unlock() }
            stopped = true
            queue = []
            head = 0
            condition.broadcast()
            while outcome == nil { condition.wait() }
        }
    }
}
