import Testing

@testable import PassbackCore

@Suite("Exception to scoreStatus mapping")
struct GradeMappingTests {
    static let table: [(GradeException?, ResultScoreStatus, String)] = [
        (.excused, .exempt, "exempt"),
        (.incomplete, .partiallyGraded, "partially graded"),
        (.missing, .notSubmitted, "not submitted"),
        (nil, .fullyGraded, "fully graded")
    ]

    @Test("each LMS exception maps to the seed's OneRoster 1.1 scoreStatus", arguments: table)
    func mapping(exception: GradeException?, status: ResultScoreStatus, wire: String) {
        #expect(ScoreStatusMapping.scoreStatus(for: exception) == status)
        #expect(ScoreStatusMapping.scoreStatus(for: exception).rawValue == wire)
    }

    @Test("the table covers every exception")
    func coversAllExceptions() {
        #expect(Set(Self.table.compactMap(\.0)) == Set(GradeException.allCases))
    }

    @Test("the five 1.1 scoreStatus strings are spelled with spaces, as the standard has them")
    func wireStrings() {
        #expect(Set(ResultScoreStatus.allCases.map(\.rawValue)) == ["exempt", "fully graded", "not submitted", "partially graded", "submitted"])
    }

    @Test("submitted is never produced: only graded work is passed back")
    func neverSubmitted() {
        let produced = ([nil] + GradeException.allCases.map(Optional.some)).map { ScoreStatusMapping.scoreStatus(for: $0) }
        #expect(!produced.contains(.submitted))
    }
}
