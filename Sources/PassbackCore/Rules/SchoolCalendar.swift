import Foundation
import OneRosterModels

/// The school's calendar: a due date is an instant, but a teacher and a grading period speak of
/// days, and a day is the school's local day. "Oct 16, 11:59 PM" in California is Oct 17 in UTC;
/// it belongs to a quarter that ends on Oct 16 all the same (PRODUCT.md "Time zone").
///
/// Pure: zone rules come from Foundation's time zone data, and callers pass every instant in
/// (nothing here reads the clock).
public enum SchoolCalendar {
    /// The zone of a connection that sets none: UTC, which is what Passback did before zones existed.
    public static let defaultZoneName = "UTC"

    /// The zone of an IANA name (`America/Los_Angeles`), or `nil` for anything else: abbreviations
    /// such as `PST` and offsets such as `GMT-8` are refused, because they do not follow daylight
    /// saving and would put due dates a day off for half the year.
    public static func zone(named name: String) -> TimeZone? {
        guard isIANAName(name) else { return nil }
        return TimeZone(identifier: name)
    }

    /// Whether `name` is a zone name of the IANA database as Foundation knows it (`UTC` included):
    /// an `Area/Location` name Foundation can load (its list of known names leaves out some current
    /// ones, such as `Asia/Kolkata`), or one of that list. Abbreviations and offsets have no `/`.
    public static func isIANAName(_ name: String) -> Bool {
        name == "UTC" || knownNames.contains(name) || (name.contains("/") && TimeZone(identifier: name) != nil)
    }

    /// The zone's name for people: its IANA name, and `UTC` for UTC (Foundation calls it `GMT`).
    public static func name(of zone: TimeZone) -> String {
        zone.identifier == "GMT" ? "UTC" : zone.identifier
    }

    /// The IANA names Foundation knows, computed once.
    static let knownNames: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers)

    /// The local day of an instant in a zone: the day grading periods are compared with.
    public static func localDay(_ date: Date, in zone: TimeZone) -> CalendarDate {
        CalendarDate(utcDayOf: date.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: date))))
    }

    /// The local wall-clock time (`HH:MM`) of an instant in a zone, for messages.
    public static func localTime(_ date: Date, in zone: TimeZone) -> String {
        String(local(date, in: zone).dropFirst(11).prefix(5))
    }

    /// The instant as local fixed-width text (`2026-10-16T23:59:00.000`), by the zone's offset at that instant.
    static func local(_ date: Date, in zone: TimeZone) -> String {
        Timestamp.text(date.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: date))))
    }

    /// The instants a run of local days covers: from the start of `firstDay` (inclusive) to the start of
    /// the day after `lastDay` (exclusive), in `zone`; `nil` when the run ends before it starts. A day
    /// whose midnight does not exist (a zone that springs forward at 00:00) starts at its first
    /// existing instant.
    public static func instants(fromDay firstDay: CalendarDate, throughDay lastDay: CalendarDate, in zone: TimeZone) -> Range<Date>? {
        guard firstDay <= lastDay else { return nil }
        return startOfDay(firstDay.daysSinceEpoch, in: zone)..<startOfDay(lastDay.daysSinceEpoch + 1, in: zone)
    }

    /// The first instant of a local day (days since 1970-01-01) in a zone.
    static func startOfDay(_ day: Int, in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // Noon always exists and lies on the same local day; the calendar finds that day's start from it.
        let noonUTC = Date(timeIntervalSince1970: Double(day) * 86_400 + 43_200)
        let noon = noonUTC.addingTimeInterval(-TimeInterval(zone.secondsFromGMT(for: noonUTC)))
        return calendar.startOfDay(for: noon)
    }

    /// The zone of a school org: the first of its org chain (the school, then its parents, nearest first)
    /// that `orgZones` names, else `defaultZone`. A district overrides the connection's zone for all its
    /// schools; a school overrides its district.
    public static func zoneName(orgChain: [String], orgZones: [String: String], defaultZone: String) -> String {
        for org in orgChain { if let zone = orgZones[org] { return zone } }
        return defaultZone
    }
}
