import Foundation

/// An LMS exception code on a grade, in place of (or beside) a numeric score.
public enum GradeException: String, Sendable, Codable, CaseIterable {
    case excused, incomplete, missing
}

/// The five OneRoster 1.1 `scoreStatus` strings, spaces included (1.1 has no `late`).
///
/// Core cannot import the OneRoster module, so it names them itself; the sync layer maps
/// them 1:1 by `rawValue`.
public enum ResultScoreStatus: String, Sendable, Codable, CaseIterable {
    case exempt = "exempt"
    case fullyGraded = "fully graded"
    case notSubmitted = "not submitted"
    case partiallyGraded = "partially graded"
    case submitted = "submitted"
}

/// The seed's table from LMS exceptions to OneRoster score statuses.
public enum ScoreStatusMapping {
    /// excused → `exempt`, incomplete → `partially graded`, missing → `not submitted`,
    /// no exception (a plain score) → `fully graded`.
    ///
    /// `submitted` is never produced: the LMS only passes back graded work, and some SIS
    /// coerce it anyway.
    public static func scoreStatus(for exception: GradeException?) -> ResultScoreStatus {
        switch exception {
        case .excused: .exempt
        case .incomplete: .partiallyGraded
        case .missing: .notSubmitted
        case nil: .fullyGraded
        }
    }
}
