import Foundation
import OneRoster
import OneRosterSandbox
import Testing

/// A class of the sandbox with what a lineItem needs.
struct GradebookFixture {
    var classID: String
    var students: [String]
    var outsider: String
    var gradingPeriod: String
    var category: String

    init(_ data: SandboxData) throws {
        let cls = try #require(data.all(.classes).first)
        classID = cls.id
        students = data.all(.enrollments).filter { $0.ref("class") == cls.id && $0["role"] == "student" }.compactMap { $0.ref("user") }
        let enrolled = Set(students)
        outsider = try #require(data.all(.users).first { $0["role"] == "student" && !enrolled.contains($0.id) }).id
        let term = try #require(cls["terms"]?.arrayValue?.first?.objectValue?["sourcedId"]?.stringValue)
        gradingPeriod = try #require(data.all(.academicSessions).first { $0["type"] == "gradingPeriod" && $0.ref("parent") == term }).id
        category = try #require(data.all(.categories).first).id
    }

    func lineItem(
        _ id: String, title: String = "Quiz 1", due: String = "2026-09-10T23:59:00Z", category: String?? = nil, gradingPeriod: String?? = nil
    ) -> LineItem {
        LineItem(
            sourcedId: id, title: title, assignDate: DateTime.parse("2026-09-01T00:00:00Z"), dueDate: DateTime.parse(due),
            class: Reference(classID, type: .class), category: (category ?? self.category).map { Reference($0, type: .category) },
            gradingPeriod: (gradingPeriod ?? self.gradingPeriod).map { Reference($0, type: .academicSession) }, resultValueMin: 0, resultValueMax: 20)
    }

    func result(_ lineItem: String, _ student: String, score: Double = 15, status: ScoreStatus = .fullyGraded, comment: String? = nil) -> GradebookResult {
        GradebookResult(
            sourcedId: "\(lineItem)-\(student)", lineItem: Reference(lineItem, type: .lineItem), student: Reference(student, type: .student),
            scoreStatus: status, score: score, scoreDate: CalendarDate("2026-09-11"), comment: comment)
    }
}

@Suite("Gradebook writes against the sandbox")
struct GradebookTests {
    @Test("PUT creates (201) then replaces (200) under the client's sourcedId, keeping metadata and unknown fields")
    func createThenReplace() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let f = try GradebookFixture(running.sandbox.data)
            var item = f.lineItem("li-1")
            item.metadata = ["passback.materialId": "m-42"]
            item.unknownFields = ["x-vendor-flag": true]
            #expect(try await client.put(item) == .created)
            item.title = "Quiz 1 (renamed)"
            #expect(try await client.put(item) == .replaced)
            let back = try await client.get(.lineItems, id: "li-1")
            #expect(back.title == "Quiz 1 (renamed)")
            #expect(back.metadata == ["passback.materialId": "m-42"])
            #expect(back.unknownFields["x-vendor-flag"] == true)
            #expect(back.dateLastModified == clock.now)
            #expect(try await client.put(f.result("li-1", f.students[0], status: .exempt)) == .created)
            #expect(try await client.put(OneRoster.Category(sourcedId: "cat-new", title: "Labs")) == .created)
            let stats = running.sandbox.data.writeStats
            #expect(stats.created[.lineItems] == 1)
            #expect(stats.replaced[.lineItems] == 1)
            #expect(stats.putsByRecord["lineItems/li-1"] == 2)
        }
    }

    @Test("DELETE removes; a second DELETE or GET is notFound; an SIS without DELETE refuses it")
    func delete() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let f = try GradebookFixture(running.sandbox.data)
            try await client.put(f.lineItem("li-d"))
            try await client.delete(LineItem.self, id: "li-d")
            let failure1 = await oneRosterError { _ = try await client.get(.lineItems, id: "li-d") }
            #expect(failure1?.kind == .notFound)
            let failure2 = await oneRosterError { try await client.delete(LineItem.self, id: "li-d") }
            #expect(failure2?.kind == .notFound)
        }
        try await withSandbox({ $0.quirks.noDelete = true }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let f = try GradebookFixture(running.sandbox.data)
            try await client.put(f.lineItem("li-d"))
            let e = await oneRosterError { try await client.delete(LineItem.self, id: "li-d") }
            #expect(e?.kind == .invalidData)
            #expect(e?.httpStatus == 405)
        }
    }

    @Test("strict validation answers 422 with an imsx body naming the field")
    func validation() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let f = try GradebookFixture(running.sandbox.data)
            let cases: [(String, () async throws -> Void)] = [
                ("lineItem.category", { try await client.put(f.lineItem("li-x", category: .some(nil))) }),
                ("lineItem.category", { try await client.put(f.lineItem("li-x", category: "no-such-category")) }),
                ("lineItem.gradingPeriod", { try await client.put(f.lineItem("li-x", gradingPeriod: .some(nil))) }),
                (
                    "lineItem.class",
                    {
                        var li = f.lineItem("li-x"); li.class = Reference("no-class"); try await client.put(li)
                    }
                ),
                (
                    "lineItem.resultValueMax",
                    {
                        var li = f.lineItem("li-x"); li.resultValueMax = nil; try await client.put(li)
                    }
                ),
                ("result.lineItem", { try await client.put(f.result("no-item", f.students[0])) })
            ]
            for (field, call) in cases {
                let e = await oneRosterError(call)
                #expect(e?.kind == .invalidData, "\(field)")
                #expect(e?.httpStatus == 422, "\(field)")
                #expect(e?.body?.codeMajor == "failure")
                #expect(e?.message.hasPrefix(field) == true, "\(field): \(e?.message ?? "no error")")
            }
            try await client.put(f.lineItem("li-1"))
            let notEnrolled = await oneRosterError { try await client.put(f.result("li-1", f.outsider)) }
            #expect(notEnrolled?.kind == .invalidData)
            #expect(notEnrolled?.message.contains("not enrolled") == true)
            let noScore = await oneRosterError {
                var r = f.result("li-1", f.students[0])
                r.score = nil
                try await client.put(r)
            }
            #expect(noScore?.message.hasPrefix("result.score") == true)
            #expect(running.sandbox.data.count(.results) == 0)
        }
    }

    @Test("a body a typed client could never send is refused with the field named")
    func rawBodies() async throws {
        try await withSandbox({ $0.auth.mode = .none }) { (running, _) async throws in
            let f = try GradebookFixture(running.sandbox.data)
            let base = running.baseURL.absoluteString
            let bodies: [(String, String, String)] = [
                (
                    "results/r1",
                    #"{"result":{"lineItem":{"sourcedId":"x"},"student":{"sourcedId":"\#(f.students[0])"},"scoreStatus":"late","score":1,"scoreDate":"2026-09-01"}}"#,
                    "result.scoreStatus"
                ),
                ("lineItems/l1", #"{"lineItem":{"title":"A","class":{"sourcedId":"\#(f.classID)"},"dueDate":"next week"}}"#, "lineItem.dueDate"),
                ("lineItems/l1", #"{"lineItem":{"sourcedId":"other","title":"A"}}"#, "lineItem.sourcedId"),
                ("lineItems/l1", #"{"title":"unwrapped"}"#, "body"),
                ("categories/c1", #"{"category":{"title":""}}"#, "category.title")
            ]
            for (path, body, field) in bodies {
                let response = try await sharedTransport.send(
                    HTTPRequest(
                        method: "PUT", url: URL(string: "\(base)/\(path)")!,
                        headers: ["Content-Type": "application/json"], body: Data(body.utf8)))
                #expect(response.status == 422, "\(field)")
                let error = OneRosterError(operation: "PUT \(path)", response: response)
                #expect(error.message.hasPrefix(field), "\(error.message)")
            }
            let notJSON = try await sharedTransport.send(HTTPRequest(method: "PUT", url: URL(string: "\(base)/results/r1")!, body: Data("{oops".utf8)))
            #expect(notJSON.status == 400)
        }
    }

    @Test("vendor quirks: title limit, due date inside the grading period, derived grading period, placeholder category, comment limit")
    func quirks() async throws {
        try await withSandbox({
            $0.quirks.titleLimit = 50
            $0.quirks.dueDateInGradingPeriod = true
            $0.quirks.deriveGradingPeriod = true
            $0.quirks.placeholderCategory = true
            $0.quirks.commentLimit = 100
        }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let f = try GradebookFixture(running.sandbox.data)
            let long = await oneRosterError { try await client.put(f.lineItem("li-x", title: String(repeating: "t", count: 51))) }
            #expect(long?.message.contains("at most 50") == true)
            try await client.put(f.lineItem("li-50", title: String(repeating: "t", count: 50)))
            let outside = await oneRosterError { try await client.put(f.lineItem("li-x", due: "2026-10-17T12:00:00Z")) }
            #expect(outside?.message.hasPrefix("lineItem.dueDate") == true)
            try await client.put(f.lineItem("li-derived", due: "2026-09-15T12:00:00Z", category: .some(nil), gradingPeriod: .some(nil)))
            let stored = try await client.get(.lineItems, id: "li-derived")
            #expect(stored.gradingPeriod?.sourcedId == f.gradingPeriod)
            #expect(stored.category?.sourcedId == "sandbox-placeholder-category")
            let comment = await oneRosterError { try await client.put(f.result("li-50", f.students[0], comment: String(repeating: "c", count: 101))) }
            #expect(comment?.message.hasPrefix("result.comment") == true)
        }
    }

    @Test(
        "the time-zone quirk: a SIS that checks grading periods by its own local day",
        arguments: [
            ("2026-10-17T06:59:00Z", "America/Los_Angeles", true), // Oct 16, 11:59 PM PDT: Q1's last day
            ("2026-10-17T07:00:00Z", "America/Los_Angeles", false), // Oct 17, midnight PDT
            ("2026-10-17T06:59:00Z", nil, false) // Oct 17 in UTC
        ])
    func timeZoneQuirk(due: String, zone: String?, accepted: Bool) async throws {
        try await withSandbox({
            $0.quirks.dueDateInGradingPeriod = true
            $0.quirks.timeZone = zone.flatMap(TimeZone.init(identifier:))
        }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let f = try GradebookFixture(running.sandbox.data)
            let refused = await oneRosterError { try await client.put(f.lineItem("li-tz", due: due)) }
            #expect((refused == nil) == accepted, "\(refused?.message ?? "accepted")")
        }
        #expect(try SandboxQuirks(parsing: "time-zone=America/Los_Angeles").timeZone?.identifier == "America/Los_Angeles")
        #expect(throws: SandboxOptionError.self) { try SandboxQuirks(parsing: "time-zone=PST") }
    }

    @Test("a result locked by hand entry in the SIS answers 409, classified as invalid data")
    func lockedResult() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let f = try GradebookFixture(running.sandbox.data)
            try await client.put(f.lineItem("li-1"))
            try await client.put(f.result("li-1", f.students[0]))
            running.sandbox.data.lockResult("li-1-\(f.students[0])")
            let e = await oneRosterError { try await client.put(f.result("li-1", f.students[0], score: 18)) }
            #expect(e?.kind == .invalidData)
            #expect(e?.httpStatus == 409)
        }
    }
}
