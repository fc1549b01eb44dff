import Foundation
import OneRosterModels

/// The rules of PRODUCT.md "Rules before anything is sent": decide, before any write is
/// queued, what would be sent for one material in one section and what stops it.
///
/// Pure and total: the same inputs always give the same plan (problems in the same order),
/// which is what lets the dry run show exactly what a real sync will do.
public enum Validation {
    /// Plans one material × section.
    ///
    /// - An opted-out (`syncToSIS == false`) or deleted material is `blocked` with **no
    ///   problems** and no results: it is not an error (its status is `OPT_OUT`, or it is
    ///   simply no longer updated), and the caller never enqueues it.
    /// - Item-level errors are all reported, not just the first, in this fixed order:
    ///   `SECTION_NOT_CONFIGURED`, `TITLE_NOT_UNIQUE`, `TITLE_TOO_LONG`, `DUE_DATE_MISSING` /
    ///   `DUE_DATE_OUTSIDE_GRADING_PERIOD`, `CATEGORY_UNMAPPED` / `UNCATEGORIZED`, so a teacher
    ///   can fix everything in one pass. `CATEGORY_UNMAPPED` is not checked while the section
    ///   is unconfigured: its map is not saved yet, so every category would be reported.
    /// - Per-result problems follow, by student `sourcedId`. A student not enrolled, or with
    ///   an invalid score, is left out of `results`; the other results still go.
    /// - In an LMS course linked to several sections, a grade goes to each section whose roster
    ///   enrolls its student, and only there: a student enrolled only in another linked section
    ///   (`section.otherLinkedStudents`) is left out here without a problem. A student enrolled
    ///   in none of them is `STUDENT_NOT_ENROLLED` once per material, in the one section that
    ///   `reportsUnenrolled` (the caller picks it), and silently left out in the others.
    /// - When the item is blocked, `results` is empty (nothing is sent) but per-result
    ///   problems are still listed so they can be fixed at the same time; the category and
    ///   grading period that could be resolved are still filled in for the dry run.
    /// - A score above `profile.scoreWarningMultiple` × the maximum points is sent (extra
    ///   credit is legitimate) with a `SCORE_UNUSUALLY_HIGH` warning, so a typo shows.
    /// - A grade with neither score nor exception is not sent and is not a problem (the
    ///   teacher simply has not graded yet). If a student has several grades, the last wins.
    public static func plan(
        material: MaterialInfo, grades: [GradeInfo], section: SectionInfo, profile: VendorProfile,
        reportsUnenrolled: Bool = true
    ) -> ItemPlan {
        let lineItemID = SourcedIDs.lineItem(
            connection: section.connectionID, materialLmsID: material.lmsID, sectionSourcedId: section.sectionSourcedId)
        guard material.syncToSIS, !material.deleted else {
            return ItemPlan(
                problems: [], blocked: true, lineItemSourcedId: lineItemID, sisCategory: nil, gradingPeriodSourcedId: nil, results: [])
        }

        var problems: [Problem] = []
        if !section.configured { problems.append(.sectionNotConfigured()) }

        if let count = section.courseTitleCounts[titleKey(material.title)], count > 1 {
            problems.append(.titleNotUnique(title: material.title, count: count))
        }
        if let limit = profile.titleLimit, material.title.count > limit {
            problems.append(.titleTooLong(title: material.title, limit: limit, sisName: profile.displayName))
        }

        var gradingPeriodID: String?
        if let due = material.dueAt {
            // A period is needed when the SIS checks it, and whenever we must send one.
            if profile.dueDateMustBeInGradingPeriod || profile.gradingPeriod == .send {
                if let period = gradingPeriod(containing: due, in: section.gradingPeriods, zone: section.timeZone) {
                    if profile.gradingPeriod == .send { gradingPeriodID = period.sourcedId }
                } else {
                    problems.append(
                        .dueDateOutsideGradingPeriod(
                            dueDay: SchoolCalendar.localDay(due, in: section.timeZone), dueTime: SchoolCalendar.localTime(due, in: section.timeZone),
                            zone: SchoolCalendar.name(of: section.timeZone), periods: section.gradingPeriods))
                }
            }
        } else if profile.dueDateRequired {
            problems.append(.dueDateMissing(sisName: profile.displayName))
        }

        var category: SISCategoryRef?
        if let categoryID = material.lmsCategoryID, !categoryID.isEmpty {
            if section.configured {
                if let mapped = section.categoryMap[categoryID] {
                    category = mapped
                } else {
                    problems.append(.categoryUnmapped(lmsCategoryID: categoryID, lmsCategoryTitle: material.lmsCategoryTitle))
                }
            }
        } else {
            switch profile.uncategorized {
            case .notSynced: problems.append(.uncategorized())
            case .genericCategory(let title): category = genericCategory(connection: section.connectionID, title: title)
            }
        }

        let blocked = problems.contains { $0.severity == .error }
        var results: [PlannedResult] = []
        for grade in latestGradePerStudent(grades) {
            let student = grade.studentSourcedId
            guard grade.score != nil || grade.exception != nil else { continue }
            guard section.enrolledStudents.contains(student) else {
                // Another linked section's student is sent there; one dropped from this section is
                // reported here; one no linked section ever enrolled is reported once, by one section.
                if reportsUnenrolled || section.formerStudents.contains(student), !section.otherLinkedStudents.contains(student) {
                    problems.append(.studentNotEnrolled(studentSourcedId: student, otherLinkedSections: section.otherLinkedSections))
                }
                continue
            }
            var sendable = true
            if let score = grade.score, !score.isFinite || score < 0 {
                problems.append(.scoreInvalid(score: score, studentSourcedId: student))
                sendable = false
            }
            if sendable, let score = grade.score, let max = material.maxPoints, max > 0, score > max * profile.scoreWarningMultiple {
                problems.append(.scoreUnusuallyHigh(score: score, maxPoints: max, multiple: profile.scoreWarningMultiple, studentSourcedId: student))
            }
            var comment = grade.comment
            if let text = comment, text.count > profile.commentLimit {
                problems.append(.commentTooLong(length: text.count, limit: profile.commentLimit, studentSourcedId: student))
                comment = String(text.prefix(max(0, profile.commentLimit)))
            }
            if sendable {
                results.append(
                    PlannedResult(
                        sourcedId: SourcedIDs.result(lineItemSourcedId: lineItemID, studentSourcedId: student), studentSourcedId: student,
                        scoreStatus: ScoreStatusMapping.scoreStatus(for: grade.exception), score: grade.score, comment: comment))
            }
        }

        return ItemPlan(
            problems: problems, blocked: blocked, lineItemSourcedId: lineItemID, sisCategory: category,
            gradingPeriodSourcedId: gradingPeriodID, results: blocked ? [] : results)
    }

    /// The key under which a title is counted for `TITLE_NOT_UNIQUE`: trimmed, every run of
    /// whitespace made one space, lowercased. Teachers see "Quiz 1", "quiz 1" and "Quiz  1 "
    /// as the same item, and so does a SIS gradebook column, so they are duplicates.
    /// (Canonically equivalent Unicode, e.g. a composed or decomposed "é", is already equal
    /// as a Swift `String`.) `SectionInfo.courseTitleCounts` must be keyed by this.
    public static func titleKey(_ title: String) -> String {
        title.split(whereSeparator: \.isWhitespace).joined(separator: " ").lowercased()
    }

    /// The generic SIS category a profile with `.genericCategory(title:)` files uncategorised
    /// items under. One per connection (1.1 categories are global, not per class), with a
    /// deterministic `sourcedId` (`SourcedIDs.genericCategory`) so that PUTting it again is
    /// harmless and every section of the connection shares it.
    public static func genericCategory(connection: String, title: String) -> SISCategoryRef {
        SISCategoryRef(sourcedId: SourcedIDs.genericCategory(connection: connection, title: title), title: title)
    }

    /// The grading period whose days (inclusive) contain the due date's local day in the
    /// school's `zone` (never the server's), or `nil`.
    ///
    /// When periods overlap (a shared boundary day is common), the one that ends first wins,
    /// then the one that started last, then the smallest `sourcedId`: a due date on a boundary
    /// closes the earlier period, and the choice never depends on input order.
    public static func gradingPeriod(
        containing date: Date, in periods: [GradingPeriodInfo],
        zone: TimeZone = TimeZone(identifier: SchoolCalendar.defaultZoneName)!
    ) -> GradingPeriodInfo? {
        let day = SchoolCalendar.localDay(date, in: zone)
        var best: (period: GradingPeriodInfo, start: CalendarDate, end: CalendarDate)?
        for period in periods {
            let start = period.startDay, end = period.endDay
            guard start <= day, day <= end else { continue }
            if let current = best {
                let better =
                    end != current.end
                    ? end < current.end
                    : start != current.start
                        ? start > current.start
                        : period.sourcedId < current.period.sourcedId
                if !better { continue }
            }
            best = (period, start, end)
        }
        return best?.period
    }

    /// One grade per student, the last given winning (two results with one `sourcedId` would
    /// just overwrite each other), ordered by student for a stable plan.
    static func latestGradePerStudent(_ grades: [GradeInfo]) -> [GradeInfo] {
        var latest: [String: GradeInfo] = [:]
        for grade in grades { latest[grade.studentSourcedId] = grade }
        return latest.values.sorted { $0.studentSourcedId < $1.studentSourcedId }
    }
}
