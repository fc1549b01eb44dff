import Foundation
import GRDB
import PassbackCore

/// A student's grade in the LMS.
public struct GradeRecord: Sendable, Hashable {
    public var materialID: Int64
    public var studentSourcedId: String
    public var score: Double?
    public var exception: String?
    public var comment: String?
    public var updatedAt: Date
}

/// A material as it stands in one section.
public struct MaterialKey: Sendable, Hashable {
    public var materialID: Int64
    public var classID: Int64

    public init(materialID: Int64, classID: Int64) {
        self.materialID = materialID
        self.classID = classID
    }
}

/// Materials in a section, their problems, grades and audit history, and their states.
extension APIReads {
    /// Materials with their status in a section, by (material, section).
    public func materials(_ keys: [(materialID: Int64, classID: Int64)]) throws -> [MaterialKey: SectionMaterial] {
        guard !keys.isEmpty else { return [:] }
        return try database.read { db in
            var out: [MaterialKey: SectionMaterial] = [:]
            let pairs = "[" + keys.map { "[\($0.materialID),\($0.classID)]" }.joined(separator: ",") + "]"
            for r in try Row.fetchAll(db.cachedStatement(sql: Self.materialsByKey), arguments: [pairs]) {
                let material = CacheQueries.material(r, from: 1)
                out[MaterialKey(materialID: material.id, classID: r[0])] = material
            }
            return out
        }
    }

    /// Materials with their status, of the (material, section) pairs of the JSON array `?`. The
    /// pairs are bound, not written into the text, so the statement is prepared once per
    /// connection: prepared for every page of the admin's errors, this join was an eighth of it.
    static let materialsByKey = """
        WITH wanted(material_id, class_id) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
        SELECT w.class_id, \(CacheQueries.materialColumns(section: "w.class_id"))
        FROM wanted w CROSS JOIN material m ON m.id = w.material_id
        JOIN linked_section ls ON ls.lms_course_id = m.lms_course_id AND ls.class_id = w.class_id
        LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = w.class_id
        """

    /// Problems of each item (the rules that failed or warned, and the SIS's refusal).
    public func problems(_ keys: [MaterialKey]) throws -> [MaterialKey: [Problem]] {
        guard !keys.isEmpty else { return [:] }
        return try database.read { db in
            var out: [MaterialKey: [Problem]] = [:]
            let pairs = "[" + keys.map { "[\($0.materialID),\($0.classID)]" }.joined(separator: ",") + "]"
            for r in try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        WITH wanted(material_id, class_id) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
                        SELECT si.material_id, si.class_id, si.status, si.error_code, si.error_message, si.error_field, si.problems
                        FROM wanted w JOIN sync_item si ON si.material_id = w.material_id AND si.class_id = w.class_id
                        """), arguments: [pairs])
            {
                // Read by position: a page asks for this once per material.
                let (materialID, classID): (Int64, Int64) = (r[0], r[1])
                out[MaterialKey(materialID: materialID, classID: classID)] = Self.problems(
                    stored: r[6], status: SyncStatus(rawValue: r[2]), errorCode: r[3], errorMessage: r[4], errorField: r[5])
            }
            return out
        }
    }

    /// An item's problems from its sync item's columns: the stored ones (the rules that failed
    /// or warned), and the SIS's refusal (or a write not sent) when it is not among them.
    public static func problems(stored text: String?, status: SyncStatus?, errorCode: String?, errorMessage: String?, errorField: String?) -> [Problem] {
        // Most items have no problems: "[]" is not decoded.
        let text = text ?? "[]"
        var problems = text == "[]" ? [] : StoredProblems.shared.decode(text)
        if status == .error, let code = errorCode.flatMap(ProblemCode.init(rawValue:)), !problems.contains(where: { $0.code == code && $0.severity == .error })
        {
            problems.insert(Problem(code: code, message: errorMessage ?? code.rawValue, field: errorField), at: 0)
        }
        return problems
    }

    /// An item's problems from the row of a section's materials page (`CacheQueries.materials`),
    /// which reads its sync item's columns too: the same as `problems(_:)` gives.
    public static func problems(of material: SectionMaterial) -> [Problem] {
        problems(
            stored: material.storedProblems, status: material.syncItemStatus, errorCode: material.errorCode, errorMessage: material.errorMessage,
            errorField: material.errorField)
    }

    /// Grades of each material for the students the roster enrolls in `section`, by student:
    /// the first `first` after `after` for every material.
    public func grades(materialIDs: [Int64], section: Int64, first: Int, after: String?) throws -> [Int64: (page: KeysetPage<GradeRecord>, total: Int)] {
        let ordering = "grades:student"
        let enrolled = " AND student_sourced_id IN (\(Self.studentsOf([section])))"
        var condition = enrolled
        var args: [(any DatabaseValueConvertible)?] = []
        if let after {
            let k = try Keyset.decode(after, ordering: ordering)
            condition += " AND student_sourced_id > ?"
            args.append(k.key)
        }
        args.append(first + 1)
        return try database.read { db in
            var rows: [Int64: [GradeRecord]] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT g.*, row_number() OVER (PARTITION BY material_id ORDER BY student_sourced_id) AS n
                                   FROM grade g WHERE material_id IN (\(Self.list(materialIDs)))\(condition))
                    WHERE n <= ? ORDER BY material_id, n
                    """, arguments: StatementArguments(args))
            {
                rows[r["material_id"], default: []].append(
                    GradeRecord(
                        materialID: r["material_id"], studentSourcedId: r["student_sourced_id"], score: r["score"], exception: r["exception"],
                        comment: r["comment"],
                        updatedAt: Timestamp.date(r["updated_at"]) ?? .distantPast))
            }
            var totals: [Int64: Int] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT material_id, count(*) AS n FROM grade WHERE material_id IN (\(Self.list(materialIDs)))\(enrolled) GROUP BY material_id")
            {
                totals[r["material_id"]] = r["n"]
            }
            return Self.pages(materialIDs, rows: rows, totals: totals, first: first) {
                Keyset.encode(ordering: ordering, key: $0.studentSourcedId, id: $0.materialID)
            }
        }
    }

    public func grade(materialID: Int64, student: String) throws -> GradeRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM grade WHERE material_id = ? AND student_sourced_id = ?", arguments: [materialID, student]).map {
                GradeRecord(
                    materialID: $0["material_id"], studentSourcedId: $0["student_sourced_id"], score: $0["score"], exception: $0["exception"],
                    comment: $0["comment"], updatedAt: Timestamp.date($0["updated_at"]) ?? .distantPast)
            }
        }
    }

    /// The audit log of each item, newest first.
    public func history(_ keys: [MaterialKey], first: Int, after: String?) throws -> [MaterialKey: (page: KeysetPage<AuditRecord>, total: Int)] {
        guard !keys.isEmpty else { return [:] }
        let ordering = "history:id:desc"
        let pairs = keys.map { "(\($0.materialID),\($0.classID))" }.joined(separator: ",")
        var condition = ""
        var args: [(any DatabaseValueConvertible)?] = []
        if let after {
            condition = " AND a.id < ?"
            args.append(try Keyset.decode(after, ordering: ordering).id)
        }
        args.append(first + 1)
        return try database.read { db in
            var rows: [MaterialKey: [AuditRecord]] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    WITH wanted(material_id, class_id) AS (VALUES \(pairs))
                    SELECT * FROM (SELECT a.*, row_number() OVER (PARTITION BY a.material_id, a.class_id ORDER BY a.id DESC) AS n
                                   FROM wanted w JOIN audit_entry a ON a.material_id = w.material_id AND a.class_id = w.class_id WHERE 1\(condition))
                    WHERE n <= ? ORDER BY material_id, class_id, n
                    """, arguments: StatementArguments(args))
            {
                rows[MaterialKey(materialID: r["material_id"], classID: r["class_id"]), default: []].append(EngineStore.auditRecord(r))
            }
            var totals: [MaterialKey: Int] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    WITH wanted(material_id, class_id) AS (VALUES \(pairs))
                    SELECT w.material_id, w.class_id, count(a.id) AS n FROM wanted w JOIN audit_entry a ON a.material_id = w.material_id AND a.class_id = w.class_id
                    GROUP BY w.material_id, w.class_id
                    """)
            {
                totals[MaterialKey(materialID: r["material_id"], classID: r["class_id"])] = r["n"]
            }
            return Self.pages(keys, rows: rows, totals: totals, first: first) { Keyset.encode(ordering: ordering, key: nil, id: $0.id) }
        }
    }
}

extension APIReads {
    /// The LMS course of a material.
    public func courseOfMaterial(_ materialID: Int64) throws -> Int64? {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT lms_course_id FROM material WHERE id = ?", arguments: [materialID]) }
    }
}

extension APIReads {
    /// A fingerprint of each material's state in a section (status, error, last sync, opt-out),
    /// to notice changes.
    public func itemStates(classID: Int64) throws -> [Int64: String] {
        try itemStates(classIDs: [classID])[classID] ?? [:]
    }

    /// The same fingerprints for several sections in one query, by section then material.
    public func itemStates(classIDs: [Int64]) throws -> [Int64: [Int64: String]] {
        guard !classIDs.isEmpty else { return [:] }
        return try database.read { db in
            var out: [Int64: [Int64: String]] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT ls.class_id, m.id, \(CacheQueries.syncToSISExpression(section: "ls.class_id")) || '|' || COALESCE(si.status, '') || '|' || COALESCE(si.error_code, '')
                        || '|' || COALESCE(si.last_synced_at, '')
                        || '|' || COALESCE(si.updated_at, '') AS state
                    FROM linked_section ls JOIN material m ON m.lms_course_id = ls.lms_course_id
                    LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = ls.class_id
                    WHERE ls.class_id IN (\(Self.list(classIDs)))
                    """)
            {
                out[r["class_id"], default: [:]][r["id"]] = r["state"]
            }
            return out
        }
    }
}

/// Stored problem lists decoded, kept by their text: the items a rule stops store the same text
/// (a section synced before its map is saved: every item), and the widget's page decodes fifty
/// of them on every read; `JSONDecoder` took a tenth of that read at the benchmark's full scale.
/// Bounded: emptied when full.
final class StoredProblems: @unchecked Sendable {
    static let shared = StoredProblems(capacity: 1024)

    private let lock = NSLock()
    private var decoded: [String: [Problem]] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The problems `text` holds; none when it is not a JSON list of problems.
    func decode(_ text: String) -> [Problem] {
        if let known = lock.withLock({ decoded[text] }) { return known }
        let problems = (try? JSONDecoder().decode([Problem].self, from: Data(text.utf8))) ?? []
        lock.withLock {
            if decoded.count >= capacity { decoded.removeAll(keepingCapacity: true) }
            decoded[text] = problems
        }
        return problems
    }

    var count: Int { lock.withLock { decoded.count } }
}
