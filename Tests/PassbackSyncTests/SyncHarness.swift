import Foundation
import OneRoster
import OneRosterSandbox
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync
import Synchronization

/// A fresh database file, removed after `body`.
func withDatabase<R>(_ body: (PassbackDatabase) async throws -> R) async throws -> R {
    let path = FileManager.default.temporaryDirectory.appending(path: "passback-test-\(UUID().uuidString).sqlite").path
    defer {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    return try await body(try PassbackDatabase(path: path))
}

/// A sandbox on a free loopback port, stopped after `body`.
func withRunningSandbox<R>(
    _ configure: (inout SandboxConfiguration) -> Void = { _ in }, clock: ManualWallClock,
    _ body: (RunningSandbox) async throws -> R
) async throws -> R {
    var configuration = SandboxConfiguration()
    configure(&configuration)
    let running = try await Sandbox(configuration: configuration, clock: clock).start()
    do {
        let r = try await body(running)
        await running.stop()
        return r
    } catch {
        await running.stop()
        throw error
    }
}

func settings(for running: RunningSandbox, id: String = "district", pageSize: Int = 40) -> PassbackConfiguration.Connection {
    let auth = running.sandbox.configuration.auth
    return .init(
        settings: ConnectionSettings(id: id, baseURL: running.baseURL, auth: .oauth2, clientID: auth.clientID, pageSize: pageSize),
        secret: auth.clientSecret)
}

/// A transport that stops working after `limit` requests, as if the process had died there.
final class DyingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let remaining: Mutex<Int>
    init(inner: any HTTPTransport, limit: Int) {
        self.inner = inner
        remaining = Mutex(limit)
    }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let alive = remaining.withLock { n -> Bool in
            n -= 1
            return n >= 0
        }
        guard alive else { throw TransportFailure("the process died here (test)") }
        return try await inner.send(request)
    }
}

let start = DateTime.parse("2026-11-22T12:00:00Z")!

/// What the cache should hold for a collection, built straight from the SIS's JSON (not
/// through the importer's mapping, so a mapping bug cannot hide).
enum Expected {
    static func refs(_ o: JSONObject, _ k: String) -> String? {
        let ids = (o[k]?.arrayValue ?? []).compactMap { $0.objectValue?["sourcedId"]?.stringValue }.sorted()
        return ids.isEmpty ? nil : ids.joined(separator: ",")
    }
    static func s(_ o: JSONObject, _ k: String) -> String? { o[k]?.stringValue }
    static func bool(_ o: JSONObject, _ k: String) -> String? {
        switch o[k] {
        case .bool(let b)?: b ? "1" : "0"
        case .string(let t)?: t == "true" ? "1" : "0"
        default: nil
        }
    }

    static func rows(_ kind: RecordKind, _ records: [JSONObject]) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for o in records {
            var f: [String: String?] = [
                "sourced_id": s(o, "sourcedId"), "status": s(o, "status") == "tobedeleted" ? "tobedeleted" : "active",
                "date_last_modified": s(o, "dateLastModified").flatMap(DateTime.parse).map(Timestamp.text),
                "metadata": o["metadata"].map { $0.jsonText }
            ]
            switch kind {
            case .orgs:
                f.merge(["name": s(o, "name"), "type": s(o, "type"), "identifier": s(o, "identifier"), "parent_sourced_id": o.ref("parent")]) { $1 }
            case .academicSessions:
                f.merge([
                    "title": s(o, "title"), "type": s(o, "type"), "start_date": s(o, "startDate"), "end_date": s(o, "endDate"),
                    "parent_sourced_id": o.ref("parent"), "school_year": s(o, "schoolYear")
                ]) { $1 }
            case .courses:
                f.merge([
                    "title": s(o, "title"), "course_code": s(o, "courseCode"), "school_year_sourced_id": o.ref("schoolYear"), "org_sourced_id": o.ref("org")
                ]) { $1 }
            case .classes:
                f.merge([
                    "title": s(o, "title"), "class_code": s(o, "classCode"), "class_type": s(o, "classType"), "location": s(o, "location"),
                    "course_sourced_id": o.ref("course"), "school_sourced_id": o.ref("school"), "children": refs(o, "terms")
                ]) { $1 }
            case .users:
                let grades = (o["grades"]?.arrayValue ?? []).compactMap(\.stringValue)
                f.merge([
                    "username": s(o, "username") ?? "", "given_name": s(o, "givenName") ?? "", "family_name": s(o, "familyName") ?? "",
                    "middle_name": s(o, "middleName"), "role": s(o, "role"), "identifier": s(o, "identifier"), "email": s(o, "email"),
                    "enabled": bool(o, "enabledUser") ?? "1", "grades": "[" + grades.map { "\"\($0)\"" }.joined(separator: ",") + "]",
                    "children": refs(o, "orgs")
                ]) { $1 }
            case .enrollments:
                f.merge([
                    "class_sourced_id": o.ref("class"), "person_sourced_id": o.ref("user"), "school_sourced_id": o.ref("school"),
                    "role": s(o, "role"), "is_primary": bool(o, "primary"), "begin_date": s(o, "beginDate"), "end_date": s(o, "endDate")
                ]) { $1 }
            case .categories:
                f["title"] = s(o, "title")
            default:
                break
            }
            out[s(o, "sourcedId")!] = f.compactMapValues { $0 }
        }
        return out
    }

    static let kinds: [(RosterCollection, RecordKind)] = [
        (.orgs, .orgs), (.academicSessions, .academicSessions), (.courses, .courses), (.classes, .classes), (.users, .users),
        (.enrollments, .enrollments), (.categories, .categories)
    ]
}
