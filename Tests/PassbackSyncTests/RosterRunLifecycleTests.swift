import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import PassbackTesting
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

    @Test("a scheduled connection is pulled when its last pull started that long ago, sooner after a failed one; never twice at once")
    func scheduledPulls() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                var conn = settings(for: running)
                conn.settings.rosterRefreshMinutes = 24 * 60
                try store.saveConnection(conn.settings, at: clock.now)
                var unscheduled = conn
                unscheduled.settings.id = "manual"
                unscheduled.settings.rosterRefreshMinutes = 0
                try store.saveConnection(unscheduled.settings, at: clock.now)
                let runner = RosterRequestRunner(database: db, connections: ["district": conn, "manual": unscheduled], clock: clock)
                runner.pullMaxWait = 0

                // Never pulled: due at once; a connection without a schedule is never queued.
                let first = try runner.queueScheduledPulls()
                #expect(first.count == 1)
                #expect(try runner.queueScheduledPulls().isEmpty, "one pull queued at a time")
                #expect(try await runner.runNext() == first[0])
                let done = try #require(try store.request(first[0]))
                #expect(done.origin == .scheduled && done.state == .succeeded && done.requestedBy == nil && !done.full)

                clock.advance(by: 24 * 3600 - 60)
                #expect(try runner.queueScheduledPulls().isEmpty, "not due before the day is up")
                // Asking whether a pull is due takes no write lock: another process holding it
                // (as the worker or a mutation may, for longer than the busy timeout) does not
                // make the runner's look fail or wait.
                let busy = try PassbackDatabase(path: db.path, busyTimeout: 0.2)
                let other = try SQLiteShell(db.path)
                #expect(other.run(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';").contains("locked"))
                #expect(try RosterStore(busy).queueScheduledPull(connection: "district", every: 24 * 3600, retryAfterFailure: 1800, at: clock.now) == nil)
                other.quit()
                clock.advance(by: 60)
                let second = try runner.queueScheduledPulls()
                #expect(second.count == 1)

                // The SIS fails: the pull stops with its cause, shown as a failed scheduled pull.
                running.sandbox.faults.setRates(
                    {
                        var r = FaultRates(); r.unavailable = 1; return r
                    }())
                #expect(try await runner.runNext() == second[0])
                let stopped = try #require(try store.request(second[0]))
                #expect(stopped.state == .failed)
                #expect(stopped.error?.contains("the pull stopped") == true, "\(stopped.error ?? "")")
                let failed = try store.requests(connection: "district", states: [.failed], origins: [.scheduled], first: 10, after: nil)
                #expect(failed.page.items.map(\.id) == second)
                #expect(failed.total == 1)

                // Tried again after the retry wait, not a day later; and it resumes.
                clock.advance(by: RosterRequestRunner.retryAfterFailure - 60)
                #expect(try runner.queueScheduledPulls().isEmpty)
                clock.advance(by: 60)
                running.sandbox.faults.setRates(FaultRates())
                let third = try runner.queueScheduledPulls()
                #expect(third.count == 1)
                #expect(try await runner.runNext() == third[0])
                #expect(try store.request(third[0])?.state == .succeeded)

                // An admin's request already queued stands for the schedule's.
                clock.advance(by: 24 * 3600)
                let asked = try store.queueRequest(connection: "district", full: false, by: "admin-1", at: clock.now)
                #expect(try runner.queueScheduledPulls().isEmpty)
                #expect(try store.request(asked)?.origin == .requested)
                let all = try store.requests(connection: "district", states: [], origins: [], first: 2, after: nil)
                #expect(all.total == 4)
                #expect(all.page.items.map(\.id) == [asked, third[0]], "newest first")
                let rest = try store.requests(connection: "district", states: [], origins: [], first: 2, after: all.page.endCursor)
                #expect(rest.page.items.map(\.id) == [second[0], first[0]])
                #expect(!rest.page.hasNextPage)
                #expect(try store.requests(connection: "manual", states: [], origins: [], first: 10, after: nil).total == 0)
            }
        }
    }

    @Test("the running roster runner queues a due scheduled pull by itself and carries it out")
    func serviceQueuesScheduledPulls() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                var conn = settings(for: running)
                conn.settings.rosterRefreshMinutes = 60
                try store.saveConnection(conn.settings, at: clock.now)
                let runner = RosterRequestRunner(database: db, connections: ["district": conn], clock: clock, pollInterval: .milliseconds(20))
                let service = Task { try await runner.run() }
                defer { service.cancel() }
                let deadline = ContinuousClock.now + .seconds(90)
                var done: RosterRequest?
                while ContinuousClock.now < deadline {
                    if let r = try store.requests(connection: "district", states: [.succeeded], origins: [.scheduled], first: 1, after: nil).page.items.first {
                        done = r
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let seen = try store.requests(connection: "district", states: [], origins: [], first: 5, after: nil).page.items
                #expect(done?.run?.counts["users"]?.created == running.sandbox.data.count(.users), "\(seen)")
            }
        }
    }

    @Test(
        "the schedule's timing after trouble: a pull a killed process left running is retried after the wait, a failed one counts from its end; an admin's ask makes a waiting scheduled pull theirs"
    )
    func scheduleAfterTrouble() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            try store.saveConnection(ConnectionSettings(id: "district", baseURL: URL(string: "https://sis.invalid/")!, auth: .none), at: clock.now)
            let day: TimeInterval = 24 * 3600, wait = RosterRequestRunner.retryAfterFailure
            // A pull a killed process left `running`: not a day later, but after the retry wait.
            _ = try store.startRun(connection: "district", source: "rest", mode: "delta", at: clock.now)
            clock.advance(by: wait - 1)
            #expect(try store.queueScheduledPull(connection: "district", every: day, retryAfterFailure: wait, at: clock.now) == nil)
            clock.advance(by: 1)
            let retried = try #require(try store.queueScheduledPull(connection: "district", every: day, retryAfterFailure: wait, at: clock.now))
            // An admin asking while it waits makes it theirs.
            #expect(try store.queueRequest(connection: "district", full: true, by: "admin-1", at: clock.now) == retried)
            let merged = try #require(try store.request(retried))
            #expect(merged.origin == .requested && merged.requestedBy == "admin-1" && merged.full)
            // A pull that failed after running 40 minutes is retried 30 minutes after it ended, not at once.
            let run = try #require(try store.startRun(for: retried, full: true, connection: "district", source: "rest", mode: "full", at: clock.now))
            clock.advance(by: 40 * 60)
            try store.finishRun(run, succeeded: false, counts: [:], error: "the SIS kept failing", at: clock.now)
            clock.advance(by: wait - 1)
            #expect(try store.queueScheduledPull(connection: "district", every: day, retryAfterFailure: wait, at: clock.now) == nil)
            clock.advance(by: 1)
            #expect(try store.queueScheduledPull(connection: "district", every: day, retryAfterFailure: wait, at: clock.now) != nil)
        }
    }
}
