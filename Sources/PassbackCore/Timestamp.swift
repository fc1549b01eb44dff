import Foundation
import OneRosterModels

/// Instants as the store writes them: UTC, fixed width, milliseconds always
/// (`2026-08-01T00:00:00.000Z`), so that text order is time order in SQL. The calendar is
/// `CalendarDate`'s (one algorithm for the standard's dates and the store's instants).
public enum Timestamp {
    /// The fixed-width text of an instant.
    public static func text(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var days = millis / 86_400_000
        var rem = millis % 86_400_000
        if rem < 0 {
            rem += 86_400_000
            days -= 1
        }
        let (y, m, d) = CalendarDate.civil(fromDays: Int(days))
        let secs = Int(rem / 1000)
        guard (0...9999).contains(y) else {
            return Digits.pad(y, 4) + "-" + Digits.pad(m, 2) + "-" + Digits.pad(d, 2) + "T" + Digits.pad(secs / 3600, 2) + ":"
                + Digits.pad(secs / 60 % 60, 2) + ":" + Digits.pad(secs % 60, 2) + "." + Digits.pad(Int(rem % 1000), 3) + "Z"
        }
        // Written into its 24 bytes at once: the API writes one per material's date.
        return String(unsafeUninitializedCapacity: 24) { out in
            func put(_ value: Int, at start: Int, width: Int) {
                var v = value
                for i in stride(from: start + width - 1, through: start, by: -1) {
                    out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
            }
            put(y, at: 0, width: 4)
            out[4] = UInt8(ascii: "-")
            put(m, at: 5, width: 2)
            out[7] = UInt8(ascii: "-")
            put(d, at: 8, width: 2)
            out[10] = UInt8(ascii: "T")
            put(secs / 3600, at: 11, width: 2)
            out[13] = UInt8(ascii: ":")
            put(secs / 60 % 60, at: 14, width: 2)
            out[16] = UInt8(ascii: ":")
            put(secs % 60, at: 17, width: 2)
            out[19] = UInt8(ascii: ".")
            put(Int(rem % 1000), at: 20, width: 3)
            out[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Parses the store's fixed-width text back.
    public static func date(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count == 24, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"), u[23] == UInt8(ascii: "Z"),
            let y = Digits.int(u, 0, 4), let mo = Digits.int(u, 5, 2), let d = Digits.int(u, 8, 2), let h = Digits.int(u, 11, 2),
            let mi = Digits.int(u, 14, 2), let s = Digits.int(u, 17, 2), let ms = Digits.int(u, 20, 3)
        else { return nil }
        let days = CalendarDate.days(fromCivil: y, mo, d)
        return Date(timeIntervalSince1970: Double(days) * 86_400 + Double(h * 3600 + mi * 60 + s) + Double(ms) / 1000)
    }
}
