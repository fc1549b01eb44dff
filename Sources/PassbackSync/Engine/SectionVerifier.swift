import Foundation
import Logging
import OneRoster
import PassbackCore
import PassbackStore

/// The drift check: re-reads the SIS objects of a section that Passback believes in step (the
/// SIS accepted exactly the content there is now) and compares the fields Passback owns. What was
/// edited by hand in the SIS since the last sync, or not stored as sent, is recorded as
/// `SIS_DIFFERS`: the item shows `UPDATES_AVAILABLE` with that problem, and the next Sync Changes
/// writes exactly those objects again. Objects already out of step are left out: Sync Changes
/// rewrites them anyway.
///
/// Reads go under the connection's rate limit with a bounded number in flight; a section of
/// 40 lineItems and 1,200 results is about 1,240 GETs, 41 s at 1,800 requests a minute.
public struct SectionVerifier: Sendable {
    let engine: EngineStore
    let clock: any WallClock
    let logger: Logger

    public init(database: PassbackDatabase, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "passback.verify")) {
        engine = EngineStore(database)
        self.clock = clock
        self.logger = logger
    }

    /// What a check found.
    public struct Report: Sendable, Hashable {
        /// Objects read back.
        public var checked = 0
        /// Objects the SIS holds otherwise, recorded as `SIS_DIFFERS`.
        public var differing: [Problem] = []
        /// Reads that failed (nothing recorded for those objects), with the first error.
        public var unreadable = 0
        public var firstError: String?
    }

    /// The objects a check of this section reads: every in-step lineItem and result of its live,
    /// synced materials, as the writes that made them (their payloads are what was sent).
    public func objects(classID: Int64) throws -> (connection: String, objects: [(spec: JobSpec, materialID: Int64)]) {
        guard let s = try engine.sectionSnapshot(classID: classID) else {
            throw SyncPlanner.Failure(description: "the section is not linked to an LMS course, so Passback wrote nothing to it")
        }
        let section = s.sectionInfo
        var out: [(spec: JobSpec, materialID: Int64)] = []
        for m in s.materials where m.syncToSIS && !m.deleted {
            let e = s.evaluate(m, section: section)
            var inStep: Set<SISObjectKey> = []
            if s.sisObjects[e.lineItem.key]?.accepted == e.lineItem.fingerprint { inStep.insert(e.lineItem.key) }
            for r in e.results where s.sisObjects[r.key]?.accepted == r.fingerprint { inStep.insert(r.key) }
            guard !inStep.isEmpty else { continue }
            for spec in SyncPlanner.writes(e, section: s, only: inStep) { out.append((spec, m.id)) }
        }
        return (s.connectionID, out)
    }

    /// Checks a section against its SIS: `concurrency` reads in flight, at most `requestsPerMinute`.
    public func verify(classID: Int64, client: OneRosterClient, requestsPerMinute: Int, concurrency: Int) async throws -> Report {
        let (connection, objects) = try objects(classID: classID)
        let limiter = RateLimiter(requestsPerMinute: requestsPerMinute)
        var report = Report()
        var findings: [DriftFinding] = []
        enum Outcome: Sendable {
            case same
            case differs(DriftFinding)
            case failed(String)
        }
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var next = objects.makeIterator()
            func add(_ o: (spec: JobSpec, materialID: Int64)) {
                group.addTask {
                    try await limiter.acquire()
                    do {
                        guard let d = try await SISReadBack.check(kind: o.spec.kind, sourcedId: o.spec.targetSourcedId, payload: o.spec.payload, client: client)
                        else { return .same }
                        guard let kind = EngineStore.objectKind(o.spec.kind) else { return .same }
                        return .differs(DriftFinding(kind: kind, sourcedId: o.spec.targetSourcedId, expectedFingerprint: o.spec.fingerprint, difference: d))
                    } catch let e as OneRosterError {
                        return .failed(e.message)
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        return .failed("\(error)")
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { if let o = next.next() { add(o) } }
            while let outcome = try await group.next() {
                report.checked += 1
                switch outcome {
                case .same: break
                case .differs(let f): findings.append(f)
                case .failed(let message):
                    report.unreadable += 1
                    report.firstError = report.firstError ?? message
                }
                if let o = next.next() { add(o) }
            }
        }
        try engine.recordDrift(connection: connection, classID: classID, findings, at: clock.now)
        report.differing = findings.map(\.difference.problem)
        if !findings.isEmpty {
            logger.notice("connection \(connection): \(findings.count) object(s) of the section differ in the SIS; Sync Changes rewrites them")
        }
        return report
    }
}
