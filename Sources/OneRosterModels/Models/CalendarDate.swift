import Foundation

/// A calendar date without a time (`YYYY-MM-DD`), as OneRoster uses for session bounds,
/// enrollment dates and `scoreDate`. Distinct from date-times on purpose: mixing the two is
/// a classic source of off-by-one-day bugs across time zones.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// A date from its parts; `nil` if it does not exist on the proleptic Gregorian calendar.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CalendarDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`. Also accepts a date-time and keeps its UTC date, because some
    /// servers send one where the standard says date.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count >= 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
            let y = Digits.int(u, 0, 4), let m = Digits.int(u, 5, 2), let d = Digits.int(u, 8, 2)
        else { return nil }
        if u.count > 10 {
            guard let dt = DateTime.parse(text) else { return nil }
            self.init(utcDayOf: dt)
            return
        }
        self.init(year: y, month: m, day: d)
    }

    /// The UTC calendar day of an instant.
    public init(utcDayOf date: Date) {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (y, m, d) = CalendarDate.civil(fromDays: days)
        self.year = y
        self.month = m
        self.day = d
    }

    /// Midnight UTC at the start of this day.
    public var startOfDayUTC: Date {
        Date(timeIntervalSince1970: Double(CalendarDate.days(fromCivil: year, month, day)) * 86_400)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int { CalendarDate.days(fromCivil: year, month, day) }

    /// The date `n` days later (or earlier, for negative `n`).
    public func adding(days n: Int) -> CalendarDate {
        let (y, m, d) = CalendarDate.civil(fromDays: daysSinceEpoch + n)
        return CalendarDate(year: y, month: m, day: d)!
    }

    public var description: String {
        Digits.pad(year, 4) + "-" + Digits.pad(month, 2) + "-" + Digits.pad(day, 2)
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let d = CalendarDate(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected YYYY-MM-DD, got \(s)"))
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days-from-civil algorithms: exact for the proleptic Gregorian calendar.
    package static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    package static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// ISO-8601 date-times as OneRoster writes them (`2026-01-01T00:00:00Z`), parsed and printed
/// without Foundation's formatters (which are not `Sendable` on Linux and are slow).
public enum DateTime {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`; a bare date means midnight UTC and
    /// a missing zone means UTC (both seen from real servers).
    public static func parse(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count >= 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
            let y = Digits.int(u, 0, 4), let mo = Digits.int(u, 5, 2), let d = Digits.int(u, 8, 2),
            let day = CalendarDate(year: y, month: mo, day: d)
        else { return nil }
        var seconds = Double(day.daysSinceEpoch) * 86_400
        if u.count == 10 { return Date(timeIntervalSince1970: seconds) }
        guard u.count >= 19, u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t") || u[10] == UInt8(ascii: " "),
            u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
            let h = Digits.int(u, 11, 2), let mi = Digits.int(u, 14, 2), let s = Digits.int(u, 17, 2),
            h < 24, mi < 60, s < 61
        else { return nil }
        seconds += Double(h * 3600 + mi * 60 + s)
        var i = 19
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < u.count, let digit = Digits.int(u, i, 1) {
                seconds += Double(digit) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        if i == u.count { return Date(timeIntervalSince1970: seconds) }
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            return i + 1 == u.count ? Date(timeIntervalSince1970: seconds) : nil
        }
        guard u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-"), u.count == i + 6, u[i + 3] == UInt8(ascii: ":"),
            let oh = Digits.int(u, i + 1, 2), let om = Digits.int(u, i + 4, 2)
        else { return nil }
        let offset = Double(oh * 3600 + om * 60)
        seconds += u[i] == UInt8(ascii: "+") ? -offset : offset
        return Date(timeIntervalSince1970: seconds)
    }

    /// Formats in UTC with a `Z`; milliseconds only when the instant has them.
    public static func format(_ date: Date) -> String {
        let totalMillis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var days = totalMillis / 86_400_000
        var rem = totalMillis % 86_400_000
        if rem < 0 {
            rem += 86_400_000
            days -= 1
        }
        let (y, m, d) = CalendarDate.civil(fromDays: Int(days))
        let ms = Int(rem % 1000)
        let secs = Int(rem / 1000)
        var s = Digits.pad(y, 4) + "-" + Digits.pad(m, 2) + "-" + Digits.pad(d, 2) + "T"
        s += Digits.pad(secs / 3600, 2) + ":" + Digits.pad(secs / 60 % 60, 2) + ":" + Digits.pad(secs % 60, 2)
        if ms != 0 { s += "." + Digits.pad(ms, 3) }
        return s + "Z"
    }
}

package enum Digits {
    package static func int(_ u: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= u.count else { return nil }
        var v = 0
        for i in start..<(start + count) {
            let b = u[i]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            v = v * 10 + Int(b - UInt8(ascii: "0"))
        }
        return v
    }

    package static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
