import Foundation
import OneRoster
import OneRosterSandbox
import Testing

@Suite("Reading every collection over loopback")
struct PagingTests {
    /// Pages a collection and checks that nothing is duplicated and exactly `expected` arrives.
    func check<T>(_ client: OneRosterClient, _ path: CollectionPath<T>, _ expected: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) async throws
    {
        let items = try await client.list(path)
        let ids = items.map(\.sourcedId)
        #expect(Set(ids).count == ids.count, "duplicates in \(path)", sourceLocation: sourceLocation)
        #expect(Set(ids) == expected, "\(path): got \(ids.count), expected \(expected.count)", sourceLocation: sourceLocation)
    }

    @Test("every collection and nested endpoint pages in full through an odd server page cap")
    func everyCollection() async throws {
        try await withSandbox({ $0.maxPageSize = 7 }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock, pageSize: 100)
            let d = running.sandbox.data
            let ids = { (kind: RecordKind, keep: (JSONObject) -> Bool) in Set(d.all(kind).filter(keep).map(\.id)) }
            try await check(client, .orgs, ids(.orgs) { _ in true })
            try await check(client, .schools, ids(.orgs) { $0["type"] == "school" })
            try await check(client, .academicSessions, ids(.academicSessions) { _ in true })
            try await check(client, .terms, ids(.academicSessions) { $0["type"] == "term" })
            try await check(client, .gradingPeriods, ids(.academicSessions) { $0["type"] == "gradingPeriod" })
            try await check(client, .courses, ids(.courses) { _ in true })
            try await check(client, .classes, ids(.classes) { _ in true })
            try await check(client, .users, ids(.users) { _ in true })
            try await check(client, .students, ids(.users) { $0["role"] == "student" })
            try await check(client, .teachers, ids(.users) { $0["role"] == "teacher" })
            try await check(client, .enrollments, ids(.enrollments) { _ in true })
            try await check(client, .demographics, ids(.demographics) { _ in true })
            try await check(client, .categories, ids(.categories) { _ in true })

            let schoolFound = d.all(.orgs).first { $0["type"] == "school" }
            let school = try #require(schoolFound).id
            let clsFound = d.all(.classes).first { $0.ref("school") == school }
            let cls = try #require(clsFound)
            let term = try #require(cls["terms"]?.arrayValue?.first?.objectValue?["sourcedId"]?.stringValue)
            let enrolled = d.all(.enrollments).filter { $0.ref("class") == cls.id }
            let teacherFound = enrolled.first { $0["role"] == "teacher" }?.ref("user")
            let teacher = try #require(teacherFound)
            let studentFound = enrolled.first { $0["role"] == "student" }?.ref("user")
            let student = try #require(studentFound)
            let classesOf = { (user: String) in Set(d.all(.enrollments).filter { $0.ref("user") == user }.compactMap { $0.ref("class") }) }

            try await check(client, .classes(ofSchool: school), ids(.classes) { $0.ref("school") == school })
            try await check(client, .courses(ofSchool: school), ids(.courses) { $0.ref("org") == school })
            try await check(client, .enrollments(ofSchool: school), ids(.enrollments) { $0.ref("school") == school })
            try await check(
                client, .students(ofSchool: school),
                ids(.users) { $0["role"] == "student" && $0["orgs"]?.arrayValue?.first?.objectValue?["sourcedId"]?.stringValue == school })
            try await check(
                client, .teachers(ofSchool: school),
                ids(.users) { $0["role"] == "teacher" && $0["orgs"]?.arrayValue?.first?.objectValue?["sourcedId"]?.stringValue == school })
            let schoolTerms = Set(
                d.all(.classes).filter { $0.ref("school") == school }.flatMap { $0["terms"]?.arrayValue ?? [] }.compactMap {
                    $0.objectValue?["sourcedId"]?.stringValue
                })
            try await check(client, .terms(ofSchool: school), schoolTerms)
            try await check(client, .enrollments(ofSchool: school, class: cls.id), Set(enrolled.map(\.id)))
            try await check(client, .students(ofSchool: school, class: cls.id), Set(enrolled.filter { $0["role"] == "student" }.compactMap { $0.ref("user") }))
            try await check(client, .teachers(ofSchool: school, class: cls.id), [teacher])
            try await check(client, .students(ofClass: cls.id), Set(enrolled.filter { $0["role"] == "student" }.compactMap { $0.ref("user") }))
            try await check(client, .teachers(ofClass: cls.id), [teacher])
            try await check(client, .classes(ofCourse: try #require(cls.ref("course"))), ids(.classes) { $0.ref("course") == cls.ref("course") })
            try await check(client, .classes(ofStudent: student), classesOf(student))
            try await check(client, .classes(ofTeacher: teacher), classesOf(teacher))
            try await check(client, .classes(ofUser: student), classesOf(student))
            try await check(
                client, .classes(ofTerm: term), ids(.classes) { ($0["terms"]?.arrayValue ?? []).contains { $0.objectValue?["sourcedId"]?.stringValue == term } }
            )
            try await check(client, .gradingPeriods(ofTerm: term), ids(.academicSessions) { $0["type"] == "gradingPeriod" && $0.ref("parent") == term })
            #expect(try await client.list(.gradingPeriods(ofTerm: term)).count == 2)
        }
    }

    @Test("gradebook reads, nested ones included, see what was written")
    func gradebookCollections() async throws {
        try await withSandbox({ $0.maxPageSize = 3 }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let d = running.sandbox.data
            let cls = try #require(d.all(.classes).first)
            let gpFound = d.all(.academicSessions).first { $0["type"] == "gradingPeriod" && $0["title"] == "Quarter 1" }
            let gp = try #require(gpFound)
            let category = try #require(d.all(.categories).first).id
            let students = d.all(.enrollments).filter { $0.ref("class") == cls.id && $0["role"] == "student" }.compactMap { $0.ref("user") }
            for i in 1...4 {
                try await client.put(
                    LineItem(
                        sourcedId: "li-\(i)", title: "Item \(i)", assignDate: DateTime.parse("2026-09-01T00:00:00Z"),
                        dueDate: DateTime.parse("2026-09-10T00:00:00Z"), class: Reference(cls.id, type: .class),
                        category: Reference(category, type: .category), gradingPeriod: Reference(gp.id, type: .academicSession),
                        resultValueMin: 0, resultValueMax: 10))
                for s in students.prefix(5) {
                    try await client.put(
                        GradebookResult(
                            sourcedId: "r-\(i)-\(s)", lineItem: Reference("li-\(i)", type: .lineItem),
                            student: Reference(s, type: .student), scoreStatus: .fullyGraded, score: Double(i),
                            scoreDate: CalendarDate("2026-09-11")))
                }
            }
            try await check(client, .lineItems, ["li-1", "li-2", "li-3", "li-4"])
            try await check(client, .lineItems(ofClass: cls.id), ["li-1", "li-2", "li-3", "li-4"])
            #expect(try await client.list(.results).count == 20)
            #expect(try await client.list(.results(ofClass: cls.id)).count == 20)
            try await check(client, .results(ofClass: cls.id, lineItem: "li-2"), Set(students.prefix(5).map { "r-2-\($0)" }))
            try await check(client, .results(ofClass: cls.id, student: students[0]), Set((1...4).map { "r-\($0)-\(students[0])" }))
            let other = try #require(d.all(.classes).last).id
            #expect(try await client.list(.lineItems(ofClass: other)).isEmpty)
        }
    }

    @Test("without X-Total-Count the client follows Link and stops on a short page")
    func withoutTotalCount() async throws {
        try await withSandbox({
            $0.maxPageSize = 7; $0.quirks.omitTotalCount = true
        }) { (running, clock) async throws in
            let expected = Set(running.sandbox.data.all(.users).map(\.id))
            for pageSize in [7, 10, 1000] {
                let (client, _) = makeClient(running, clock: clock, pageSize: pageSize)
                var pages = 0
                var seen: [String] = []
                for try await page in client.pages(.users) {
                    pages += 1
                    #expect(page.totalCount == nil)
                    seen += page.items.map(\.sourcedId)
                }
                #expect(Set(seen) == expected)
                #expect(seen.count == expected.count)
                #expect(pages == (expected.count + 6) / 7)
            }
        }
    }

    @Test("a listing resumes from a saved offset without gaps or repeats")
    func resume() async throws {
        try await withSandbox({ $0.maxPageSize = 50 }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock, pageSize: 50)
            var first: [String] = []
            var resumeAt = 0
            for try await page in client.pages(.users) {
                first += page.items.map(\.sourcedId)
                resumeAt = page.nextOffset
                break
            }
            let rest = try await client.list(.users, query: ListQuery(startOffset: resumeAt)).map(\.sourcedId)
            #expect(first.count == 50)
            #expect(first + rest == running.sandbox.data.all(.users).map(\.id))
        }
    }

    @Test("a delta filter returns exactly the records changed since the last pull")
    func delta() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let lastPull = clock.now
            clock.advance(by: 3600)
            let d = running.sandbox.data
            let students = d.all(.users).filter { $0["role"] == "student" }.prefix(4).map(\.id)
            for id in students.prefix(3) { d.modify(.users, id) { $0["familyName"] = "Renamed" } }
            d.markDeleted(.users, students[3])
            let changed = try await client.list(.users, query: ListQuery(filter: .modifiedSince(lastPull)))
            #expect(Set(changed.map(\.sourcedId)) == Set(students))
            #expect(changed.filter { $0.status.isDeleted }.map(\.sourcedId) == [students[3]])
            #expect(changed.filter { $0.familyName == "Renamed" }.count == 3)
            let none = try await client.list(.users, query: ListQuery(filter: .modifiedSince(clock.now)))
            #expect(none.isEmpty)
        }
    }

    @Test("AND, OR, contains, sort and fields behave as a 1.1 server's")
    func filtersSortFields() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let users = running.sandbox.data.all(.users)
            let nines = try await client.list(.users, query: ListQuery(filter: .field("role", .equal, "student").and(.field("grades", .equal, "09"))))
            #expect(nines.count == users.filter { $0["role"] == "student" && $0["grades"] == ["09"] }.count)
            #expect(!nines.isEmpty)
            let staff = try await client.list(.users, query: ListQuery(filter: .field("role", .equal, "teacher").or(.field("role", .equal, "administrator"))))
            #expect(staff.count == users.filter { $0["role"] == "teacher" || $0["role"] == "administrator" }.count)
            let q1 = try await client.list(.academicSessions, query: ListQuery(filter: .field("title", .contains, "QUARTER")))
            #expect(q1.count == 4)
            let sorted = try await client.list(.users, query: ListQuery(sort: "familyName", orderBy: .descending))
            let names = sorted.map(\.familyName)
            #expect(names == names.sorted(by: >))
            var warnings: [ErrorBody] = []
            var categories: [OneRoster.Category] = []
            for try await page in client.pages(.categories, query: ListQuery(sort: "bogus", fields: ["sourcedId", "title", "nope"])) {
                warnings += page.warnings
                categories += page.items
            }
            #expect(categories.count == 6)
            #expect(categories.allSatisfy { $0.dateLastModified == nil })
            #expect(warnings.count == 2)
            #expect(warnings.allSatisfy { $0.severity == "warning" })
        }
    }

    @Test("GET one record, and a missing one is notFound")
    func single() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let schoolFound = running.sandbox.data.all(.orgs).first { $0["type"] == "school" }
            let school = try #require(schoolFound)
            let org = try await client.get(.schools, id: school.id)
            #expect(org.type == .school)
            #expect(org.json == school)
            let districtFound = running.sandbox.data.all(.orgs).first { $0["type"] == "district" }
            let district = try #require(districtFound).id
            let failure1 = await oneRosterError { _ = try await client.get(.schools, id: district) }
            #expect(failure1?.kind == .notFound)
            let failure2 = await oneRosterError { _ = try await client.get(.users, id: "nobody") }
            #expect(failure2?.kind == .notFound)
            let failure3 = await oneRosterError { _ = try await client.list(.classes(ofSchool: "nowhere")) }
            #expect(failure3?.kind == .notFound)
        }
    }

    @Test("a bad filter is a 400 the client classifies as invalid data")
    func badFilter() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            let e = await oneRosterError { _ = try await client.list(.users, query: ListQuery(filter: .field("shoeSize", .equal, "9"))) }
            #expect(e?.kind == .invalidData)
            #expect(e?.httpStatus == 400)
            #expect(e?.body?.codeMinor == ["invalid_filter_field"])
            #expect(e?.message.contains("shoeSize") == true)
        }
    }
}
