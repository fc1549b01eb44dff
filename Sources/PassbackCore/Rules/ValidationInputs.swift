import Foundation
import OneRosterModels

/// A grading period of a section's term, as rostered from the SIS.
public struct GradingPeriodInfo: Sendable, Hashable {
    /// The academicSession's `sourcedId`, sent as the lineItem's `gradingPeriod`.
    public var sourcedId: String
    /// Its title, named in messages so the teacher knows which period is meant.
    public var title: String
    /// First day, inclusive (OneRoster's `startDate`).
    public var startDay: CalendarDate
    /// Last day, inclusive (`endDate`).
    public var endDay: CalendarDate

    /// A grading period; the store reads its days from the rostered `YYYY-MM-DD` text once.
    public init(sourcedId: String, title: String, startDay: CalendarDate, endDay: CalendarDate) {
        self.sourcedId = sourcedId
        self.title = title
        self.startDay = startDay
        self.endDay = endDay
    }
}

/// A SIS grading category as a lineItem refers to it.
public struct SISCategoryRef: Sendable, Hashable {
    /// The category's `sourcedId` in the SIS.
    public var sourcedId: String
    /// Its title (kept for messages, the dry run and, for a generic category, the PUT).
    public var title: String

    /// A reference to a SIS category.
    public init(sourcedId: String, title: String) {
        self.sourcedId = sourcedId
        self.title = title
    }
}

/// The facts about one LMS material that the rules look at.
public struct MaterialInfo: Sendable, Hashable {
    /// The material's stable LMS id: with the section, it fixes the lineItem's `sourcedId`.
    public var lmsID: String
    /// The title as it will be sent.
    public var title: String
    /// The due date, an instant; `nil` when the teacher set none.
    public var dueAt: Date?
    /// LMS id of its category; `nil` (or empty) = uncategorised.
    public var lmsCategoryID: String?
    /// Maximum points, sent as `resultValueMax`.
    public var maxPoints: Double?
    /// The material's "Sync to SIS" flag: off means it never syncs (`OPT_OUT`).
    public var syncToSIS: Bool
    /// Deleted in the LMS: no longer updated (its SIS item stays).
    public var deleted: Bool
    /// The LMS category's title, when known: lets `CATEGORY_UNMAPPED` name the category
    /// instead of an id the teacher has never seen.
    public var lmsCategoryTitle: String?

    /// The rules' view of a material. `syncToSIS` defaults to on, as in the LMS.
    public init(
        lmsID: String, title: String, dueAt: Date? = nil, lmsCategoryID: String? = nil, maxPoints: Double? = nil,
        syncToSIS: Bool = true, deleted: Bool = false, lmsCategoryTitle: String? = nil
    ) {
        self.lmsID = lmsID
        self.title = title
        self.dueAt = dueAt
        self.lmsCategoryID = lmsCategoryID
        self.maxPoints = maxPoints
        self.syncToSIS = syncToSIS
        self.deleted = deleted
        self.lmsCategoryTitle = lmsCategoryTitle
    }
}

/// One student's grade on a material.
public struct GradeInfo: Sendable, Hashable {
    /// The student's SIS `sourcedId`.
    public var studentSourcedId: String
    /// The numeric score, if any.
    public var score: Double?
    /// An exception code, if any (sent as the score status).
    public var exception: GradeException?
    /// The teacher's comment, if any.
    public var comment: String?

    /// A grade. One with neither score nor exception is not sent (nothing to say yet).
    public init(studentSourcedId: String, score: Double? = nil, exception: GradeException? = nil, comment: String? = nil) {
        self.studentSourcedId = studentSourcedId
        self.score = score
        self.exception = exception
        self.comment = comment
    }
}

/// What the rules need to know about one linked section (a SIS class) and its course.
public struct SectionInfo: Sendable, Hashable {
    /// The SIS connection the section belongs to (part of every sourcedId Passback derives).
    public var connectionID: String
    /// The SIS class's `sourcedId`.
    public var sectionSourcedId: String
    /// Whether its configuration (category map) was saved once.
    public var configured: Bool
    /// LMS category id → SIS category, for this section.
    public var categoryMap: [String: SISCategoryRef]
    /// The grading periods of the section's term(s).
    public var gradingPeriods: [GradingPeriodInfo]
    /// `sourcedId`s of the section's active student enrollments.
    public var enrolledStudents: Set<String>
    /// The `sourcedId`s of the other SIS sections linked to the same LMS course, in order.
    public var otherLinkedSections: [String]
    /// `sourcedId`s of the active students of those other sections: their grades are theirs.
    public var otherLinkedStudents: Set<String>
    /// `sourcedId`s of students dropped from this section and enrolled in no linked section now:
    /// this section reports their grades as `STUDENT_NOT_ENROLLED` (whichever section reports
    /// the grades of students no linked section ever enrolled).
    public var formerStudents: Set<String>
    /// How many live (not deleted) materials of the LMS course have each title, keyed by
    /// `Validation.titleKey(_:)` of the title (callers **must** key by it, or titles that
    /// differ only in case or spacing will not be seen as duplicates).
    public var courseTitleCounts: [String: Int]
    /// The school's time zone: a due date's local day there decides its grading period.
    public var timeZone: TimeZone

    /// The rules' view of a section.
    public init(
        connectionID: String, sectionSourcedId: String, configured: Bool, categoryMap: [String: SISCategoryRef] = [:],
        gradingPeriods: [GradingPeriodInfo] = [], enrolledStudents: Set<String> = [], otherLinkedSections: [String] = [],
        otherLinkedStudents: Set<String> = [], formerStudents: Set<String> = [], courseTitleCounts: [String: Int] = [:],
        timeZone: TimeZone = TimeZone(identifier: SchoolCalendar.defaultZoneName)!
    ) {
        self.connectionID = connectionID
        self.sectionSourcedId = sectionSourcedId
        self.configured = configured
        self.categoryMap = categoryMap
        self.gradingPeriods = gradingPeriods
        self.enrolledStudents = enrolledStudents
        self.otherLinkedSections = otherLinkedSections
        self.otherLinkedStudents = otherLinkedStudents
        self.formerStudents = formerStudents
        self.courseTitleCounts = courseTitleCounts
        self.timeZone = timeZone
    }
}
