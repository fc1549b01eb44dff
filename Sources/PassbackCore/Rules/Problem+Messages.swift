import Foundation
import OneRosterModels

/// The one place each code's teacher-facing message is written, so that the rules, the sync
/// layer and the sandbox all word a problem the same way, and every message says what to fix.
extension Problem {
    /// Another live material of the course has the same title (compared as `Validation.titleKey`).
    public static func titleNotUnique(title: String, count: Int) -> Problem {
        Problem(
            code: .titleNotUnique,
            message: "\(count) graded items of this course are titled “\(title)” (ignoring case and spacing); "
                + "the SIS needs a unique title for each. Rename all but one of them.",
            field: "title")
    }

    /// The title is over the SIS's limit; names the limit and how far over it is.
    public static func titleTooLong(title: String, limit: Int, sisName: String) -> Problem {
        Problem(
            code: .titleTooLong,
            message: "The title has \(title.count) characters; \(sisName) accepts at most \(limit). "
                + "Shorten it by \(title.count - limit) or more characters.",
            field: "title")
    }

    /// The SIS requires a due date and there is none.
    public static func dueDateMissing(sisName: String) -> Problem {
        Problem(
            code: .dueDateMissing,
            message: "\(sisName) requires a due date and this item has none. "
                + "Set a due date inside one of the section's grading periods.",
            field: "dueDate")
    }

    /// No grading period contains the due date; names its local day, time and the school's zone,
    /// and lists the periods (and their dates) it could move into.
    public static func dueDateOutsideGradingPeriod(dueDay: CalendarDate, dueTime: String, zone: String, periods: [GradingPeriodInfo]) -> Problem {
        let message: String
        let due = "\(dueDay) (\(dueTime), \(zone) time)"
        if periods.isEmpty {
            message =
                "The due date \(due) cannot be placed in a grading period: the SIS roster lists no grading "
                + "period for this section's term. Ask your SIS administrator to add the term's grading periods, "
                + "then sync again."
        } else {
            let list = periods.sorted { ($0.startDay, $0.endDay, $0.sourcedId) < ($1.startDay, $1.endDay, $1.sourcedId) }
                .map { "\($0.title) (\($0.startDay) to \($0.endDay))" }.joined(separator: ", ")
            message =
                "The due date \(due) is outside every grading period of this section's term: \(list). "
                + "Move the due date into one of them (days are the school's, in \(zone))."
        }
        return Problem(code: .dueDateOutsideGradingPeriod, message: message, field: "dueDate")
    }

    /// The section's category map was never saved.
    public static func sectionNotConfigured() -> Problem {
        Problem(
            code: .sectionNotConfigured,
            message: "This section has not been configured yet. Open its configuration, map its categories, "
                + "and save the configuration once; then sync again. Linked sections are each configured on their own.",
            field: "section")
    }

    /// The material's LMS category is not in the section's category map.
    public static func categoryUnmapped(lmsCategoryID: String, lmsCategoryTitle: String?) -> Problem {
        let name = lmsCategoryTitle.map { "“\($0)”" } ?? "with id \(lmsCategoryID)"
        return Problem(
            code: .categoryUnmapped,
            message: "The item's category \(name) is not mapped to a SIS category in this section. "
                + "Map it in the section's configuration and save, or move the item to a mapped category.",
            field: "category")
    }

    /// The material has no category and the SIS has no generic one.
    public static func uncategorized() -> Problem {
        Problem(
            code: .uncategorized,
            message: "This item has no grading category, so it is not synced. Assign it a category that is mapped "
                + "in the section's configuration, or turn off Sync to SIS for it to silence this error.",
            field: "category")
    }

    /// A grade for a student the roster does not list in the section, nor in any other section
    /// linked to its LMS course.
    /// `otherLinkedSections`: the other SIS sections linked to the same LMS course, none of
    /// which enrolls the student either (the grade has nowhere to go).
    public static func studentNotEnrolled(studentSourcedId: String, otherLinkedSections: [String] = []) -> Problem {
        let place =
            otherLinkedSections.isEmpty
            ? "in this section"
            : "in this section or in the other section\(otherLinkedSections.count == 1 ? "" : "s") linked to this course ("
                + otherLinkedSections.joined(separator: ", ") + ")"
        return Problem(
            code: .studentNotEnrolled,
            message: "The SIS roster does not list student \(studentSourcedId) as enrolled \(place), so their "
                + "grade was not sent (the other grades were). Check the enrollment in the SIS and refresh the roster, "
                + "or remove the grade.",
            studentSourcedId: studentSourcedId)
    }

    /// A score that is NaN, infinite or negative.
    public static func scoreInvalid(score: Double, studentSourcedId: String) -> Problem {
        let what = score.isNaN ? "not a number" : (score.isInfinite ? "infinite" : "negative (\(score))")
        return Problem(
            code: .scoreInvalid,
            message: "The score of student \(studentSourcedId) is \(what); the SIS accepts only a finite score of 0 "
                + "or more. Correct the score, or use an exception (excused, incomplete, missing) instead.",
            field: "score", studentSourcedId: studentSourcedId)
    }

    /// A score over `multiple` × the maximum points: a warning, the score is sent as it is.
    public static func scoreUnusuallyHigh(score: Double, maxPoints: Double, multiple: Double, studentSourcedId: String) -> Problem {
        Problem(
            code: .scoreUnusuallyHigh,
            message: "The score of student \(studentSourcedId) is \(plain(score)) on an item worth \(plain(maxPoints)) points, "
                + "more than \(plain(multiple))× the maximum. It was sent as it is (extra credit is allowed); "
                + "if it is a typo, correct it in the LMS and sync again.",
            field: "score", studentSourcedId: studentSourcedId)
    }

    /// A number as a teacher writes it: `10`, `12.5`, `1e+308`.
    static func plain(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }

    /// A comment over the limit: a warning, the comment is sent cut.
    public static func commentTooLong(length: Int, limit: Int, studentSourcedId: String) -> Problem {
        Problem(
            code: .commentTooLong,
            message: "The comment for student \(studentSourcedId) has \(length) characters; the SIS accepts \(limit), "
                + "so only the first \(limit) were sent. Shorten the comment to \(limit) characters to send it whole.",
            field: "comment", studentSourcedId: studentSourcedId)
    }

    /// The SIS refused a write; `message` is the SIS's own words (a short excerpt of its answer).
    public static func sisRejected(message: String, studentSourcedId: String? = nil) -> Problem {
        Problem(
            code: .sisRejected,
            message: "The SIS refused this write: \(message). Fix what the SIS names (or ask your SIS administrator "
                + "if the grade is locked there), then sync again.",
            studentSourcedId: studentSourcedId)
    }

    /// The SIS refused the connection's credentials after one refresh.
    public static func sisAuthFailed(message: String) -> Problem {
        Problem(
            code: .sisAuthFailed,
            message: "The SIS refused Passback's credentials (\(message)). Ask your Passback administrator to check "
                + "the connection's client id, secret, token URL and scope, then sync again.")
    }

    /// The item's writes are held on a blocked connection; `cause` says what the SIS answered and
    /// which configuration key fixes it.
    public static func sisConnectionBlocked(cause: String) -> Problem {
        Problem(
            code: .sisConnectionBlocked,
            message: "This item's writes are held, not sent: \(cause). They go on their own once the SIS answers; nothing to change here.")
    }

    /// Read back, the SIS holds other values than Passback wrote to one object: `object` says
    /// which ("the lineItem", "the result of student s-1"), `fields` each field as (name, sent,
    /// held), values already quoted for reading. A warning: the next Sync Changes rewrites it.
    public static func sisDiffers(object: String, fields: [(name: String, sent: String, held: String)], studentSourcedId: String? = nil) -> Problem {
        let list = fields.map { "\($0.name): sent \($0.sent), SIS holds \($0.held)" }.joined(separator: "; ")
        let field: String? =
            switch fields.first?.name {
            case "title": "title"
            case "dueDate", "assignDate": "dueDate"
            case "category": "category"
            case "score", "scoreStatus": "score"
            case "comment": "comment"
            default: nil
            }
        return Problem(
            code: .sisDiffers,
            message: "The SIS holds other values than Passback wrote to \(object) (\(list)). It was changed in the SIS or not stored as sent; "
                + "the next Sync Changes writes it again (the LMS is the source of truth), so change it in the LMS if the SIS's value is right.",
            field: field, studentSourcedId: studentSourcedId)
    }

    /// Passback gave up on a write after its last retry.
    public static func sisUnavailable(attempts: Int, message: String) -> Problem {
        Problem(
            code: .sisUnavailable,
            message: "The SIS did not accept the write after \(attempts) attempts (last answer: \(message)). "
                + "Sync again later; if it keeps failing, ask your SIS administrator whether the SIS is up.")
    }
}
