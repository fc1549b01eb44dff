import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@Suite("Roster runs: queued requests and abandoned runs")
struct RosterRunLifecycleTests {
    @Test("a request left queued by a stopped process is carried out at the next start, its run linked to it")
    func queuedRequestRunsAtStart() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                try store.saveConnection(conn.settings, at: clock.now)
                let id = try store.queueRequest(connection: "district", full: false, by: "admin-1", at: clock.now)
                #expect(try store.request(id)?.state == .queued)
                #expect(try store.queueRequest(connection: "district", full: true, by: "admin-2", at: clock.now) == id, "a second ask joins the queued one")

                let runner = RosterRequestRunner(database: db, connections: ["district": conn], clock: clock)
                #expect(try await runner.runNext() == id)
                let done = try #require(try store.request(id))
                #expect(done.state == .succeeded)
                #expect(done.full)
                #expect(done.requestedBy == "admin-1")
                let run = try #require(done.run)
                #expect(run.mode == "full")
                #expect(run.counts["users"]?.created == running.sandbox.data.count(.users))
                #expect(try await runner.runNext() == nil, "nothing is left queued")
            }
        }
    }

    @Test("a request made full after the runner read it is not started as the delta it read; it starts as it is now")
    func upgradedWhileRead() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            try store.saveConnection(ConnectionSettings(id: "district", baseURL: URL(string: "https://sis.invalid/")!, auth: .none), at: clock.now)
            let id = try store.queueRequest(connection: "district", full: false, by: nil, at: clock.now)
            let read = try #require(try store.nextQueuedRequest())
            #expect(!read.full)
            // An admin asks for a full pull between the runner's read and its start.
            #expect(try store.queueRequest(connection: "district", full: true, by: nil, at: clock.now) == id)
            #expect(try store.startRun(for: id, full: read.full, connection: "district", source: "rest", mode: "delta", at: clock.now) == nil)
            #expect(try store.request(id)?.state == .queued, "still queued, for the next look at the queue")
            #expect(try store.startRun(for: id, full: true, connection: "district", source: "rest", mode: "full", at: clock.now) != nil)
        }
    }

    @Test("a request whose connection is no longer configured fails with that reason and does not block the queue")
    func unconfiguredConnection() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            try store.saveConnection(ConnectionSettings(id: "gone", baseURL: URL(string: "https://sis.invalid/")!, auth: .none), at: clock.now)
            let id = try store.queueRequest(connection: "gone", full: false, by: nil, at: clock.now)
            let runner = RosterRequestRunner(database: db, connections: [:], clock: clock)
            #expect(try await runner.runNext() == id)
            let refused = try #require(try store.request(id))
            #expect(refused.state == .failed)
            #expect(refused.error == "connection 'gone' is no longer configured on this server")
            #expect(try await runner.runNext() == nil)
        }
    }

    @Test("a CSV import killed mid-write leaves no run running: the next import marks it failed")
    func abandonedCSVRun() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let connection = ConnectionSettings(id: "district", baseURL: URL(string: "file:///csv")!, auth: .none)
            try store.saveConnection(connection, at: clock.now)
            // What a process killed inside its import leaves: the run row, never finished (the
            // import's one transaction rolled back with the process).
            let killed = try store.startRun(connection: "district", source: "csv", mode: "full", at: clock.now)
            let zip = try RosterCSVTests.export(Sandbox(configuration: SandboxConfiguration(), clock: clock).data, mode: .bulk)
            defer { try? FileManager.default.removeItem(at: zip) }
            clock.advance(by: 60)
            let report = try RosterImporter(store: store, clock: clock).importCSV(at: zip, connection: connection)
            let abandoned = try #require(try store.run(killed))
            #expect(abandoned.state == "failed")
            #expect(abandoned.error == "interrupted")
            #expect(abandoned.finishedAt == clock.now)
            #expect(try store.run(report.runID)?.state == "succeeded")
        }
    }
}
