import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Synchronization
import Testing

/// Waits of a pull, on the test's manual clock: each wait is recorded and moves the clock, so
/// a pull that obeys a `Retry-After` of a second takes no real second.
final class RecordedWaits: Sendable {
    let clock: ManualWallClock
    private let waits = Mutex<[TimeInterval]>([])
    init(clock: ManualWallClock) { self.clock = clock }
    var all: [TimeInterval] { waits.withLock { $0 } }

    func retry(maxWait: TimeInterval = 300) -> RosterPullRetry {
        var retry = RosterPullRetry()
        retry.maxWait = maxWait
        retry.random = { 0.5 }
        retry.sleep = { [self] seconds in
            waits.withLock { $0.append(seconds) }
            clock.advance(by: seconds)
        }
        return retry
    }
}

@Suite("A rate-limited or failing SIS during a REST pull")
struct RosterPullRetryTests {
    static var fifteenPercent: FaultRates {
        var rates = FaultRates()
        rates.tooManyRequests = 0.05
        rates.rateLimit403 = 0.05
        rates.unavailable = 0.05
        rates.retryAfterSeconds = 1
        return rates
    }

    @Test("at 15 % faults (429, 403 rate limit, 503, each with Retry-After) a full pull finishes in one run, nothing doubled")
    func finishesInOneRun() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.faults = Self.fifteenPercent }, clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running, pageSize: 10)
                let waits = RecordedWaits(clock: clock)
                var importer = RosterImporter(store: store, clock: clock)
                importer.pullRetry = waits.retry()
                let report = try await importer.pull(connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
                let injected = running.sandbox.faults.injectedCounts
                #expect(injected.values.reduce(0, +) >= 5, "the sandbox failed requests: \(injected)")
                #expect(waits.all.count == injected.values.reduce(0, +), "one wait per fault")
                #expect(waits.all.allSatisfy { $0 == 1 }, "each wait is the SIS's Retry-After: \(waits.all)")
                #expect(!report.resumed)
                #expect(try store.run(report.runID)?.state == "succeeded")
                try expectCacheMatches(store, running.sandbox.data)
                #expect(
                    report.total.created
                        == RecordKind.allCases.filter { ![.demographics, .lineItems, .results].contains($0) }
                        .map { running.sandbox.data.count($0) }.reduce(0, +), "every record once")
            }
        }
    }

    @Test("a SIS that keeps failing stops the pull after roster.maxWaitSeconds with its cause; the next run resumes there")
    func stopsAfterMaxWaitAndResumes() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running, pageSize: 25)
                let waits = RecordedWaits(clock: clock)
                var importer = RosterImporter(store: store, clock: clock)
                importer.pullRetry = waits.retry(maxWait: 60)
                // The SIS goes down (500, no Retry-After, so the backoff grows) once users are being read.
                let down = {
                    var r = FaultRates(); r.serverError = 1; return r
                }()
                let faults = running.sandbox.faults
                let client = ClientFactory.client(for: conn, clock: clock)
                let error = await #expect(throws: RosterPullError.self) {
                    _ = try await importer.pull(connection: conn.settings, client: client, progress: { if $0.collection == .users { faults.setRates(down) } })
                }
                #expect(error?.kind == .sisUnavailable)
                #expect(error?.cause.httpStatus == 500)
                #expect(error?.description.contains("the next run resumes") == true, "\(error?.description ?? "")")
                #expect(waits.all.reduce(0, +) <= 60, "waited at most the configured time: \(waits.all)")
                #expect(waits.all.count >= 3, "backed off several times before stopping: \(waits.all)")
                #expect(zip(waits.all, waits.all.dropFirst()).allSatisfy { $0 < $1 }, "the backoff grows: \(waits.all)")
                let run = try #require(try store.run(1))
                #expect(run.state == "failed")
                #expect(run.error?.contains("kept failing") == true, "\(run.error ?? "")")
                #expect(try store.cursor(connection: "district", collection: .users).activeOffset > 0, "users stopped midway and knows where")

                running.sandbox.faults.setRates(FaultRates())
                let report = try await importer.pull(connection: conn.settings, client: client)
                #expect(report.resumed)
                try expectCacheMatches(store, running.sandbox.data)
            }
        }
    }

    @Test("refused credentials are not retried, and the message names the keys to fix instead of 'run this again'")
    func credentialsRefused() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                var conn = settings(for: running)
                conn.secret = "not-the-secret"
                conn.settings.secretVariable = "CONNECTION_DISTRICT_CLIENT_SECRET"
                let waits = RecordedWaits(clock: clock)
                var importer = RosterImporter(store: store, clock: clock)
                importer.pullRetry = waits.retry()
                let error = await #expect(throws: RosterPullError.self) {
                    _ = try await importer.pull(connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
                }
                #expect(error?.kind == .credentialsRefused)
                #expect(waits.all.isEmpty, "not retried")
                let text = error?.description ?? ""
                #expect(text.contains("CONNECTION_DISTRICT_CLIENT_SECRET"), "\(text)")
                #expect(text.contains("connection.district.clientId"), "\(text)")
                #expect(!text.contains("run this again"))
            }
        }
    }
}
