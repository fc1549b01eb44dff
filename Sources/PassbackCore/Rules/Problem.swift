import Foundation

/// The stable, machine-readable codes of everything that can stop (or, for one, qualify) a
/// sync of an item. Clients filter and group on these strings and admins count them org-wide,
/// so a raw value is never renamed once shipped.
public enum ProblemCode: String, Sendable, Codable, CaseIterable {
    /// Two live materials of one LMS course share a title (teachers could not tell them apart in the SIS).
    case titleNotUnique = "TITLE_NOT_UNIQUE"
    /// The title is longer than the SIS accepts.
    case titleTooLong = "TITLE_TOO_LONG"
    /// The SIS requires a due date and the material has none.
    case dueDateMissing = "DUE_DATE_MISSING"
    /// No grading period of the section's term contains the due date.
    case dueDateOutsideGradingPeriod = "DUE_DATE_OUTSIDE_GRADING_PERIOD"
    /// The section's configuration (its category map) was never saved.
    case sectionNotConfigured = "SECTION_NOT_CONFIGURED"
    /// The material's LMS category has no SIS category in this section's map.
    case categoryUnmapped = "CATEGORY_UNMAPPED"
    /// The material has no category and the SIS has no generic category for it.
    case uncategorized = "UNCATEGORIZED"
    /// A grade for a student the roster does not list in the section.
    case studentNotEnrolled = "STUDENT_NOT_ENROLLED"
    /// A score that is not a finite, non-negative number.
    case scoreInvalid = "SCORE_INVALID"
    /// A comment longer than the SIS accepts: it is sent cut, so this is only a warning.
    case commentTooLong = "COMMENT_TOO_LONG"
    /// A score far above the maximum points (more than the profile's `scoreWarningMultiple`
    /// times it): likely a typo, but extra credit is legitimate, so it is sent and flagged.
    case scoreUnusuallyHigh = "SCORE_UNUSUALLY_HIGH"
    /// The SIS refused a write (its message becomes the item's error).
    case sisRejected = "SIS_REJECTED"
    /// The SIS refused Passback's credentials, even after one token refresh.
    case sisAuthFailed = "SIS_AUTH_FAILED"
    /// The SIS did not answer usefully before the last retry.
    case sisUnavailable = "SIS_UNAVAILABLE"
    /// The connection to the SIS is blocked (its credentials refused, or its base URL not a
    /// OneRoster service): the item's writes are held, not cancelled, and go on their own once
    /// an administrator fixes the configuration key the message names.
    case sisConnectionBlocked = "SIS_CONNECTION_BLOCKED"
    /// Read back, the SIS holds other values than Passback wrote (a PUT answered 200 but kept
    /// some fields, or someone edited the object by hand in the SIS since): the message names
    /// each field, sent vs held. The item shows `UPDATES_AVAILABLE` and the next Sync Changes
    /// writes the object again (the LMS is the source of truth), so this is a warning.
    case sisDiffers = "SIS_DIFFERS"

    /// Whether the problem stops the write. A long comment does not: the comment is cut and the
    /// grade still goes, because a lost grade is worse than a shortened comment. Nor does a very
    /// high score: the SIS cannot tell extra credit from a typo, and neither can Passback.
    public var severity: Severity { self == .commentTooLong || self == .scoreUnusuallyHigh || self == .sisDiffers ? .warning : .error }
}

/// How bad a problem is: an `error` stops the write it concerns (the item shows `ERROR`);
/// a `warning` is shown but the write goes.
public enum Severity: String, Sendable, Codable {
    case error, warning
}

/// One thing wrong with an item (or with one of its results), in words a teacher can act on.
public struct Problem: Sendable, Hashable, Codable {
    /// The stable code clients and admins group by.
    public var code: ProblemCode
    /// What is wrong and how to fix it, concretely (the limit, the dates, the category...):
    /// it is the hover text of the item's status, so it must stand on its own.
    public var message: String
    /// The material field to fix: `title`, `dueDate`, `category`, `score`, `comment` or
    /// `section`; `nil` when no single field is at fault. Lets a client highlight it.
    public var field: String?
    /// The student whose result this concerns; `nil` for an item-level problem.
    public var studentSourcedId: String?

    /// A problem as found by a rule or reported by the sync layer.
    public init(code: ProblemCode, message: String, field: String? = nil, studentSourcedId: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.studentSourcedId = studentSourcedId
    }

    /// The code's severity, so a problem can never disagree with its code.
    public var severity: Severity { code.severity }
}
