import Foundation

/// A `Retry-After` header: a number of seconds, or an HTTP date (RFC 9110 §10.2.3).
public enum RetryAfter: Sendable, Hashable {
    case seconds(Double)
    case date(Date)

    /// Parses the header; `nil` if it is neither form.
    public static func parse(_ value: String) -> RetryAfter? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let s = Double(v), s >= 0, s.isFinite { return .seconds(s) }
        return HTTPDate.parse(v).map(RetryAfter.date)
    }

    /// How long to wait from `now`; never negative.
    public func delay(from now: Date) -> TimeInterval {
        switch self {
        case .seconds(let s): return s
        case .date(let d): return max(0, d.timeIntervalSince(now))
        }
    }
}

/// HTTP dates: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), and the obsolete RFC 850 and
/// asctime forms that a recipient must still accept.
public enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]

    /// Formats as IMF-fixdate.
    public static func format(_ date: Date) -> String {
        let secs = Int(date.timeIntervalSince1970.rounded(.down))
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let (y, m, d) = CalendarDate.civil(fromDays: days)
        let dayName = dayNames[((days % 7) + 7) % 7]
        return "\(dayName), \(Digits.pad(d, 2)) \(months[m - 1].capitalized) \(Digits.pad(y, 4)) "
            + "\(Digits.pad(rem / 3600, 2)):\(Digits.pad(rem / 60 % 60, 2)):\(Digits.pad(rem % 60, 2)) GMT"
    }

    /// Parses any of the three forms.
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        var day: Int?, month: Int?, year: Int?, time: String?
        if parts.count == 6, parts[5] == "GMT" {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(parts[1]); month = monthIndex(parts[2]); year = Int(parts[3]); time = parts[4]
        } else if parts.count == 4, parts[3] == "GMT" {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let dmy = parts[1].split(separator: "-").map(String.init)
            guard dmy.count == 3, let yy = Int(dmy[2]) else { return nil }
            day = Int(dmy[0]); month = monthIndex(dmy[1]); year = yy < 100 ? (yy < 70 ? 2000 + yy : 1900 + yy) : yy
            time = parts[2]
        } else if parts.count == 5 {
            // asctime: Sun Nov  6 08:49:37 1994
            month = monthIndex(parts[1]); day = Int(parts[2]); time = parts[3]; year = Int(parts[4])
        } else {
            return nil
        }
        guard let day, let month, let year, let time else { return nil }
        let hms = time.split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, let date = CalendarDate(year: year, month: month, day: day),
            (0..<24).contains(hms[0]), (0..<60).contains(hms[1]), (0...60).contains(hms[2])
        else { return nil }
        return date.startOfDayUTC.addingTimeInterval(Double(hms[0] * 3600 + hms[1] * 60 + hms[2]))
    }

    static func monthIndex(_ s: String) -> Int? {
        months.firstIndex(of: s.lowercased()).map { $0 + 1 }
    }
}
