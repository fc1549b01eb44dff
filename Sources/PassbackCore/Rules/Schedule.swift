import Foundation

/// A weekly sync time: a day of the week and a local start time in a named zone (PRODUCT.md
/// "Scheduled"). Local, not UTC, because a teacher means "Friday 6 pm here" all year round,
/// across daylight-saving changes.
public struct WeeklySchedule: Sendable, Hashable, Codable {
    /// 1 = Sunday ... 7 = Saturday (Foundation `Calendar` convention).
    public var weekday: Int
    /// Minutes after local midnight, 0..<1440.
    public var startMinute: Int
    /// IANA identifier, e.g. `America/Chicago`; `WeeklySchedule.schoolZone` until saved.
    public var timeZone: String

    /// The zone of a schedule that names none: the store saves it with the zone of the school it
    /// governs (the section's school, or the org of an org default), so "Friday 6 pm" means the school's.
    public static let schoolZone = ""

    /// A schedule; check `isValid` before saving one that came from a user.
    public init(weekday: Int, startMinute: Int, timeZone: String) {
        self.weekday = weekday
        self.startMinute = startMinute
        self.timeZone = timeZone
    }

    /// Whether the weekday and minute are in range and the zone is a known IANA identifier.
    /// The window functions still give an answer for an invalid schedule (weekday and minute
    /// wrapped into range, an unknown zone read as UTC) so a bad row can never stop the
    /// scheduler, but a save must reject it.
    public var isValid: Bool {
        (1...7).contains(weekday) && (0..<1440).contains(startMinute) && TimeZone(identifier: timeZone) != nil
    }
}

/// One saved state of a section's (or a default's) schedule: the history is kept because a
/// change only takes effect 24 hours after it is saved.
public struct ScheduleVersion: Sendable, Hashable, Codable {
    /// `nil` = scheduling turned off.
    public var schedule: WeeklySchedule?
    /// When it was saved.
    public var savedAt: Date

    /// A saved version.
    public init(schedule: WeeklySchedule?, savedAt: Date) {
        self.schedule = schedule
        self.savedAt = savedAt
    }
}

/// The scheduling rules: which schedule is in force, its three-hour windows (correct across
/// daylight-saving changes), and when in a window each section's run starts.
///
/// Windows are half-open, `[start, start + 3 h)`, and last three *elapsed* hours even on the
/// night the clocks change.
public enum ScheduleRules {
    /// How long a scheduled run may take: three hours from the start time (seed 001).
    public static let window: TimeInterval = 3 * 3600
    /// How long after it is saved a change takes effect (seed 001).
    public static let changeDelay: TimeInterval = 24 * 3600
    /// The part of the window over which section runs are spread: the first two hours,
    /// leaving each run at least an hour to finish inside the window.
    public static let spread: TimeInterval = 2 * 3600

    /// The version in force at `date`: the latest one saved at least 24 h before it. Earlier
    /// versions stay in force until then; `nil` if none is in force yet or it turned
    /// scheduling off. Of versions saved at the same instant, the last in the array wins.
    public static func effective(_ versions: [ScheduleVersion], at date: Date) -> WeeklySchedule? {
        var current: ScheduleVersion?
        for version in versions where version.savedAt.addingTimeInterval(changeDelay) <= date {
            if let c = current, c.savedAt > version.savedAt { continue }
            current = version
        }
        return current?.schedule
    }

    /// The window `[start, start + 3 h)` that contains `date`, if any.
    public static func window(of schedule: WeeklySchedule, containing date: Date) -> DateInterval? {
        let zone = ScheduleZone(schedule)
        let today = zone.localDay(of: date)
        for day in (today - 2)...today where zone.weekday(ofDay: day) == zone.weekday {
            let start = zone.start(onDay: day)
            if start <= date, date < start.addingTimeInterval(window) { return DateInterval(start: start, duration: window) }
        }
        return nil
    }

    /// The first window that starts at or after `date`, its start computed in the schedule's
    /// own zone. A start time that does not exist that day (skipped by a spring-forward
    /// change) moves forward by the gap, e.g. 2:30 becomes 3:30; one that happens twice (fall
    /// back) is the first of the two.
    public static func nextWindow(of schedule: WeeklySchedule, onOrAfter date: Date) -> DateInterval {
        let zone = ScheduleZone(schedule)
        let today = zone.localDay(of: date)
        for day in (today - 1)...(today + 8) where zone.weekday(ofDay: day) == zone.weekday {
            let start = zone.start(onDay: day)
            if start >= date { return DateInterval(start: start, duration: window) }
        }
        // Unreachable for any real zone (a matching weekday comes every 7 days); a week on is the honest fallback.
        return DateInterval(start: zone.start(onDay: today + 7), duration: window)
    }

    /// The first window starting at or after `date` under the versions in force *at that
    /// window's start*: a change saved now moves the next run only once its 24 hours are up,
    /// and a change that takes effect before an old window starts replaces that window.
    /// `nil` when scheduling is off from `date` on.
    public static func nextWindow(_ versions: [ScheduleVersion], onOrAfter date: Date) -> DateInterval? {
        let changes = versions.map { $0.savedAt.addingTimeInterval(changeDelay) }.filter { $0 > date }.sorted()
        var from = date
        var pending = changes[...]
        while true {
            let nextChange = pending.first
            if let schedule = effective(versions, at: from) {
                let candidate = nextWindow(of: schedule, onOrAfter: from)
                if nextChange.map({ candidate.start < $0 }) ?? true { return candidate }
            }
            guard let change = nextChange else { return nil }
            from = change
            pending = pending.dropFirst()
        }
    }

    /// The window containing `date` of the schedule that was in force when that window
    /// started: a run in progress is not cut short by a change taking effect during it.
    public static func window(_ versions: [ScheduleVersion], containing date: Date) -> DateInterval? {
        var candidates: [WeeklySchedule] = []
        if let s = effective(versions, at: date.addingTimeInterval(-window)) { candidates.append(s) }
        for version in versions {
            let takesEffect = version.savedAt.addingTimeInterval(changeDelay)
            if takesEffect > date.addingTimeInterval(-window), takesEffect <= date, let s = version.schedule { candidates.append(s) }
        }
        for schedule in candidates {
            if let w = window(of: schedule, containing: date), effective(versions, at: w.start) == schedule { return w }
        }
        return nil
    }

    /// When, inside `window`, the run keyed by `key` (e.g. a section's id) should start:
    /// a whole number of seconds after the window's start, spread evenly by a SHA-256 of the
    /// key over the first two hours (or the whole window if it is shorter), so a district's
    /// runs do not all hit the SIS at once and each has an hour to finish. Always in
    /// `[start, start + 2 h)`, and the same for the same key on every machine and run.
    public static func plannedStart(in window: DateInterval, key: String) -> Date {
        let span = Int(min(spread, window.duration))
        guard span > 0 else { return window.start }
        let digest = Fingerprint.of(key) // 32 hex digits of SHA-256
        let value = UInt64(digest.prefix(16), radix: 16) ?? 0
        return window.start.addingTimeInterval(TimeInterval(value % UInt64(span)))
    }
}

/// A schedule's zone arithmetic, done on day numbers (days since 1970-01-01, local) so the
/// result never depends on a `Calendar`'s handling of skipped or repeated times.
struct ScheduleZone {
    let zone: TimeZone
    let weekday: Int
    let startMinute: Int

    init(_ schedule: WeeklySchedule) {
        zone = TimeZone(identifier: schedule.timeZone) ?? TimeZone(secondsFromGMT: 0)!
        weekday = ((schedule.weekday - 1) % 7 + 7) % 7 + 1
        startMinute = (schedule.startMinute % 1440 + 1440) % 1440
    }

    /// The local day number of an instant.
    func localDay(of date: Date) -> Int {
        let local = date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))
        return Int((local / 86_400).rounded(.down))
    }

    /// 1 = Sunday ... 7 = Saturday; day 0 (1970-01-01) was a Thursday.
    func weekday(ofDay day: Int) -> Int { ((day + 4) % 7 + 7) % 7 + 1 }

    /// The instant the local wall time `startMinute` happens on local day `day`: the first
    /// such instant if it happens twice, or, if it is skipped, the instant it would be under
    /// the offset in force before the change (which lands after the gap).
    func start(onDay day: Int) -> Date {
        let wall = Double(day) * 86_400 + Double(startMinute) * 60
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 86_400))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 86_400))
        let matches = Set([before, after]).map { wall - Double($0) }.filter { instant in
            zone.secondsFromGMT(for: Date(timeIntervalSince1970: instant)) == Int(wall - instant)
        }
        return Date(timeIntervalSince1970: matches.min() ?? wall - Double(before))
    }
}
