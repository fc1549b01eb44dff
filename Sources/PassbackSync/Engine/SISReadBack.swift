import Foundation
import OneRoster
import PassbackCore
import PassbackStore

/// Compares what Passback wrote to a SIS object with what the SIS returns for it, on the fields
/// Passback owns (those of `LineItemContent`, `ResultContent`, `CategoryContent`): a SIS may answer
/// a PUT 200 and keep some fields, and people edit objects by hand in the SIS. Anything else the
/// SIS adds (its own metadata, `dateLastModified`, extension fields) is its business.
public enum SISReadBack {
    /// One field that differs, as text for the teacher.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var sent: String
        public var held: String
    }

    /// The owned fields that differ; empty when the SIS holds what was sent.
    public static func differences(_ sent: LineItem, _ held: LineItem) -> [Field] {
        var out: [Field] = []
        check(&out, "title", sent.title, held.title)
        check(&out, "description", nonEmpty(sent.description), nonEmpty(held.description))
        check(&out, "assignDate", sent.assignDate.map(second), held.assignDate.map(second))
        check(&out, "dueDate", sent.dueDate.map(second), held.dueDate.map(second))
        check(&out, "class", sent.class.sourcedId, held.class.sourcedId)
        check(&out, "category", sent.category?.sourcedId, held.category?.sourcedId)
        check(&out, "gradingPeriod", sent.gradingPeriod?.sourcedId, held.gradingPeriod?.sourcedId)
        check(&out, "resultValueMax", sent.resultValueMax.map(number), held.resultValueMax.map(number))
        return out
    }

    public static func differences(_ sent: GradebookResult, _ held: GradebookResult) -> [Field] {
        var out: [Field] = []
        check(&out, "lineItem", sent.lineItem.sourcedId, held.lineItem.sourcedId)
        check(&out, "student", sent.student.sourcedId, held.student.sourcedId)
        check(&out, "scoreStatus", sent.scoreStatus.rawValue, held.scoreStatus.rawValue)
        check(&out, "score", sent.score.map(number), held.score.map(number))
        check(&out, "scoreDate", sent.scoreDate?.description, held.scoreDate?.description)
        check(&out, "comment", nonEmpty(sent.comment), nonEmpty(held.comment))
        return out
    }

    public static func differences(_ sent: OneRoster.Category, _ held: OneRoster.Category) -> [Field] {
        var out: [Field] = []
        check(&out, "title", sent.title, held.title)
        return out
    }

    /// Reads the object a job wrote back from the SIS and compares it with the job's payload:
    /// `nil` when the SIS holds what was sent (or the write was a delete), else the difference
    /// to record. A SIS that answers 404 for an object it just accepted holds nothing of it.
    /// Other errors of the read throw: nothing is known then.
    public static func check(
        kind: JobKind, sourcedId: String, payload: String, materialTitle: String? = nil, studentSourcedId: String? = nil,
        client: OneRosterClient
    ) async throws -> SISDifference? {
        guard case .object(let object) = try JSONValue.parse(payload) else { throw OutboxWorker.PayloadError() }
        let fields: [Field]
        var heldText: String
        do {
            switch kind {
            case .putLineItem:
                let held = try await client.get(.lineItems, id: sourcedId)
                fields = differences(try LineItem(json: object), held)
                heldText = JSONValue.object(held.json).jsonText
            case .putResult:
                let held = try await client.get(.results, id: sourcedId)
                fields = differences(try GradebookResult(json: object), held)
                heldText = JSONValue.object(held.json).jsonText
            case .putCategory:
                let held = try await client.get(.categories, id: sourcedId)
                fields = differences(try OneRoster.Category(json: object), held)
                heldText = JSONValue.object(held.json).jsonText
            case .deleteLineItem:
                return nil
            }
        } catch let e as OneRosterError where e.kind == .notFound {
            fields = [Field(name: "sourcedId", sent: sourcedId, held: "nothing (the SIS answers 404 Not Found for it)")]
            heldText = "404"
        }
        guard !fields.isEmpty else { return nil }
        heldText = "sis-held\u{1E}" + heldText
        return SISDifference(
            heldFingerprint: "held:" + Fingerprint.of(heldText),
            problem: problem(
                kind: kind, sourcedId: sourcedId, fields: fields,
                studentSourcedId: studentSourcedId ?? student(of: object)))
    }

    static func student(of payload: JSONObject) -> String? { payload["student"]?.objectValue?["sourcedId"]?.stringValue }

    /// `SIS_DIFFERS`, naming each field with what was sent and what the SIS holds.
    public static func problem(kind: JobKind, sourcedId: String, fields: [Field], studentSourcedId: String?) -> Problem {
        let what =
            switch kind {
            case .putResult: "the result of student \(studentSourcedId ?? "?")"
            case .putLineItem: "the lineItem"
            case .putCategory: "the category \(sourcedId)"
            case .deleteLineItem: "the lineItem"
            }
        return .sisDiffers(object: what, fields: fields.map { ($0.name, $0.sent, $0.held) }, studentSourcedId: kind == .putResult ? studentSourcedId : nil)
    }

    static func check(_ out: inout [Field], _ name: String, _ sent: String?, _ held: String?) {
        guard sent != held else { return }
        out.append(Field(name: name, sent: sent.map(quoted) ?? "nothing", held: held.map(quoted) ?? "nothing"))
    }

    static func quoted(_ s: String) -> String { "\"\(s)\"" }
    static func nonEmpty(_ s: String?) -> String? { s?.isEmpty == true ? nil : s }
    static func number(_ d: Double) -> String { "\(d)" }
    /// Dates to the second, in UTC: SIS write them back with or without fractions and offsets.
    static func second(_ d: Date) -> String { DateTime.format(Date(timeIntervalSince1970: d.timeIntervalSince1970.rounded(.down))) }
}

extension OutboxWorker {
    /// With `verifyWrites`: reads back what the SIS holds after it accepted `job`. A read that
    /// fails is logged and the write counts as accepted (it was): verification is best effort.
    func readBack(_ job: ClaimedJob, client: OneRosterClient, limiter: RateLimiter<ContinuousClock>) async -> SISDifference? {
        do {
            try await limiter.acquire() // the read counts against the SIS's rate limit like the write
            let found = try await SISReadBack.check(kind: job.kind, sourcedId: job.targetSourcedId, payload: job.payload, client: client)
            if let found { logger.warning("connection \(job.connectionID): \(found.problem.message)") }
            return found
        } catch {
            logger.warning("connection \(job.connectionID): could not read back \(job.kind.rawValue) \(job.targetSourcedId) to verify it: \(error)")
            return nil
        }
    }
}
