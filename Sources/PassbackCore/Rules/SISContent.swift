import Foundation

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

/// Everything a lineItem PUT carries. The sync layer encodes exactly these fields, so the
/// fingerprint of this value is the fingerprint of what the SIS holds once it accepts it.
public struct LineItemContent: Sendable, Hashable {
    public var sourcedId: String
    public var lmsMaterialID: String
    public var sectionSourcedId: String
    public var title: String
    public var description: String?
    /// Sent as both `assignDate` and `dueDate`.
    public var dueAt: Date?
    public var categorySourcedId: String?
    public var gradingPeriodSourcedId: String?
    /// `resultValueMin` is always 0.
    public var resultValueMax: Double

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
    }

    public var key: SISObjectKey { SISObjectKey(.lineItem, sourcedId) }

    public var fingerprint: String {
        SISContent.fingerprint(
            "lineItem",
            [
                sourcedId, lmsMaterialID, sectionSourcedId, title, description, dueAt.map(Timestamp.text), categorySourcedId,
                gradingPeriodSourcedId, SISContent.number(resultValueMax)
            ])
    }
}

/// Everything a result PUT carries.
public struct ResultContent: Sendable, Hashable {
    public var sourcedId: String
    public var lineItemSourcedId: String
    public var studentSourcedId: String
    public var scoreStatus: ResultScoreStatus
    public var score: Double?
    /// `scoreDate`: the UTC day the grade was last changed in the LMS (`YYYY-MM-DD`).
    public var scoreDay: String?
    /// Already cut to the profile's limit.
    public var comment: String?

    public init(
        sourcedId: String, lineItemSourcedId: String, studentSourcedId: String, scoreStatus: ResultScoreStatus, score: Double?,
        scoreDay: String?, comment: String?
    ) {
        self.sourcedId = sourcedId
        self.lineItemSourcedId = lineItemSourcedId
        self.studentSourcedId = studentSourcedId
        self.scoreStatus = scoreStatus
        self.score = score
        self.scoreDay = scoreDay
        self.comment = comment
    }

    public var key: SISObjectKey { SISObjectKey(.result, sourcedId) }

    public var fingerprint: String {
        SISContent.fingerprint(
            "result", [sourcedId, lineItemSourcedId, studentSourcedId, scoreStatus.rawValue, score.map(SISContent.number), scoreDay, comment])
    }
}

/// A generic SIS category a profile files uncategorised items under (shared by a connection).
public struct CategoryContent: Sendable, Hashable {
    public var sourcedId: String
    public var title: String

    public init(sourcedId: String, title: String) {
        self.sourcedId = sourcedId
        self.title = title
    }

    public var key: SISObjectKey { SISObjectKey(.category, sourcedId) }

    public var fingerprint: String { SISContent.fingerprint("category", [sourcedId, title]) }
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
