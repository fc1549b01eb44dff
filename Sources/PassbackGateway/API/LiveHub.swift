import Foundation
import PassbackStore

/// Reads changes for every open subscription with one poller.
///
/// The worker may run in another process (`passback worker`), so the database is where
/// changes are seen. But they are read once per tick for all streams (one query for the
/// watched sections' items, one for the watched runs, one for the changed materials), not once
/// per stream; with no stream open there is no tick at all. A stream whose consumer has gone
/// is removed when its `onTermination` runs.
final class LiveHub: @unchecked Sendable {
    typealias MaterialEvent = SubscriptionResolvers.MaterialEvent

    private struct SectionWatch {
        var classID: Int64
        var last: [Int64: String]
        var continuation: AsyncThrowingStream<MaterialEvent, any Error>.Continuation
    }

    private struct RunWatch {
        var id: Int64
        var last: SyncRunRecord
        var continuation: AsyncThrowingStream<SyncRunRecord, any Error>.Continuation
    }

    private let lock = NSLock()
    private var sections: [Int: SectionWatch] = [:]
    private var runs: [Int: RunWatch] = [:]
    private var nextKey = 0
    private var polling = false
    private let reads: APIReads
    let interval: Duration

    init(reads: APIReads, interval: Duration = .milliseconds(250)) {
        self.reads = reads
        self.interval = interval
    }

    /// Streams open now (for tests and metrics).
    var watchers: Int { lock.withLock { sections.count + runs.count } }

    /// Each material of the section whose status (or its details) changes from now on.
    func statusChanges(_ classID: Int64) throws -> AsyncThrowingStream<MaterialEvent, any Error> {
        let initial = try reads.itemStates(classID: classID)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: MaterialEvent.self, bufferingPolicy: .bufferingNewest(Self.buffered))
        let key = newKey()
        // Set before the watch is added, so a stream that ends at once is still removed.
        continuation.onTermination = { [weak self] _ in self?.remove(key) }
        add(key) { hub in hub.sections[key] = SectionWatch(classID: classID, last: initial, continuation: continuation) }
        return stream
    }

    /// Events kept for a consumer that reads slowly; older ones are dropped.
    static let buffered = 256

    /// The run now, then each time it changes; ends after it finishes.
    func runUpdates(_ run: SyncRunRecord) -> AsyncThrowingStream<SyncRunRecord, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: SyncRunRecord.self, bufferingPolicy: .bufferingNewest(Self.buffered))
        continuation.yield(run)
        if run.finishedAt != nil {
            continuation.finish()
            return stream
        }
        let key = newKey()
        continuation.onTermination = { [weak self] _ in self?.remove(key) }
        add(key) { hub in hub.runs[key] = RunWatch(id: run.id, last: run, continuation: continuation) }
        return stream
    }

    private func newKey() -> Int {
        lock.withLock {
            nextKey += 1
            return nextKey
        }
    }

    private func add(_ key: Int, _ add: (LiveHub) -> Void) {
        let start = lock.withLock {
            add(self)
            let start = !polling
            polling = true
            return start
        }
        if start { Task { await self.poll() } }
    }

    private func remove(_ key: Int) {
        lock.withLock {
            sections[key] = nil
            runs[key] = nil
        }
    }

    private func poll() async {
        while true {
            try? await Task.sleep(for: interval)
            let (watchedSections, watchedRuns) = lock.withLock { () -> ([Int: SectionWatch], [Int: RunWatch]) in
                if sections.isEmpty, runs.isEmpty { polling = false }
                return (sections, runs)
            }
            if watchedSections.isEmpty, watchedRuns.isEmpty { return }
            tick(watchedSections, watchedRuns)
        }
    }

    private func tick(_ watchedSections: [Int: SectionWatch], _ watchedRuns: [Int: RunWatch]) {
        do {
            if !watchedSections.isEmpty {
                let states = try reads.itemStates(classIDs: Array(Set(watchedSections.values.map(\.classID))))
                var changes: [Int: [Int64]] = [:]
                for (key, watch) in watchedSections {
                    let now = states[watch.classID] ?? [:]
                    let changed = now.filter { watch.last[$0.key] != $0.value }.map(\.key).sorted()
                    guard !changed.isEmpty else { continue }
                    changes[key] = changed
                    lock.withLock { sections[key]?.last = now }
                }
                if !changes.isEmpty {
                    let keys = changes.flatMap { key, ids in ids.map { ($0, watchedSections[key]!.classID) } }
                    let rows = try reads.materials(keys)
                    for (key, ids) in changes {
                        let watch = watchedSections[key]!
                        for id in ids {
                            if let row = rows[MaterialKey(materialID: id, classID: watch.classID)],
                                case .terminated = watch.continuation.yield(MaterialEvent(row: row, classID: watch.classID))
                            {
                                remove(key)
                            }
                        }
                    }
                }
            }
            if !watchedRuns.isEmpty {
                let now = try reads.runs(ids: Array(Set(watchedRuns.values.map(\.id))))
                for (key, watch) in watchedRuns {
                    guard let run = now[watch.id], run != watch.last else { continue }
                    lock.withLock { runs[key]?.last = run }
                    if case .terminated = watch.continuation.yield(run) { remove(key) }
                    if run.finishedAt != nil { watch.continuation.finish() }
                }
            }
        } catch  where PassbackDatabase.isBusy(error) {
            // Another process holds the database for a moment: the next tick reads it again.
            return
        } catch {
            for watch in watchedSections.values { watch.continuation.finish(throwing: error) }
            for watch in watchedRuns.values { watch.continuation.finish(throwing: error) }
        }
    }
}
