import Foundation
import OneRosterModels
import Testing

@testable import PassbackCore

@Suite("Problem codes and messages")
struct ProblemTests {
    static let rawValues: [(ProblemCode, String)] = [
        (.titleNotUnique, "TITLE_NOT_UNIQUE"), (.titleTooLong, "TITLE_TOO_LONG"), (.dueDateMissing, "DUE_DATE_MISSING"),
        (.dueDateOutsideGradingPeriod, "DUE_DATE_OUTSIDE_GRADING_PERIOD"), (.sectionNotConfigured, "SECTION_NOT_CONFIGURED"),
        (.categoryUnmapped, "CATEGORY_UNMAPPED"), (.uncategorized, "UNCATEGORIZED"), (.studentNotEnrolled, "STUDENT_NOT_ENROLLED"),
        (.scoreInvalid, "SCORE_INVALID"), (.commentTooLong, "COMMENT_TOO_LONG"),
        (.scoreUnusuallyHigh, "SCORE_UNUSUALLY_HIGH"), (.sisRejected, "SIS_REJECTED"),
        (.sisAuthFailed, "SIS_AUTH_FAILED"), (.sisUnavailable, "SIS_UNAVAILABLE"), (.sisConnectionBlocked, "SIS_CONNECTION_BLOCKED"),
        (.sisDiffers, "SIS_DIFFERS")
    ]

    @Test("every code has its stable wire string", arguments: rawValues)
    func rawValue(code: ProblemCode, raw: String) {
        #expect(code.rawValue == raw)
    }

    @Test("the raw-value table covers every code")
    func tableCoversAllCodes() {
        #expect(Set(Self.rawValues.map(\.0)) == Set(ProblemCode.allCases))
        #expect(ProblemCode.allCases.count == 16)
    }

    @Test(
        "only a long comment, an unusually high score and a SIS that holds other values are warnings; everything else stops the write",
        arguments: ProblemCode.allCases)
    func severity(code: ProblemCode) {
        #expect(code.severity == ([.commentTooLong, .scoreUnusuallyHigh, .sisDiffers].contains(code) ? .warning : .error))
        #expect(Problem(code: code, message: "m").severity == code.severity)
    }

    /// Each factory, the facts its message must name, and the fix it must tell.
    struct MessageCase: Sendable, CustomTestStringConvertible {
        var problem: Problem
        var code: ProblemCode
        var field: String?
        var mustMention: [String]
        var testDescription: String { code.rawValue }
    }

    static let periods = [
        GradingPeriodInfo(sourcedId: "q2", title: "Q2", startDay: day("2026-10-19"), endDay: day("2026-12-18")),
        GradingPeriodInfo(sourcedId: "q1", title: "Q1", startDay: day("2026-08-17"), endDay: day("2026-10-16"))
    ]

    static let messages: [MessageCase] = [
        MessageCase(problem: .titleNotUnique(title: "Quiz 1", count: 2), code: .titleNotUnique, field: "title", mustMention: ["“Quiz 1”", "2", "Rename"]),
        MessageCase(
            problem: .titleTooLong(title: String(repeating: "a", count: 57), limit: 50, sisName: "Aeries"), code: .titleTooLong, field: "title",
            mustMention: ["57 characters", "Aeries", "at most 50", "Shorten it by 7"]),
        MessageCase(problem: .dueDateMissing(sisName: "Skyward"), code: .dueDateMissing, field: "dueDate", mustMention: ["Skyward", "Set a due date"]),
        MessageCase(
            problem: .dueDateOutsideGradingPeriod(dueDay: day("2026-12-21"), dueTime: "23:59", zone: "America/Los_Angeles", periods: periods),
            code: .dueDateOutsideGradingPeriod, field: "dueDate",
            mustMention: ["2026-12-21 (23:59, America/Los_Angeles time)", "Q1 (2026-08-17 to 2026-10-16), Q2 (2026-10-19 to 2026-12-18)", "Move the due date"]),
        MessageCase(
            problem: .dueDateOutsideGradingPeriod(dueDay: day("2026-12-21"), dueTime: "08:00", zone: "UTC", periods: []),
            code: .dueDateOutsideGradingPeriod, field: "dueDate", mustMention: ["2026-12-21 (08:00, UTC time)", "no grading period", "SIS administrator"]),
        MessageCase(problem: .sectionNotConfigured(), code: .sectionNotConfigured, field: "section", mustMention: ["save the configuration once"]),
        MessageCase(
            problem: .categoryUnmapped(lmsCategoryID: "cat-9", lmsCategoryTitle: "Labs"), code: .categoryUnmapped, field: "category",
            mustMention: ["“Labs”", "Map it"]),
        MessageCase(
            problem: .categoryUnmapped(lmsCategoryID: "cat-9", lmsCategoryTitle: nil), code: .categoryUnmapped, field: "category",
            mustMention: ["cat-9", "Map it"]),
        MessageCase(problem: .uncategorized(), code: .uncategorized, field: "category", mustMention: ["no grading category", "Assign it a category"]),
        MessageCase(
            problem: .studentNotEnrolled(studentSourcedId: "stu-9"), code: .studentNotEnrolled, field: nil,
            mustMention: ["stu-9", "Check the enrollment"]),
        MessageCase(
            problem: .scoreInvalid(score: -3, studentSourcedId: "stu-9"), code: .scoreInvalid, field: "score",
            mustMention: ["stu-9", "negative (-3.0)", "Correct the score"]),
        MessageCase(
            problem: .scoreInvalid(score: .nan, studentSourcedId: "stu-9"), code: .scoreInvalid, field: "score",
            mustMention: ["not a number", "Correct the score"]),
        MessageCase(
            problem: .scoreUnusuallyHigh(score: 1e308, maxPoints: 10, multiple: 10, studentSourcedId: "stu-9"), code: .scoreUnusuallyHigh, field: "score",
            mustMention: ["stu-9", "1e+308", "worth 10 points", "10× the maximum", "sent as it is", "correct it in the LMS"]),
        MessageCase(
            problem: .commentTooLong(length: 130, limit: 100, studentSourcedId: "stu-9"), code: .commentTooLong, field: "comment",
            mustMention: ["130 characters", "first 100 were sent", "Shorten the comment"]),
        MessageCase(
            problem: .sisRejected(message: "422 dueDate outside term"), code: .sisRejected, field: nil,
            mustMention: ["422 dueDate outside term", "Fix what the SIS names"]),
        MessageCase(
            problem: .sisAuthFailed(message: "401 invalid_client"), code: .sisAuthFailed, field: nil,
            mustMention: ["401 invalid_client", "client id, secret"]),
        MessageCase(
            problem: .sisUnavailable(attempts: 12, message: "503"), code: .sisUnavailable, field: nil,
            mustMention: ["12 attempts", "503", "Sync again later"]),
        MessageCase(
            problem: .sisConnectionBlocked(cause: "the SIS refused Passback's credentials: set CONNECTION_D_CLIENT_SECRET"), code: .sisConnectionBlocked,
            field: nil, mustMention: ["held", "CONNECTION_D_CLIENT_SECRET", "go on their own"]),
        MessageCase(
            problem: .sisDiffers(
                object: "the result of student stu-9", fields: [("score", "\"7.0\"", "\"10.0\""), ("comment", "\"Good\"", "nothing")],
                studentSourcedId: "stu-9"),
            code: .sisDiffers, field: "score",
            mustMention: [
                "student stu-9", "score: sent \"7.0\", SIS holds \"10.0\"", "comment: sent \"Good\", SIS holds nothing",
                "next Sync Changes writes it again", "change it in the LMS"
            ])
    ]

    @Test("every code's message names the facts and tells what to fix", arguments: messages)
    func messageSaysWhatToFix(_ c: MessageCase) {
        #expect(c.problem.code == c.code)
        #expect(c.problem.field == c.field)
        for fragment in c.mustMention { #expect(c.problem.message.contains(fragment), "missing “\(fragment)” in: \(c.problem.message)") }
    }

    @Test("the message table covers every code")
    func messagesCoverAllCodes() {
        #expect(Set(Self.messages.map(\.code)) == Set(ProblemCode.allCases))
    }

    @Test("per-result problems carry the student, item-level ones do not")
    func studentIsSetOnlyPerResult() {
        #expect(Problem.studentNotEnrolled(studentSourcedId: "s").studentSourcedId == "s")
        #expect(Problem.scoreInvalid(score: -1, studentSourcedId: "s").studentSourcedId == "s")
        #expect(Problem.commentTooLong(length: 2, limit: 1, studentSourcedId: "s").studentSourcedId == "s")
        #expect(Problem.uncategorized().studentSourcedId == nil)
        #expect(Problem.sectionNotConfigured().studentSourcedId == nil)
    }

    @Test("a problem encodes its code as the stable string and decodes back")
    func codableRoundTrip() throws {
        let problem = Problem.commentTooLong(length: 120, limit: 100, studentSourcedId: "stu-1")
        let data = try JSONEncoder().encode(problem)
        let text = try #require(String(data: data, encoding: .utf8))
        #expect(text.contains("\"COMMENT_TOO_LONG\""))
        #expect(try JSONDecoder().decode(Problem.self, from: data) == problem)
    }
}
