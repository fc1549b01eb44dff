import Foundation
import OneRoster

/// A write the sandbox refuses, as a real SIS would: status, imsx minor code, and a
/// description that names the field.
struct Refusal: Error {
    var status: Int
    var codeMinor: String
    var description: String

    static func invalid(_ field: String, _ reason: String) -> Refusal {
        Refusal(status: 422, codeMinor: "invaliddata", description: "\(field): \(reason)")
    }

    static func unknown(_ field: String, _ what: String, _ id: String) -> Refusal {
        Refusal(status: 422, codeMinor: "unknownobject", description: "\(field): no \(what) with sourcedId '\(id)'")
    }
}

/// Checks PUT bodies strictly against the 1.1 model and the references they name, then
/// applies the vendor quirks. Returns the record to store.
struct GradebookValidator {
    let data: SandboxData
    let quirks: SandboxQuirks
    static let placeholderCategoryID = "sandbox-placeholder-category"

    func validate(kind: RecordKind, pathID: String, body: JSONValue) throws(Refusal) -> JSONObject {
        guard case .object(let root) = body else { throw Refusal.invalid("body", "must be a JSON object") }
        guard case .object(var object)? = root[kind.singularKey] else {
            throw Refusal.invalid("body", "must wrap the record under \"\(kind.singularKey)\"")
        }
        switch object["sourcedId"] {
        case nil, .null?: object["sourcedId"] = .string(pathID)
        case .string(let s)? where s == pathID: break
        default: throw Refusal.invalid("\(kind.singularKey).sourcedId", "must equal the sourcedId in the URL ('\(pathID)')")
        }
        do {
            switch kind {
            case .categories: return ignoringFields(kind, pathID, try category(Category(json: object)))
            case .lineItems: return ignoringFields(kind, pathID, try lineItem(LineItem(json: object)))
            case .results: return ignoringFields(kind, pathID, try result(GradebookResult(json: object)))
            default: throw Refusal(status: 405, codeMinor: "unsupported", description: "\(kind.rawValue) cannot be written")
            }
        } catch let e as OneRosterDecodingError {
            throw Refusal.invalid(e.field, e.reason)
        } catch let r as Refusal {
            throw r
        } catch {
            throw Refusal.invalid(kind.singularKey, "\(error)")
        }
    }

    /// The `ignore-put-fields` quirk: the fields keep what the record held (a new record gets a
    /// placeholder for a text field, nothing for another), whatever the PUT sent.
    func ignoringFields(_ kind: RecordKind, _ id: String, _ record: JSONObject) -> JSONObject {
        guard !quirks.ignorePutFields.isEmpty else { return record }
        let existing = data.record(kind, id)
        var out = record
        for field in quirks.ignorePutFields {
            if let old = existing?[field] {
                out[field] = old
            } else if case .string? = record[field] {
                out[field] = .string(SandboxQuirks.ignoredFieldPlaceholder)
            } else {
                out[field] = nil
            }
        }
        return out
    }

    func category(_ c: Category) throws(Refusal) -> JSONObject {
        guard !c.title.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refusal.invalid("category.title", "must not be empty") }
        if let limit = quirks.categoryTitleLimit, c.title.count > limit {
            throw Refusal.invalid("category.title", "is \(c.title.count) characters; this SIS accepts at most \(limit)")
        }
        return c.json
    }

    func lineItem(_ input: LineItem) throws(Refusal) -> JSONObject {
        var li = input
        guard !li.title.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refusal.invalid("lineItem.title", "must not be empty") }
        if let limit = quirks.titleLimit, li.title.count > limit {
            throw Refusal.invalid("lineItem.title", "is \(li.title.count) characters; this SIS accepts at most \(limit)")
        }
        guard let cls = data.record(.classes, li.class.sourcedId), cls["status"]?.stringValue != "tobedeleted" else {
            throw Refusal.unknown("lineItem.class", "class", li.class.sourcedId)
        }
        guard li.assignDate != nil else { throw Refusal.invalid("lineItem.assignDate", "is required") }
        guard let due = li.dueDate else { throw Refusal.invalid("lineItem.dueDate", "is required") }
        if li.category == nil, quirks.placeholderCategory {
            li.category = Reference(Self.placeholderCategoryID, type: .category)
            if data.record(.categories, Self.placeholderCategoryID) == nil {
                data.upsert(.categories, Category(sourcedId: Self.placeholderCategoryID, title: "Uncategorized").json, countAsWrite: false)
            }
        }
        guard let category = li.category else { throw Refusal.invalid("lineItem.category", "is required") }
        guard data.record(.categories, category.sourcedId) != nil else {
            throw Refusal.unknown("lineItem.category", "category", category.sourcedId)
        }
        // The SIS's own calendar day of the due date: local when the SIS keeps one zone (a quirk), else UTC.
        let dueDay = CalendarDate(utcDayOf: quirks.timeZone.map { due.addingTimeInterval(TimeInterval($0.secondsFromGMT(for: due))) } ?? due)
        if li.gradingPeriod == nil, quirks.deriveGradingPeriod {
            let periods = gradingPeriods(ofClass: cls)
            guard let p = periods.first(where: { $0.contains(dueDay) }) else {
                throw Refusal.invalid("lineItem.dueDate", "\(dueDay) is in no grading period of the class, so none can be derived")
            }
            li.gradingPeriod = Reference(p.sourcedId, type: .academicSession)
        }
        guard let gpRef = li.gradingPeriod else { throw Refusal.invalid("lineItem.gradingPeriod", "is required") }
        guard let gp = data.get(AcademicSession.self, .academicSessions, gpRef.sourcedId), gp.type == .gradingPeriod else {
            throw Refusal.unknown("lineItem.gradingPeriod", "grading period", gpRef.sourcedId)
        }
        if quirks.dueDateInGradingPeriod, !gp.contains(dueDay) {
            throw Refusal.invalid("lineItem.dueDate", "\(dueDay) is outside grading period '\(gp.title)' (\(gp.startDate) to \(gp.endDate))")
        }
        guard let min = li.resultValueMin else { throw Refusal.invalid("lineItem.resultValueMin", "is required") }
        guard let max = li.resultValueMax else { throw Refusal.invalid("lineItem.resultValueMax", "is required") }
        guard min.isFinite, max.isFinite, min <= max else {
            throw Refusal.invalid("lineItem.resultValueMax", "must be a number not below resultValueMin (\(min))")
        }
        return li.json
    }

    func result(_ r: GradebookResult) throws(Refusal) -> JSONObject {
        guard let li = data.get(LineItem.self, .lineItems, r.lineItem.sourcedId) else {
            throw Refusal.unknown("result.lineItem", "lineItem", r.lineItem.sourcedId)
        }
        guard let student = data.get(User.self, .users, r.student.sourcedId), student.role == .student else {
            throw Refusal.unknown("result.student", "student", r.student.sourcedId)
        }
        guard data.roster(ofClass: li.class.sourcedId).contains(where: { $0.user == student.sourcedId && $0.role == "student" }) else {
            throw Refusal.invalid("result.student", "'\(student.sourcedId)' is not enrolled in class '\(li.class.sourcedId)'")
        }
        // A fully graded result needs its score; exempt, not submitted or a partial grade may have none yet.
        if r.scoreStatus == .fullyGraded, r.score == nil {
            throw Refusal.invalid("result.score", "is required when scoreStatus is \"\(r.scoreStatus.rawValue)\"")
        }
        if let s = r.score, !s.isFinite { throw Refusal.invalid("result.score", "must be a finite number") }
        guard r.scoreDate != nil else { throw Refusal.invalid("result.scoreDate", "is required (a date such as 2026-09-01)") }
        if let limit = quirks.commentLimit, let c = r.comment, c.count > limit {
            throw Refusal.invalid("result.comment", "is \(c.count) characters; this SIS accepts at most \(limit)")
        }
        if let existing = data.record(.results, r.sourcedId), existing["metadata"]?.objectValue?["lockedBySIS"] == .bool(true) {
            throw Refusal(
                status: 409, codeMinor: "invaliddata", description: "result '\(r.sourcedId)' was entered by hand in the SIS and is locked against API writes")
        }
        return r.json
    }

    func gradingPeriods(ofClass cls: JSONObject) -> [AcademicSession] {
        let termIDs = Set(RecordQuery.values(cls, path: "terms"))
        return data.all(.academicSessions).compactMap { try? AcademicSession(json: $0) }
            .filter { $0.type == .gradingPeriod && ($0.parent.map { termIDs.contains($0.sourcedId) } ?? false) }
    }
}
