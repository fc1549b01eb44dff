import Foundation
import GRDB
import PassbackCore
import PassbackStore
import Testing

@Suite("A connection's time zones and limits in the store")
struct ConnectionCalendarTests {
    /// A district with a school in its own zone, a school that follows the district, and a
    /// school whose SIS parent chain loops (SIS data is not always sane).
    static func fixture() throws -> StoreFixture {
        let f = try StoreFixture()
        try f.apply([
            Rows.org("district", name: "District", type: "district"),
            Rows.org("az", name: "Arizona School", parent: "district"),
            Rows.org("plain", name: "Plain School", parent: "district"),
            Rows.org("loop-a", name: "Loop A", parent: "loop-b"),
            Rows.org("loop-b", name: "Loop B", parent: "loop-a")
        ])
        try f.apply([
            Rows.section("sec-az", title: "AZ", school: "az"), Rows.section("sec-plain", title: "Plain", school: "plain"),
            Rows.section("sec-loop", title: "Loop", school: "loop-a")
        ])
        return f
    }

    static func settings(_ f: StoreFixture, _ change: (inout ConnectionSettings) -> Void) throws {
        var s = ConnectionSettings(id: f.connection, baseURL: URL(string: "https://sis.example.org/ims/oneroster/v1p1")!)
        change(&s)
        try f.roster.saveConnection(s, at: f.startedAt)
    }

    @Test("each section takes the nearest of its school and the school's parents that is named, else the connection's zone")
    func sectionZones() throws {
        let f = try Self.fixture()
        try Self.settings(f) {
            $0.timeZone = "America/New_York"
            $0.orgTimeZones = ["az": "America/Phoenix", "district": "America/Chicago"]
            $0.limits = ProfileLimits(titleLimit: 50, genericCategory: "")
        }
        let ids = try ["sec-az", "sec-plain", "sec-loop"].map(f.classID)
        let calendars = try f.roster.sectionCalendars(classIDs: ids)
        #expect(calendars[ids[0]]?.timeZone == "America/Phoenix")
        #expect(calendars[ids[1]]?.timeZone == "America/Chicago", "through the district")
        #expect(calendars[ids[2]]?.timeZone == "America/New_York", "a looping chain ends and falls back to the connection's")
        #expect(calendars[ids[0]]?.limits == ProfileLimits(titleLimit: 50, genericCategory: ""), "limits round-trip, an empty generic category included")
        #expect(try f.roster.sectionCalendar(classID: 999_999) == SectionCalendar(), "an unknown section: UTC, no overrides")
    }

    @Test("a saved change of zone replaces the old one; an unreadable stored zone reads as UTC")
    func savedAgain() throws {
        let f = try Self.fixture()
        let id = try f.classID("sec-plain")
        #expect(try f.roster.sectionCalendar(classID: id).timeZone == "UTC", "UTC until configured")
        try Self.settings(f) { $0.timeZone = "Europe/London" }
        #expect(try f.roster.sectionCalendar(classID: id).timeZone == "Europe/London")
        try f.rawWrite("UPDATE connection SET time_zone = 'Mars/Olympus'")
        #expect(try f.roster.sectionCalendar(classID: id).zone.identifier == "GMT")
    }

    @Test("the store refuses org zones and limits that are not JSON objects")
    func checks() throws {
        let f = try Self.fixture()
        #expect(throws: DatabaseError.self) { try f.rawWrite("UPDATE connection SET org_time_zones = '[1]'") }
        #expect(throws: DatabaseError.self) { try f.rawWrite("UPDATE connection SET profile_limits = 'nope'") }
    }
}
