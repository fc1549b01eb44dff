import Foundation
import OneRosterModels
import Testing

@testable import PassbackCore

/// A day of the calendar from its `YYYY-MM-DD` text (a test's literal: a typo stops the test).
func day(_ text: String) -> CalendarDate {
    guard let day = CalendarDate(text) else { fatalError("bad test day \(text)") }
    return day
}

/// An instant from `2026-03-08T07:30:00Z` (seconds optional).
func utc(_ text: String) -> Date {
    let full = text.count == 17 ? String(text.dropLast()) + ":00Z" : text
    guard let date = Timestamp.date(String(full.dropLast()) + ".000Z") else { fatalError("bad test date \(text)") }
    return date
}

@Suite("Schedules")
struct ScheduleTests {
    static let sunday = 1, monday = 2, tuesday = 3, saturday = 7

    static let validityTable: [(WeeklySchedule, Bool)] = [
        (WeeklySchedule(weekday: 1, startMinute: 0, timeZone: "America/Chicago"), true),
        (WeeklySchedule(weekday: 7, startMinute: 1439, timeZone: "UTC"), true),
        (WeeklySchedule(weekday: 0, startMinute: 60, timeZone: "UTC"), false),
        (WeeklySchedule(weekday: 8, startMinute: 60, timeZone: "UTC"), false),
        (WeeklySchedule(weekday: 3, startMinute: 1440, timeZone: "UTC"), false),
        (WeeklySchedule(weekday: 3, startMinute: -1, timeZone: "UTC"), false),
        (WeeklySchedule(weekday: 3, startMinute: 60, timeZone: "Mars/Olympus_Mons"), false)
    ]

    @Test("a schedule is valid only with a weekday 1...7, a minute 0..<1440 and a known zone", arguments: validityTable)
    func validity(schedule: WeeklySchedule, valid: Bool) {
        #expect(schedule.isValid == valid)
    }

    // MARK: versions

    static let a = WeeklySchedule(weekday: monday, startMinute: 9 * 60, timeZone: "UTC")
    static let b = WeeklySchedule(weekday: tuesday, startMinute: 9 * 60, timeZone: "UTC")
    static let history = [
        ScheduleVersion(schedule: b, savedAt: utc("2026-01-10T12:00Z")),
        ScheduleVersion(schedule: a, savedAt: utc("2026-01-05T12:00Z")),
        ScheduleVersion(schedule: nil, savedAt: utc("2026-01-20T12:00Z"))
    ]

    static let effectiveTable: [(String, WeeklySchedule?, String)] = [
        ("2026-01-06T11:59:59Z", nil, "nothing is in force until the first save is 24 h old"),
        ("2026-01-06T12:00:00Z", a, "exactly 24 h after the first save"),
        ("2026-01-11T11:59:00Z", a, "23 h 59 m after a change: the old version is still in force"),
        ("2026-01-11T12:00:00Z", b, "24 h after a change: the new version"),
        ("2026-01-15T00:00:00Z", b, "long after"),
        ("2026-01-21T11:59:59Z", b, "turning scheduling off also waits 24 h"),
        ("2026-01-21T12:00:00Z", nil, "then it is off")
    ]

    @Test("the version in force is the latest saved at least 24 h before", arguments: effectiveTable)
    func effective(at: String, expected: WeeklySchedule?, why: String) {
        #expect(ScheduleRules.effective(Self.history, at: utc(at)) == expected, "\(why)")
    }

    @Test("no versions means no schedule")
    func noVersions() {
        #expect(ScheduleRules.effective([], at: utc("2026-01-06T12:00:00Z")) == nil)
        #expect(ScheduleRules.nextWindow([], onOrAfter: utc("2026-01-06T12:00:00Z")) == nil)
    }

    @Test("the next run keeps the old schedule until the change is 24 h old")
    func nextRunAcrossAChange() {
        // A (Monday 09:00) in force; B (Tuesday 09:00) saved Sunday 20:00, in force Monday 20:00.
        let late = [ScheduleVersion(schedule: Self.a, savedAt: utc("2026-01-01T00:00Z")), ScheduleVersion(schedule: Self.b, savedAt: utc("2026-01-11T20:00Z"))]
        #expect(ScheduleRules.nextWindow(late, onOrAfter: utc("2026-01-11T21:00Z"))?.start == utc("2026-01-12T09:00Z"))
        #expect(ScheduleRules.nextWindow(late, onOrAfter: utc("2026-01-12T10:00Z"))?.start == utc("2026-01-13T09:00Z"))
        // B saved Sunday 05:00 is in force Monday 05:00, before A's Monday window: that window is gone.
        let early = [ScheduleVersion(schedule: Self.a, savedAt: utc("2026-01-01T00:00Z")), ScheduleVersion(schedule: Self.b, savedAt: utc("2026-01-11T05:00Z"))]
        #expect(ScheduleRules.nextWindow(early, onOrAfter: utc("2026-01-11T06:00Z"))?.start == utc("2026-01-13T09:00Z"))
        // Turned off: no next run once the change is in force.
        let off = [ScheduleVersion(schedule: Self.a, savedAt: utc("2026-01-01T00:00Z")), ScheduleVersion(schedule: nil, savedAt: utc("2026-01-11T05:00Z"))]
        #expect(ScheduleRules.nextWindow(off, onOrAfter: utc("2026-01-11T06:00Z")) == nil)
        #expect(ScheduleRules.nextWindow(off, onOrAfter: utc("2026-01-05T00:00Z"))?.start == utc("2026-01-05T09:00Z"))
    }

    @Test("a run in progress is not cut short by a change that takes effect during it")
    func runInProgressKeepsItsWindow() {
        // B takes effect Monday 10:00, inside A's Monday window [09:00, 12:00).
        let versions = [
            ScheduleVersion(schedule: Self.a, savedAt: utc("2026-01-01T00:00Z")), ScheduleVersion(schedule: Self.b, savedAt: utc("2026-01-11T10:00Z"))
        ]
        #expect(ScheduleRules.window(versions, containing: utc("2026-01-12T11:00Z"))?.start == utc("2026-01-12T09:00Z"))
        #expect(ScheduleRules.window(versions, containing: utc("2026-01-12T12:00Z")) == nil)
        #expect(ScheduleRules.window(versions, containing: utc("2026-01-13T10:00Z"))?.start == utc("2026-01-13T09:00Z"))
        #expect(ScheduleRules.window(versions, containing: utc("2026-01-19T10:00Z")) == nil)
    }

    // MARK: windows

    struct WindowCase: Sendable, CustomTestStringConvertible {
        var weekday: Int
        var minute: Int
        var zone: String
        var from: String
        var expectedStart: String
        var why: String
        var testDescription: String { why }
    }

    static let windows: [WindowCase] = [
        WindowCase(
            weekday: sunday, minute: 18 * 60, zone: "America/New_York", from: "2026-03-02T00:00Z", expectedStart: "2026-03-08T22:00Z",
            why: "March: 6 pm EDT right after the change"),
        WindowCase(
            weekday: sunday, minute: 18 * 60, zone: "America/New_York", from: "2026-02-23T00:00Z", expectedStart: "2026-03-01T23:00Z",
            why: "March: 6 pm EST the week before"),
        WindowCase(
            weekday: sunday, minute: 150, zone: "America/New_York", from: "2026-03-08T00:00Z", expectedStart: "2026-03-08T07:30Z",
            why: "March: a skipped 2:30 moves to 3:30 EDT"),
        WindowCase(
            weekday: sunday, minute: 150, zone: "America/New_York", from: "2026-03-09T00:00Z", expectedStart: "2026-03-15T06:30Z",
            why: "March: 2:30 EDT the week after"),
        WindowCase(
            weekday: sunday, minute: 30, zone: "America/New_York", from: "2026-03-08T00:00Z", expectedStart: "2026-03-08T05:30Z",
            why: "March: 0:30 EST on the change night"),
        WindowCase(
            weekday: sunday, minute: 18 * 60, zone: "America/New_York", from: "2026-10-26T00:00Z", expectedStart: "2026-11-01T23:00Z",
            why: "November: 6 pm EST right after the change"),
        WindowCase(
            weekday: sunday, minute: 18 * 60, zone: "America/New_York", from: "2026-10-19T00:00Z", expectedStart: "2026-10-25T22:00Z",
            why: "November: 6 pm EDT the week before"),
        WindowCase(
            weekday: sunday, minute: 90, zone: "America/New_York", from: "2026-11-01T00:00Z", expectedStart: "2026-11-01T05:30Z",
            why: "November: a repeated 1:30 is the first one (EDT)"),
        WindowCase(
            weekday: sunday, minute: 90, zone: "America/New_York", from: "2026-11-02T00:00Z", expectedStart: "2026-11-08T06:30Z",
            why: "November: 1:30 EST the week after"),
        WindowCase(
            weekday: sunday, minute: 30, zone: "America/New_York", from: "2026-03-08T04:00Z", expectedStart: "2026-03-08T05:30Z",
            why: "wrap: from Saturday 11 pm to Sunday 0:30"),
        WindowCase(
            weekday: sunday, minute: 9 * 60, zone: "UTC", from: "2026-03-07T12:00Z", expectedStart: "2026-03-08T09:00Z",
            why: "wrap: Saturday to the next day, Sunday"),
        WindowCase(
            weekday: saturday, minute: 9 * 60, zone: "UTC", from: "2026-03-08T12:00Z", expectedStart: "2026-03-14T09:00Z",
            why: "wrap: Sunday to the next Saturday"),
        WindowCase(
            weekday: monday, minute: 9 * 60, zone: "UTC", from: "2026-01-12T09:00Z", expectedStart: "2026-01-12T09:00Z",
            why: "a window starting exactly now counts"),
        WindowCase(
            weekday: monday, minute: 9 * 60, zone: "UTC", from: "2026-01-12T09:00:01Z", expectedStart: "2026-01-19T09:00Z", why: "a second late: next week"),
        WindowCase(
            weekday: 6, minute: 17 * 60, zone: "America/Chicago", from: "2026-01-12T00:00Z", expectedStart: "2026-01-16T23:00Z", why: "Friday 5 pm in Chicago")
    ]

    @Test("the next window starts at the local time in the schedule's zone, across DST and weekday wraps", arguments: windows)
    func nextWindow(_ c: WindowCase) {
        let schedule = WeeklySchedule(weekday: c.weekday, startMinute: c.minute, timeZone: c.zone)
        let window = ScheduleRules.nextWindow(of: schedule, onOrAfter: utc(c.from))
        #expect(window.start == utc(c.expectedStart))
        #expect(window.duration == 3 * 3600)
    }

    @Test("the window containing an instant is half-open and lasts three elapsed hours, even across the March change")
    func windowContaining() {
        // Sunday 0:30 EST on the change night: 05:30Z to 08:30Z (which is 4:30 EDT local).
        let schedule = WeeklySchedule(weekday: Self.sunday, startMinute: 30, timeZone: "America/New_York")
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-03-08T05:29:59Z")) == nil)
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-03-08T05:30Z"))?.start == utc("2026-03-08T05:30Z"))
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-03-08T08:29:59Z"))?.end == utc("2026-03-08T08:30Z"))
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-03-08T08:30Z")) == nil)
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-03-11T06:00Z")) == nil)
    }

    @Test("a Saturday-night window runs on into Sunday")
    func saturdayIntoSunday() {
        // Saturday 23:00 EST = 04:00Z Sunday; it ends 07:00Z (3:00 EDT local after the change).
        let schedule = WeeklySchedule(weekday: Self.saturday, startMinute: 23 * 60, timeZone: "America/New_York")
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-03-08T06:59:59Z"))?.start == utc("2026-03-08T04:00Z"))
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-03-08T07:00Z")) == nil)
        let utcSchedule = WeeklySchedule(weekday: Self.saturday, startMinute: 22 * 60, timeZone: "UTC")
        #expect(ScheduleRules.window(of: utcSchedule, containing: utc("2026-03-08T00:30Z"))?.start == utc("2026-03-07T22:00Z"))
    }

    @Test("a window in November's repeated hour lasts three elapsed hours")
    func novemberWindow() {
        let schedule = WeeklySchedule(weekday: Self.sunday, startMinute: 30, timeZone: "America/New_York")
        // 0:30 EDT = 04:30Z; ends 07:30Z (2:30 EST local).
        let window = ScheduleRules.nextWindow(of: schedule, onOrAfter: utc("2026-10-31T12:00Z"))
        #expect(window.start == utc("2026-11-01T04:30Z"))
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-11-01T07:29Z")) == window)
        #expect(ScheduleRules.window(of: schedule, containing: utc("2026-11-01T07:30Z")) == nil)
    }

    @Test("windows are found for every weekday, every hour, across a whole year in New York")
    func exhaustiveConsistency() {
        let start = utc("2026-01-01T00:00Z")
        for weekday in 1...7 {
            for hour in stride(from: 0, to: 24, by: 5) {
                let schedule = WeeklySchedule(weekday: weekday, startMinute: hour * 60 + 30, timeZone: "America/New_York")
                var from = start
                for _ in 0..<53 {
                    let w = ScheduleRules.nextWindow(of: schedule, onOrAfter: from)
                    #expect(w.start >= from)
                    #expect(w.start.timeIntervalSince(from) <= 7 * 86_400 + 3600)
                    #expect(ScheduleRules.window(of: schedule, containing: w.start) == w)
                    #expect(ScheduleRules.window(of: schedule, containing: w.start.addingTimeInterval(3 * 3600 - 1)) == w)
                    from = w.start.addingTimeInterval(1)
                }
            }
        }
    }

    // MARK: planned start

    @Test("planned starts are inside the first two hours, whole seconds and the same for the same key")
    func plannedStart() {
        let window = DateInterval(start: utc("2026-03-08T07:30Z"), duration: ScheduleRules.window)
        var offsets: [TimeInterval] = []
        for i in 0..<500 {
            let key = "sec-\(i)"
            let planned = ScheduleRules.plannedStart(in: window, key: key)
            let offset = planned.timeIntervalSince(window.start)
            #expect(offset >= 0 && offset < 7200, "\(key) at \(offset)")
            #expect(offset == offset.rounded())
            #expect(planned == ScheduleRules.plannedStart(in: window, key: key))
            offsets.append(offset)
        }
        #expect(Set(offsets).count > 450)
        #expect(offsets.min()! < 600 && offsets.max()! > 6600)
    }

    @Test("a planned start matches an independent SHA-256 derivation")
    func plannedStartGolden() {
        let window = DateInterval(start: utc("2026-01-12T09:00Z"), duration: ScheduleRules.window)
        #expect(ScheduleRules.plannedStart(in: window, key: "sec-1001") == utc("2026-01-12T09:00Z").addingTimeInterval(877))
        #expect(ScheduleRules.plannedStart(in: window, key: "") == utc("2026-01-12T09:00Z").addingTimeInterval(52))
    }

    @Test("a window shorter than two hours still contains its planned starts")
    func shortWindow() {
        let window = DateInterval(start: utc("2026-01-12T09:00Z"), duration: 600)
        for i in 0..<50 {
            let planned = ScheduleRules.plannedStart(in: window, key: "k\(i)")
            #expect(planned >= window.start && planned < window.end)
        }
        #expect(ScheduleRules.plannedStart(in: DateInterval(start: window.start, duration: 0), key: "x") == window.start)
    }

    @Test("a bad schedule row still yields windows instead of stopping the scheduler")
    func invalidScheduleIsTolerated() {
        let bad = WeeklySchedule(weekday: 8, startMinute: 1440 + 60, timeZone: "Not/AZone")
        // weekday 8 wraps to 1 (Sunday), minute to 01:00, the zone to UTC.
        #expect(ScheduleRules.nextWindow(of: bad, onOrAfter: utc("2026-03-02T00:00Z")).start == utc("2026-03-08T01:00Z"))
    }
}
