import Foundation
import OneRosterModels

/// The kinds of SIS object Passback writes, each fingerprinted on its own: a regrade changes
/// one result, so only that result is sent again.
public enum SISObjectKind: String, Sendable, Codable, CaseIterable, Hashable {
    case category, lineItem = "line_item", result
}

/// One SIS object, by kind and deterministic `sourcedId`.
public struct SISObjectKey: Sendable, Hashable {
    public var kind: SISObjectKind
    public var sourcedId: String

    public init(_ kind: SISObjectKind, _ sourcedId: String) {
        self.kind = kind
        self.sourcedId = sourcedId
    }
}

/// Everything a lineItem PUT carries. ``model`` is the one conversion to the object sent, of
/// exactly these fields, so ``fingerprint`` is the fingerprint of what the SIS holds once it
/// accepts it. Immutable: the fingerprint is taken once, when the content is made.
public struct LineItemContent: Sendable, Hashable {
    public let sourcedId: String
    public let lmsMaterialID: String
    public let sectionSourcedId: String
    public let title: String
    public let description: String?
    /// Sent as both `assignDate` and `dueDate`.
    public let dueAt: Date?
    public let categorySourcedId: String?
    public let gradingPeriodSourcedId: String?
    /// `resultValueMin` is always 0.
    public let resultValueMax: Double
    /// A digest of the fields above (see `SISContent.fingerprint`): what the outbox compares
    /// with what the SIS accepted last.
    public let fingerprint: String

    public init(
        sourcedId: String, lmsMaterialID: String, sectionSourcedId: String, title: String, description: String?, dueAt: Date?,
        categorySourcedId: String?, gradingPeriodSourcedId: String?, resultValueMax: Double
    ) {
        self.sourcedId = sourcedId
        self.lmsMaterialID = lmsMaterialID
        self.sectionSourcedId = sectionSourcedId
        self.title = title
        self.description = description
        self.dueAt = dueAt
        self.categorySourcedId = categorySourcedId
        self.gradingPeriodSourcedId = gradingPeriodSourcedId
        self.resultValueMax = resultValueMax
        fingerprint = SISContent.fingerprint(
            "lineItem",
            [
                sourcedId, lmsMaterialID, sectionSourcedId, title, description, dueAt.map(Timestamp.text), categorySourcedId,
                gradingPeriodSourcedId, SISContent.number(resultValueMax)
            ])
    }

    public var key: SISObjectKey { SISObjectKey(.lineItem, sourcedId) }

    /// The lineItem PUT: these fields and nothing else (Passback's own two metadata keys say
    /// which material and section it stands for).
    public var model: LineItem {
        LineItem(
            sourcedId: sourcedId, status: .active,
            metadata: ["passback.lmsMaterialId": .string(lmsMaterialID), "passback.section": .string(sectionSourcedId)],
            title: title, description: description, assignDate: dueAt, dueDate: dueAt,
            class: Reference(sectionSourcedId, type: .class), category: categorySourcedId.map { Reference($0, type: .category) },
            gradingPeriod: gradingPeriodSourcedId.map { Reference($0, type: .academicSession) },
            resultValueMin: 0, resultValueMax: resultValueMax)
    }
}

/// Everything a result PUT carries (``model``), fingerprinted once when made.
public struct ResultContent: Sendable, Hashable {
    public let sourcedId: String
    public let lineItemSourcedId: String
    public let studentSourcedId: String
    public let scoreStatus: ResultScoreStatus
    public let score: Double?
    /// `scoreDate`: the school's local day the grade was last changed in the LMS.
    public let scoreDay: CalendarDate?
    /// Already cut to the profile's limit.
    public let comment: String?
    public let fingerprint: String

    public init(
        sourcedId: String, lineItemSourcedId: String, studentSourcedId: String, scoreStatus: ResultScoreStatus, score: Double?,
        scoreDay: CalendarDate?, comment: String?
    ) {
        self.sourcedId = sourcedId
        self.lineItemSourcedId = lineItemSourcedId
        self.studentSourcedId = studentSourcedId
        self.scoreStatus = scoreStatus
        self.score = score
        self.scoreDay = scoreDay
        self.comment = comment
        fingerprint = SISContent.fingerprint(
            "result", [sourcedId, lineItemSourcedId, studentSourcedId, scoreStatus.rawValue, score.map(SISContent.number), scoreDay?.description, comment])
    }

    public var key: SISObjectKey { SISObjectKey(.result, sourcedId) }

    /// The result PUT.
    public var model: GradebookResult {
        GradebookResult(
            sourcedId: sourcedId, status: .active, lineItem: Reference(lineItemSourcedId, type: .lineItem),
            student: Reference(studentSourcedId, type: .student), scoreStatus: ScoreStatus(rawValue: scoreStatus.rawValue) ?? .fullyGraded,
            score: score, scoreDate: scoreDay, comment: comment)
    }
}

/// A generic SIS category a profile files uncategorised items under (shared by a connection).
public struct CategoryContent: Sendable, Hashable {
    public let sourcedId: String
    public let title: String
    public let fingerprint: String

    public init(sourcedId: String, title: String) {
        self.sourcedId = sourcedId
        self.title = title
        fingerprint = SISContent.fingerprint("category", [sourcedId, title])
    }

    public var key: SISObjectKey { SISObjectKey(.category, sourcedId) }

    /// The category PUT, marked as Passback's generic one.
    public var model: OneRosterModels.Category {
        OneRosterModels.Category(sourcedId: sourcedId, metadata: ["passback.generic": true], title: title)
    }
}

enum SISContent {
    /// A digest of the fields in order; `nil` is distinct from every string (it is written as a
    /// separator that text cannot hold), and so are the field boundaries.
    static func fingerprint(_ kind: String, _ fields: [String?]) -> String {
        var text = kind
        for f in fields {
            text += "\u{1E}"
            text += f.map { "\u{1F}" + $0 } ?? "\u{0}"
        }
        return Fingerprint.of(text)
    }

    /// Shortest text that reads back as the same `Double`: stable across runs and machines.
    static func number(_ d: Double) -> String { "\(d)" }
}
