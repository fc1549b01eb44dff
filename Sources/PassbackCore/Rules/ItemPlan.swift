import Foundation

/// One result to send, already mapped to what OneRoster carries.
public struct PlannedResult: Sendable, Hashable {
    /// Deterministic `sourcedId` (lineItem, student): a resend replaces, never duplicates.
    public var sourcedId: String
    /// The student's SIS `sourcedId`.
    public var studentSourcedId: String
    /// The exception mapped through the seed's table.
    public var scoreStatus: ResultScoreStatus
    /// The score, finite and non-negative, or `nil` when only an exception is sent.
    public var score: Double?
    /// The comment, already cut to the profile's limit.
    public var comment: String?

    /// A result ready for the outbox.
    public init(sourcedId: String, studentSourcedId: String, scoreStatus: ResultScoreStatus, score: Double?, comment: String?) {
        self.sourcedId = sourcedId
        self.studentSourcedId = studentSourcedId
        self.scoreStatus = scoreStatus
        self.score = score
        self.comment = comment
    }
}

/// What the rules say about one material in one section: the dry run's row, and what the
/// planner turns into outbox jobs.
public struct ItemPlan: Sendable, Hashable {
    /// Errors and warnings, item-level first (in rule order), then per-result ones by student.
    public var problems: [Problem]
    /// An item-level error (or an opted-out / deleted material): nothing is sent for this item.
    public var blocked: Bool
    /// The lineItem's deterministic `sourcedId`, set even when blocked so the status and audit
    /// log can refer to it.
    public var lineItemSourcedId: String
    /// From the section's map, or the profile's generic category; `nil` when no category
    /// could be resolved (a category rule failed, or the section is not configured).
    public var sisCategory: SISCategoryRef?
    /// The grading period containing the due date; `nil` when the profile lets the SIS derive it,
    /// there is no due date, or no period contains it.
    public var gradingPeriodSourcedId: String?
    /// Results to send, by student; students with an error are left out. Empty when blocked.
    public var results: [PlannedResult]

    /// A plan as the rules produce it.
    public init(
        problems: [Problem], blocked: Bool, lineItemSourcedId: String, sisCategory: SISCategoryRef?, gradingPeriodSourcedId: String?,
        results: [PlannedResult]
    ) {
        self.problems = problems
        self.blocked = blocked
        self.lineItemSourcedId = lineItemSourcedId
        self.sisCategory = sisCategory
        self.gradingPeriodSourcedId = gradingPeriodSourcedId
        self.results = results
    }

    /// The errors only: any of them makes the item's status `ERROR`.
    public var errors: [Problem] { problems.filter { $0.severity == .error } }

    /// The warnings only: shown beside a successful sync.
    public var warnings: [Problem] { problems.filter { $0.severity == .warning } }
}
