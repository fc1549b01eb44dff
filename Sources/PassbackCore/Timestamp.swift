import Foundation

/// Instants as the store writes them: UTC, fixed width, milliseconds always
/// (`2026-08-01T00:00:00.000Z`), so that text order is time order in SQL.
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
        let (y, m, d) = civil(fromDays: Int(days))
        let secs = Int(rem / 1000)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secs / 3600, 2) + ":" + pad(secs / 60 % 60, 2) + ":"
            + pad(secs % 60, 2) + "." + pad(Int(rem % 1000), 3) + "Z"
    }

    /// Parses the store's fixed-width text back.
    public static func date(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count == 24, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"), u[23] == UInt8(ascii: "Z"),
            let y = int(u, 0, 4), let mo = int(u, 5, 2), let d = int(u, 8, 2), let h = int(u, 11, 2), let mi = int(u, 14, 2),
            let s = int(u, 17, 2), let ms = int(u, 20, 3)
        else { return nil }
        let days = days(fromCivil: y, mo, d)
        return Date(timeIntervalSince1970: Double(days) * 86_400 + Double(h * 3600 + mi * 60 + s) + Double(ms) / 1000)
    }

    static func int(_ u: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var v = 0
        for i in start..<(start + count) {
            guard u[i] >= 48, u[i] <= 57 else { return nil }
            v = v * 10 + Int(u[i] - 48)
        }
        return v
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }

    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
