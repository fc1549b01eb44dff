import Foundation
import Testing

@testable import OneRoster

@Suite("OneRoster models")
struct ModelTests {
    @Test("a lineItem keeps unknown fields and metadata through a round trip")
    func unknownFieldsSurvive() throws {
        let text = """
            {"sourcedId":"li-1","status":"active","dateLastModified":"2026-09-01T10:00:00.250Z",
             "metadata":{"vendor.classScope":"cls-1","n":3},"title":"Quiz 1","assignDate":"2026-09-01T00:00:00Z",
             "dueDate":"2026-09-08T23:59:00+02:00","class":{"sourcedId":"cls-1","type":"class","href":"/classes/cls-1"},
             "category":{"sourcedId":"cat-1"},"gradingPeriod":{"sourcedId":"gp-1"},"resultValueMin":0,"resultValueMax":"20",
             "x-vendor-weight":1.5}
            """
        let item = try LineItem(json: try #require(JSONValue.parse(text).objectValue))
        #expect(item.metadata?["vendor.classScope"] == "cls-1")
        #expect(item.unknownFields["x-vendor-weight"] == .number(1.5))
        #expect(item.resultValueMax == 20)
        #expect(item.dueDate == DateTime.parse("2026-09-08T21:59:00Z"))
        #expect(item.class.href == "/classes/cls-1")
        let again = try LineItem(json: item.json)
        #expect(again == item)
        #expect(item.json["x-vendor-weight"] == .number(1.5))
        #expect(item.json["dateLastModified"] == "2026-09-01T10:00:00.250Z")
    }

    @Test("Codable goes through the same exact mapping")
    func codable() throws {
        let result = GradebookResult(
            sourcedId: "r-1", lineItem: Reference("li-1", type: .lineItem), student: Reference("s-1", type: .student),
            scoreStatus: .partiallyGraded, score: 7.5, scoreDate: CalendarDate("2026-09-03"), comment: "good",
            unknownFields: ["extra": true])
        let data = try JSONEncoder().encode(result)
        let object = try #require(JSONValue.parse(data).objectValue)
        #expect(object["scoreStatus"] == "partially graded")
        #expect(object["scoreDate"] == "2026-09-03")
        #expect(object["extra"] == true)
        #expect(try JSONDecoder().decode(GradebookResult.self, from: data) == result)
    }

    @Test("scoreStatus is exactly one of the five 1.1 strings", arguments: ScoreStatus.allCases)
    func scoreStatusStrings(status: ScoreStatus) throws {
        #expect(["exempt", "fully graded", "not submitted", "partially graded", "submitted"].contains(status.rawValue))
        let r = try GradebookResult(json: [
            "sourcedId": "r", "lineItem": ["sourcedId": "l"], "student": ["sourcedId": "s"], "scoreStatus": .string(status.rawValue)
        ])
        #expect(r.scoreStatus == status)
    }

    @Test("a scoreStatus outside 1.1 is refused and named", arguments: ["late", "fullyGraded", "Fully Graded", ""])
    func badScoreStatus(text: String) {
        #expect(throws: OneRosterDecodingError.self) {
            try GradebookResult(json: ["sourcedId": "r", "lineItem": ["sourcedId": "l"], "student": ["sourcedId": "s"], "scoreStatus": .string(text)])
        }
    }

    @Test("dates and date-times are different types on the wire")
    func datesVersusDateTimes() throws {
        let s = try AcademicSession(json: [
            "sourcedId": "gp", "title": "Q1", "type": "gradingPeriod", "startDate": "2026-08-17", "endDate": "2026-10-16",
            "schoolYear": "2027"
        ])
        #expect(s.startDate == CalendarDate(year: 2026, month: 8, day: 17))
        #expect(s.json["endDate"] == "2026-10-16")
        #expect(s.contains(CalendarDate(year: 2026, month: 10, day: 16)!))
        #expect(!s.contains(CalendarDate(year: 2026, month: 10, day: 17)!))
        let error = #expect(throws: OneRosterDecodingError.self) {
            try AcademicSession(json: ["sourcedId": "gp", "title": "Q1", "type": "gradingPeriod", "startDate": "17/08/2026", "endDate": "2026-10-16"])
        }
        #expect(error?.field == "academicSession.startDate")
    }

    @Test("1.1 booleans are strings on the wire and read either way")
    func booleans() throws {
        let u = try User(json: [
            "sourcedId": "u", "role": "student", "enabledUser": "false", "orgs": [["sourcedId": "o"]], "username": "ana",
            "givenName": "Ana", "familyName": "Lopez"
        ])
        #expect(u.enabledUser == false)
        #expect(u.json["enabledUser"] == "false")
        let e = try Enrollment(json: [
            "sourcedId": "e", "user": ["sourcedId": "u"], "class": ["sourcedId": "c"], "school": ["sourcedId": "s"], "role": "teacher", "primary": true
        ])
        #expect(e.primary == true)
    }

    @Test("a missing required reference names the field")
    func missingReference() {
        let error = #expect(throws: OneRosterDecodingError.self) {
            try Class(json: ["sourcedId": "c", "title": "Bio", "classType": "scheduled", "school": ["sourcedId": "s"], "terms": [["sourcedId": "t"]]])
        }
        #expect(error?.field == "class.course")
    }

    @Test("every model round-trips its own JSON")
    func everyModelRoundTrips() throws {
        let day = CalendarDate(year: 2026, month: 9, day: 1)!
        let stamp = DateTime.parse("2026-09-01T12:00:00Z")!
        try roundTrip(Org(sourcedId: "o", dateLastModified: stamp, name: "North High", type: .school, identifier: "NH", parent: Reference("d")))
        try roundTrip(
            AcademicSession(
                sourcedId: "t", title: "Fall", type: .term, startDate: day, endDate: day.adding(days: 90), parent: Reference("y"), schoolYear: "2027"))
        try roundTrip(Course(sourcedId: "c", title: "Biology", courseCode: "BIO", grades: ["09", "10"], subjects: ["Science"], org: Reference("o")))
        try roundTrip(
            Class(sourcedId: "k", title: "Bio P1", classCode: "BIO-1", course: Reference("c"), school: Reference("o"), terms: [Reference("t")], periods: ["1"]))
        try roundTrip(
            User(
                sourcedId: "u", username: "ava", userIds: [.init(type: "LDAP", identifier: "ava")], givenName: "Ava", familyName: "Kim", role: .teacher,
                orgs: [Reference("o")]))
        try roundTrip(
            Enrollment(sourcedId: "e", user: Reference("u"), class: Reference("k"), school: Reference("o"), role: .student, primary: false, beginDate: day))
        try roundTrip(Demographics(sourcedId: "u", birthDate: day, sex: "female", flags: ["asian": true, "white": false]))
        try roundTrip(Category(sourcedId: "cat", title: "Homework"))
    }

    func roundTrip<T: OneRosterObject>(_ value: T) throws {
        let text = JSONValue.object(value.json).serialized()
        let back = try T(json: try #require(JSONValue.parse(text).objectValue))
        #expect(back == value)
    }
}

@Suite("Dates and times")
struct DateTimeTests {
    @Test(
        "date-times parse in every form servers send",
        arguments: [
            ("2026-01-01T00:00:00Z", 1_767_225_600.0), ("2026-01-01T00:00:00.500Z", 1_767_225_600.5),
            ("2026-01-01T01:00:00+01:00", 1_767_225_600.0), ("2026-01-01", 1_767_225_600.0), ("2025-12-31T19:00:00-05:00", 1_767_225_600.0)
        ])
    func parse(text: String, epoch: Double) {
        #expect(DateTime.parse(text)?.timeIntervalSince1970 == epoch)
    }

    @Test(
        "malformed date-times are refused", arguments: ["2026-13-01T00:00:00Z", "2026-02-30", "2026-01-01T25:00:00Z", "yesterday", "2026-01-01T00:00:00+0100"])
    func refuse(text: String) {
        #expect(DateTime.parse(text) == nil)
    }

    @Test("formatting is UTC with Z and drops zero milliseconds")
    func format() {
        #expect(DateTime.format(Date(timeIntervalSince1970: 1_767_225_600)) == "2026-01-01T00:00:00Z")
        #expect(DateTime.format(Date(timeIntervalSince1970: 1_767_225_600.25)) == "2026-01-01T00:00:00.250Z")
        #expect(DateTime.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
    }

    @Test("calendar arithmetic crosses months and leap days")
    func calendar() {
        #expect(CalendarDate(year: 2028, month: 2, day: 28)!.adding(days: 1).description == "2028-02-29")
        #expect(CalendarDate(year: 2027, month: 2, day: 29) == nil)
        #expect(CalendarDate(utcDayOf: DateTime.parse("2026-10-16T23:30:00-05:00")!).description == "2026-10-17")
    }
}
