import Foundation
import OneRoster

/// What a request path names: a collection (possibly nested under a parent), one record, or
/// the token endpoint.
struct ResolvedPath {
    var kind: RecordKind
    /// Which records of `kind` the path covers.
    var scope: @Sendable (JSONObject) -> Bool
    /// A key that identifies the scope, for the query cache.
    var scopeKey: String
    /// Set for `/{collection}/{id}`.
    var recordID: String?
    /// Whether PUT and DELETE are allowed (only `/categories|lineItems|results/{id}`).
    var writable: Bool
}

/// The OneRoster 1.1 endpoint table: every rostering and gradebook path of ONEROSTER.md.
struct SandboxRoutes {
    let data: SandboxData

    static func str(_ r: JSONObject, _ key: String) -> String? { r[key]?.stringValue }

    /// Top-level collection names, with the kind they hold and the subset they mean.
    static func topLevel(_ name: String) -> (RecordKind, @Sendable (JSONObject) -> Bool, writable: Bool)? {
        switch name.lowercased() {
        case "orgs": (.orgs, { _ in true }, false)
        case "schools": (.orgs, { str($0, "type") == "school" }, false)
        case "academicsessions": (.academicSessions, { _ in true }, false)
        case "terms": (.academicSessions, { ["term", "semester"].contains(str($0, "type") ?? "") }, false)
        case "gradingperiods": (.academicSessions, { str($0, "type") == "gradingPeriod" }, false)
        case "courses": (.courses, { _ in true }, false)
        case "classes": (.classes, { _ in true }, false)
        case "users": (.users, { _ in true }, false)
        case "students": (.users, { str($0, "role") == "student" }, false)
        case "teachers": (.users, { str($0, "role") == "teacher" }, false)
        case "enrollments": (.enrollments, { _ in true }, false)
        case "demographics": (.demographics, { _ in true }, false)
        case "categories": (.categories, { _ in true }, true)
        case "lineitems": (.lineItems, { _ in true }, true)
        case "results": (.results, { _ in true }, true)
        default: nil
        }
    }

    func notFound(_ what: String, _ id: String) -> Refusal {
        Refusal(status: 404, codeMinor: "unknownobject", description: "no \(what) with sourcedId '\(id)'")
    }

    /// Resolves path segments (after the base path) to records; 404 for an unknown path or parent.
    func resolve(_ s: [String]) throws(Refusal) -> ResolvedPath {
        let unknownPath = Refusal(status: 404, codeMinor: "unknownobject", description: "no such endpoint: /\(s.joined(separator: "/"))")
        guard let first = s.first, let top = Self.topLevel(first) else { throw unknownPath }
        let key = s.joined(separator: "/")
        if s.count == 1 { return ResolvedPath(kind: top.0, scope: top.1, scopeKey: key, recordID: nil, writable: false) }
        let parentID = s[1]
        if s.count == 2 {
            return ResolvedPath(kind: top.0, scope: top.1, scopeKey: key, recordID: parentID, writable: top.writable)
        }
        // Nested collections: the parent must exist and be of the named kind.
        func parent(_ kind: RecordKind, _ what: String, _ ok: (JSONObject) -> Bool = { _ in true }) throws(Refusal) -> JSONObject {
            guard let p = data.record(kind, parentID), top.1(p), ok(p) else { throw notFound(what, parentID) }
            return p
        }
        let tail = s[2...].map { $0.lowercased() }
        switch (first.lowercased(), Array(tail)) {
        case ("schools", ["classes"]):
            _ = try parent(.orgs, "school")
            return nested(.classes, key) { $0.ref("school") == parentID }
        case ("schools", ["courses"]):
            _ = try parent(.orgs, "school")
            return nested(.courses, key) { $0.ref("org") == parentID }
        case ("schools", ["enrollments"]):
            _ = try parent(.orgs, "school")
            return nested(.enrollments, key) { $0.ref("school") == parentID }
        case ("schools", ["students"]), ("schools", ["teachers"]):
            _ = try parent(.orgs, "school")
            let role = tail[0] == "students" ? "student" : "teacher"
            return nested(.users, key) { Self.str($0, "role") == role && $0.refs("orgs").contains(parentID) }
        case ("schools", ["terms"]):
            _ = try parent(.orgs, "school")
            let termIDs = Set(data.all(.classes).filter { $0.ref("school") == parentID }.flatMap { $0.refs("terms") })
            return nested(.academicSessions, key) { termIDs.contains(Self.str($0, "sourcedId") ?? "") }
        case ("schools", let t) where t.count == 3 && t[0] == "classes":
            _ = try parent(.orgs, "school")
            let classID = s[3]
            guard let cls = data.record(.classes, classID), cls.ref("school") == parentID else { throw notFound("class in this school", classID) }
            return try classMembers(classID: classID, member: t[2], key: key)
        case ("classes", let t) where t.count == 1:
            _ = try parent(.classes, "class")
            switch t[0] {
            case "students", "teachers": return try classMembers(classID: parentID, member: t[0], key: key)
            case "lineitems": return nested(.lineItems, key) { $0.ref("class") == parentID }
            case "results":
                let items = lineItemIDs(ofClass: parentID)
                return nested(.results, key) { items.contains($0.ref("lineItem") ?? "") }
            default: throw unknownPath
            }
        case ("classes", let t) where t.count == 3 && t[0] == "lineitems" && t[2] == "results":
            _ = try parent(.classes, "class")
            let lineItemID = s[3]
            guard let li = data.record(.lineItems, lineItemID), li.ref("class") == parentID else { throw notFound("lineItem in this class", lineItemID) }
            return nested(.results, key) { $0.ref("lineItem") == lineItemID }
        case ("classes", let t) where t.count == 3 && t[0] == "students" && t[2] == "results":
            _ = try parent(.classes, "class")
            let studentID = s[3]
            guard data.record(.users, studentID) != nil else { throw notFound("student", studentID) }
            let items = lineItemIDs(ofClass: parentID)
            return nested(.results, key) { $0.ref("student") == studentID && items.contains($0.ref("lineItem") ?? "") }
        case ("courses", ["classes"]):
            _ = try parent(.courses, "course")
            return nested(.classes, key) { $0.ref("course") == parentID }
        case ("students", ["classes"]), ("teachers", ["classes"]), ("users", ["classes"]):
            _ = try parent(.users, first.lowercased() == "users" ? "user" : String(first.lowercased().dropLast()))
            let classIDs = Set(data.classes(ofUser: parentID))
            return nested(.classes, key) { classIDs.contains(Self.str($0, "sourcedId") ?? "") }
        case ("terms", ["classes"]):
            _ = try parent(.academicSessions, "term")
            return nested(.classes, key) { $0.refs("terms").contains(parentID) }
        case ("terms", ["gradingperiods"]):
            _ = try parent(.academicSessions, "term")
            return nested(.academicSessions, key) { Self.str($0, "type") == "gradingPeriod" && $0.ref("parent") == parentID }
        default:
            throw unknownPath
        }
    }

    func nested(_ kind: RecordKind, _ key: String, _ scope: @escaping @Sendable (JSONObject) -> Bool) -> ResolvedPath {
        ResolvedPath(kind: kind, scope: scope, scopeKey: key, recordID: nil, writable: false)
    }

    func classMembers(classID: String, member: String, key: String) throws(Refusal) -> ResolvedPath {
        let roster = data.roster(ofClass: classID)
        switch member {
        case "students", "teachers":
            let role = member == "students" ? "student" : "teacher"
            let ids = Set(roster.filter { $0.role == role }.map(\.user))
            return nested(.users, key) { ids.contains(Self.str($0, "sourcedId") ?? "") }
        case "enrollments":
            return nested(.enrollments, key) { $0.ref("class") == classID }
        default:
            throw Refusal(status: 404, codeMinor: "unknownobject", description: "no such endpoint under a class: \(member)")
        }
    }

    func lineItemIDs(ofClass id: String) -> Set<String> {
        Set(data.all(.lineItems).filter { $0.ref("class") == id }.compactMap { Self.str($0, "sourcedId") })
    }
}
