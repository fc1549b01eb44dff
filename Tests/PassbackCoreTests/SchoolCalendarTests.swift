import Foundation
import OneRosterModels
import Testing

@testable import PassbackCore

@Suite("The school's calendar: due dates by local day")
struct SchoolCalendarTests {
    static func zone(_ name: String) -> TimeZone { SchoolCalendar.zone(named: name)! }

    /// One due instant, the school's zone, and the grading period its local day falls in.
    struct PeriodCase: Sendable, CustomTestStringConvertible {
        var name: String
        var due: String
        var zone: String
        var expected: String?
        var testDescription: String { name }
        init(_ name: String, _ due: String, _ zone: String, _ expected: String?) {
            self.name = name
            self.due = due
            self.zone = zone
            self.expected = expected
        }
    }

    static let q1 = GradingPeriodInfo(sourcedId: "gp-q1", title: "Q1", startDay: day("2026-08-17"), endDay: day("2026-10-16"))
    static let q2 = GradingPeriodInfo(sourcedId: "gp-q2", title: "Q2", startDay: day("2026-10-19"), endDay: day("2026-12-18"))
    /// Ends on the day US clocks fall back (2026-11-01; it overlaps Q2, and ends first so wins its days), and one that is
    /// the day they spring forward (2027-03-14).
    static let fall = GradingPeriodInfo(sourcedId: "gp-fall", title: "Fall", startDay: day("2026-10-25"), endDay: day("2026-11-01"))
    static let spring = GradingPeriodInfo(sourcedId: "gp-spring", title: "Spring", startDay: day("2027-03-14"), endDay: day("2027-03-14"))

    static let cases: [PeriodCase] = [
        // The California case: Oct 16, 11:59 PM PDT is Oct 17 in UTC, and inside a Q1 that ends Oct 16.
        PeriodCase("11:59 PM local on Q1's last day (Los Angeles, PDT)", "2026-10-17T06:59:00Z", "America/Los_Angeles", "gp-q1"),
        PeriodCase("midnight local after Q1's last day (Los Angeles)", "2026-10-17T07:00:00Z", "America/Los_Angeles", nil),
        PeriodCase("the same instant at a UTC school is outside Q1", "2026-10-17T06:59:00Z", "UTC", nil),
        PeriodCase("midnight local on Q1's first day (Los Angeles)", "2026-08-17T07:00:00Z", "America/Los_Angeles", "gp-q1"),
        PeriodCase("a second before Q1's first day (Los Angeles)", "2026-08-17T06:59:59Z", "America/Los_Angeles", nil),
        PeriodCase("Q1's first day east of UTC, still the day before in UTC (Tokyo)", "2026-08-16T15:00:00Z", "Asia/Tokyo", "gp-q1"),
        PeriodCase("a second before Q1 east of UTC (Tokyo)", "2026-08-16T14:59:59Z", "Asia/Tokyo", nil),
        PeriodCase("11:59 PM on Q1's last day (Tokyo)", "2026-10-16T14:59:00Z", "Asia/Tokyo", "gp-q1"),
        PeriodCase("midnight after Q1's last day, Oct 16 in UTC (Tokyo)", "2026-10-16T15:00:00Z", "Asia/Tokyo", nil),
        PeriodCase("11:59 PM on Q2's last day, in winter time (Los Angeles, PST)", "2026-12-19T07:59:00Z", "America/Los_Angeles", "gp-q2"),
        PeriodCase("midnight after Q2's last day (PST)", "2026-12-19T08:00:00Z", "America/Los_Angeles", nil),
        PeriodCase("11:59 PM PST on the day clocks fall back", "2026-11-02T07:59:00Z", "America/Los_Angeles", "gp-fall"),
        PeriodCase("midnight after the day clocks fall back: the next day, Q2's only", "2026-11-02T08:00:00Z", "America/Los_Angeles", "gp-q2"),
        PeriodCase("1:30 AM on the fall-back day, the second time round (PST)", "2026-11-01T09:30:00Z", "America/Los_Angeles", "gp-fall"),
        PeriodCase("midnight PST on the day clocks spring forward", "2027-03-14T08:00:00Z", "America/Los_Angeles", "gp-spring"),
        PeriodCase("a second before it", "2027-03-14T07:59:59Z", "America/Los_Angeles", nil),
        PeriodCase("11:59 PM PDT on the spring-forward day", "2027-03-15T06:59:00Z", "America/Los_Angeles", "gp-spring"),
        PeriodCase("midnight PDT after it", "2027-03-15T07:00:00Z", "America/Los_Angeles", nil)
    ]

    @Test("a due instant's local day in the school's zone decides its grading period", arguments: cases)
    func period(_ c: PeriodCase) throws {
        let due = try #require(Timestamp.date(String(c.due.dropLast()) + ".000Z"))
        let periods = [Self.q1, Self.q2, Self.fall, Self.spring]
        #expect(Validation.gradingPeriod(containing: due, in: periods, zone: Self.zone(c.zone))?.sourcedId == c.expected)
        // The rules agree: inside a period the item goes with it, outside it is refused.
        var section = Fixture.section
        section.gradingPeriods = periods
        section.timeZone = Self.zone(c.zone)
        var material = Fixture.material
        material.dueAt = due
        let plan = Validation.plan(material: material, grades: [], section: section, profile: Fixture.limited)
        #expect(plan.gradingPeriodSourcedId == c.expected)
        #expect(plan.problems.map(\.code) == (c.expected == nil ? [.dueDateOutsideGradingPeriod] : []))
    }

    @Test("DUE_DATE_OUTSIDE_GRADING_PERIOD names the local day, time and the school's zone")
    func messageNamesTheZone() throws {
        var section = Fixture.section
        section.timeZone = Self.zone("America/Los_Angeles")
        var material = Fixture.material
        material.dueAt = utc("2026-10-17T07:30Z")
        let problem = try #require(Validation.plan(material: material, grades: [], section: section, profile: Fixture.limited).problems.first)
        #expect(problem.code == .dueDateOutsideGradingPeriod)
        #expect(problem.message.contains("2026-10-17 (00:30, America/Los_Angeles time)"), "\(problem.message)")
        #expect(problem.message.contains("Q1 (2026-08-17 to 2026-10-16)"))
    }

    @Test("a run of local days covers the instants from its first midnight to the midnight after its last")
    func instants() throws {
        let la = Self.zone("America/Los_Angeles")
        let q1 = try #require(SchoolCalendar.instants(fromDay: day("2026-08-17"), throughDay: day("2026-10-16"), in: la))
        #expect(Timestamp.text(q1.lowerBound) == "2026-08-17T07:00:00.000Z")
        #expect(Timestamp.text(q1.upperBound) == "2026-10-17T07:00:00.000Z")
        let winter = try #require(SchoolCalendar.instants(fromDay: day("2026-10-19"), throughDay: day("2026-12-18"), in: la))
        #expect(Timestamp.text(winter.lowerBound) == "2026-10-19T07:00:00.000Z", "PDT at the start")
        #expect(Timestamp.text(winter.upperBound) == "2026-12-19T08:00:00.000Z", "PST at the end")
        let utc = try #require(SchoolCalendar.instants(fromDay: day("2026-08-17"), throughDay: day("2026-08-17"), in: Self.zone("UTC")))
        #expect(Timestamp.text(utc.lowerBound) == "2026-08-17T00:00:00.000Z" && Timestamp.text(utc.upperBound) == "2026-08-18T00:00:00.000Z")
        // Chile springs forward at midnight: 2026-09-06 has no 00:00 and starts at 01:00 (-03).
        let santiago = try #require(SchoolCalendar.instants(fromDay: day("2026-09-06"), throughDay: day("2026-09-06"), in: Self.zone("America/Santiago")))
        #expect(Timestamp.text(santiago.lowerBound) == "2026-09-06T04:00:00.000Z")
        #expect(SchoolCalendar.instants(fromDay: day("2026-10-16"), throughDay: day("2026-08-17"), in: la) == nil, "a reversed run is empty")
    }

    @Test(
        "only IANA zone names are zones",
        arguments: [
            ("America/Los_Angeles", true), ("UTC", true), ("Asia/Kolkata", true), ("Europe/London", true),
            ("PST", false), ("GMT-8", false), ("Mars/Olympus_Mons", false), ("", false), ("america/los_angeles", false)
        ])
    func ianaNames(name: String, valid: Bool) {
        #expect((SchoolCalendar.zone(named: name) != nil) == valid)
    }

    @Test("a school's zone is the nearest of itself and its parents that is named, else the connection's")
    func zoneOfASchool() {
        let zones = ["district-west": "America/Los_Angeles", "school-az": "America/Phoenix"]
        #expect(SchoolCalendar.zoneName(orgChain: ["school-az", "district-west"], orgZones: zones, defaultZone: "America/Chicago") == "America/Phoenix")
        #expect(SchoolCalendar.zoneName(orgChain: ["school-1", "district-west"], orgZones: zones, defaultZone: "America/Chicago") == "America/Los_Angeles")
        #expect(SchoolCalendar.zoneName(orgChain: ["school-2", "district-east"], orgZones: zones, defaultZone: "America/Chicago") == "America/Chicago")
        #expect(SchoolCalendar.zoneName(orgChain: [], orgZones: zones, defaultZone: "UTC") == "UTC")
    }

    @Test("UTC is named UTC in messages, other zones by their IANA name")
    func names() {
        #expect(SchoolCalendar.name(of: Self.zone("UTC")) == "UTC")
        #expect(SchoolCalendar.name(of: Self.zone("America/Los_Angeles")) == "America/Los_Angeles")
    }

    @Test("local day and time of an instant")
    func localDayAndTime() throws {
        let instant = try #require(Timestamp.date("2026-10-17T06:59:00.000Z"))
        #expect(SchoolCalendar.localDay(instant, in: Self.zone("America/Los_Angeles")) == day("2026-10-16"))
        #expect(SchoolCalendar.localTime(instant, in: Self.zone("America/Los_Angeles")) == "23:59")
        #expect(SchoolCalendar.localDay(instant, in: Self.zone("Asia/Kolkata")) == day("2026-10-17"))
        #expect(SchoolCalendar.localTime(instant, in: Self.zone("Asia/Kolkata")) == "12:29")
    }
}

@Suite("Timestamps")
struct TimestampTextTests {
    @Test("the fixed-width text of an instant is Foundation's ISO 8601 with milliseconds in UTC, and reads back")
    func matchesFoundation() {
        var rng = SystemRandomNumberGenerator()
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        for _ in 0..<20_000 {
            // Whole milliseconds from 1970 to 2100, and the edges of days and years.
            let millis = Int64.random(in: 0...4_102_444_800_000, using: &rng)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            // Foundation truncates to the millisecond, and a millisecond is rarely exact in
            // binary: its oracle is given the instant 0.2 ms later. The store rounds.
            #expect(Timestamp.text(date) == Date(timeIntervalSince1970: Double(millis) / 1000 + 0.0002).formatted(style), "\(millis)")
            #expect(Timestamp.date(Timestamp.text(date)).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == millis)
        }
        #expect(Timestamp.text(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.text(Date(timeIntervalSince1970: 951_782_399.999)) == "2000-02-28T23:59:59.999Z")
        #expect(Timestamp.text(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
    }
}
