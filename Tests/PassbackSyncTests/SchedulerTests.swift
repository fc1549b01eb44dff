import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@Suite("Scheduled syncs over a simulated week")
struct SchedulerTests {
    @Test("changes take effect after 24 hours, runs start inside their three-hour window once, and an edit during a run goes to the next one")
    func simulatedWeek() async throws {
        // Sunday 22 November 2026, 17:30 UTC (11:30 in Chicago).
        let clock = ManualWallClock(DateTime.parse("2026-11-22T17:30:00Z")!)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: clock) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 3, clock: clock)
                let scheduler = SyncScheduler(database: db, planner: f.planner(), clock: clock)
                let store = ScheduleStore(db)
                let chicago = "America/Chicago"
                // Monday 12:00 in Chicago (18:00 UTC), saved 24.5 hours before that window opens.
                try store.saveTeacherSchedule(
                    WeeklySchedule(weekday: 2, startMinute: 12 * 60, timeZone: chicago), classIDs: [f.classID], teacher: "t", at: clock.now)

                var runs: [(at: Date, id: Int64)] = []
                var editedDuringRun = false
                let end = clock.now.addingTimeInterval(8 * 86_400)
                while clock.now < end {
                    let now = clock.now
                    if now == DateTime.parse("2026-11-24T12:00:00Z")! {
                        // Tuesday: move it to Wednesday 12:00 Chicago; in force from Wednesday 12:00 UTC.
                        try store.saveTeacherSchedule(
                            WeeklySchedule(weekday: 4, startMinute: 12 * 60, timeZone: chicago), classIDs: [f.classID], teacher: "t", at: now)
                    }
                    if now == DateTime.parse("2026-11-25T00:00:00Z")! {
                        // Wednesday 00:00 UTC: a change to Friday, saved less than 24 hours before Wednesday's window, must not stop it.
                        try store.saveTeacherSchedule(
                            WeeklySchedule(weekday: 6, startMinute: 12 * 60, timeZone: chicago), classIDs: [f.classID], teacher: "t", at: now)
                    }
                    for id in try scheduler.tick() {
                        runs.append((now, id))
                        #expect(try scheduler.tick().isEmpty, "a second tick in the same window starts nothing")
                        if !editedDuringRun {
                            // A teacher edits a grade while the run is sending.
                            try f.lms.recordGrade(
                                materialID: f.materialID(1), studentSourcedId: f.students[2], score: 17, exception: nil, comment: nil, at: now)
                            editedDuringRun = true
                        }
                        try await f.worker().drain()
                    }
                    clock.advance(by: 10 * 60)
                }
                let windows: [(String, String)] = [
                    ("2026-11-23T18:00:00Z", "2026-11-23T21:00:00Z"), ("2026-11-25T18:00:00Z", "2026-11-25T21:00:00Z"),
                    ("2026-11-27T18:00:00Z", "2026-11-27T21:00:00Z")
                ]
                #expect(runs.count == 3, "Monday, Wednesday and Friday: \(runs.map { DateTime.format($0.at) })")
                for (run, window) in zip(runs, windows) {
                    #expect(run.at >= DateTime.parse(window.0)!)
                    #expect(run.at < DateTime.parse(window.1)!, "inside the three-hour window")
                    let planned = ScheduleRules.plannedStart(in: DateInterval(start: DateTime.parse(window.0)!, duration: ScheduleRules.window), key: f.section)
                    #expect(run.at >= planned && run.at < planned.addingTimeInterval(600), "at the first tick after its planned start")
                    #expect(try f.engine.run(run.id)?.trigger == .scheduled)
                    #expect(try f.engine.run(run.id)?.startedBy == "scheduler")
                }
                guard runs.count == 3 else { return }
                #expect(try f.engine.run(runs[0].id)?.itemsSent == 3)
                // The edit made during Monday's run was not in it; Wednesday's run sends exactly that item.
                #expect(try f.engine.run(runs[1].id)?.itemsSent == 1)
                #expect(try f.engine.run(runs[2].id)?.itemsSent == 0)
                #expect(try f.engine.run(runs[2].id)?.itemsSkipped == 3)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
            }
        }
    }

    @Test("an org's default schedule runs sections that have none of their own")
    func orgDefault() async throws {
        let clock = ManualWallClock(DateTime.parse("2026-11-22T17:30:00Z")!)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: clock) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2, clock: clock)
                let district = try #require(running.sandbox.data.all(.orgs).first { $0["type"] == "district" })["sourcedId"]!.stringValue!
                let store = ScheduleStore(db)
                // Tuesday 00:00 UTC: the first window after the 24-hour delay.
                try store.saveDefaultSchedule(
                    WeeklySchedule(weekday: 3, startMinute: 0, timeZone: "UTC"), connection: "district", org: district,
                    savedBy: "admin", at: clock.now)
                #expect(try store.scheduledSections().map(\.classID) == [f.classID])
                let scheduler = SyncScheduler(database: db, planner: f.planner(), clock: clock)
                var started: [Int64] = []
                for _ in 0..<(2 * 24 * 6) {
                    started += try scheduler.tick()
                    clock.advance(by: 600)
                }
                #expect(started.count == 1)
                // The teacher's own schedule, once saved, replaces the default for that section.
                try store.saveTeacherSchedule(nil, classIDs: [f.classID], teacher: "t", at: clock.now)
                clock.advance(by: 7 * 86_400)
                #expect(try scheduler.tick().isEmpty)
            }
        }
    }

    @Test("a window claimed by a process that died before starting its run is taken again a few minutes later")
    func staleClaim() async throws {
        let clock = ManualWallClock(DateTime.parse("2026-11-22T17:30:00Z")!)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: clock) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1, clock: clock)
                let store = ScheduleStore(db)
                try store.saveTeacherSchedule(
                    WeeklySchedule(weekday: 2, startMinute: 12 * 60, timeZone: "America/Chicago"), classIDs: [f.classID],
                    teacher: "t", at: clock.now)
                clock.set(DateTime.parse("2026-11-23T18:00:00Z")!)
                let window = try #require(ScheduleRules.window(try store.scheduledSections()[0].versions, containing: clock.now))
                // A process claims the window and dies before the run starts.
                #expect(try store.claimWindow(classID: f.classID, windowStart: window.start, at: clock.now))
                #expect(try !store.claimWindow(classID: f.classID, windowStart: window.start, at: clock.now.addingTimeInterval(60)))
                clock.set(ScheduleRules.plannedStart(in: window, key: f.section).addingTimeInterval(ScheduleStore.staleClaim + 1))
                let scheduler = SyncScheduler(database: db, planner: f.planner(), clock: clock)
                #expect(try scheduler.tick().count == 1, "the stale claim was taken again and the run started")
                #expect(try scheduler.tick().isEmpty)
            }
        }
    }

    @Test("\"use this schedule for all my existing courses\" covers every active section the teacher teaches, and only those")
    func allMyCourses() async throws {
        let clock = ManualWallClock(DateTime.parse("2026-11-22T17:30:00Z")!)
        try await withDatabase { db in
            try await withRunningSandbox(
                { $0.plan = DistrictPlan(schools: 1, students: 90, classes: 6, studentsPerClass: 15, classesPerTeacher: 3) },
                clock: clock
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1, clock: clock)
                let data = running.sandbox.data
                let teacher = try #require(
                    data.all(.enrollments).first { $0["role"] == "teacher" && $0["class"]?.objectValue?["sourcedId"]?.stringValue == f.section })?["user"]?
                    .objectValue?["sourcedId"]?.stringValue
                let theirs = data.all(.enrollments).filter { $0["role"] == "teacher" && $0["user"]?.objectValue?["sourcedId"]?.stringValue == teacher }
                    .compactMap { $0["class"]?.objectValue?["sourcedId"]?.stringValue }
                #expect(theirs.count == 3)
                // Link every section of the district to an LMS course; the teacher teaches three of them.
                for (i, cls) in data.all(.classes).compactMap({ $0["sourcedId"]?.stringValue }).enumerated() where cls != f.section {
                    try f.lms.upsertCourse(connection: "district", lmsID: "course-\(i)", title: "Course \(i)", sectionSourcedIds: [cls], at: clock.now)
                }
                let store = ScheduleStore(db)
                let saved = try store.saveTeacherScheduleForAllCourses(
                    WeeklySchedule(weekday: 3, startMinute: 600, timeZone: "UTC"), connection: "district",
                    teacher: try #require(teacher), at: clock.now)
                let expected = try theirs.map { try #require(try f.lms.classID(connection: "district", sourcedId: $0)) }.sorted()
                #expect(saved == expected)
                #expect(try store.scheduledSections().map(\.classID).sorted() == expected)
            }
        }
    }
}
