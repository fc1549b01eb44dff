import Foundation
import GRDB
import PassbackCore

/// What a read-back found: the SIS holds other values than Passback wrote.
public struct SISDifference: Sendable, Hashable {
    /// A fingerprint of what the SIS holds. It never equals a content fingerprint, so the object
    /// differs from its content and the next Sync Changes writes it again.
    public var heldFingerprint: String
    /// `SIS_DIFFERS`, naming each field, sent vs held.
    public var problem: Problem

    public init(heldFingerprint: String, problem: Problem) {
        self.heldFingerprint = heldFingerprint
        self.problem = problem
    }
}

/// One SIS object a drift check read back, with the fingerprint Passback had recorded as accepted.
public struct DriftFinding: Sendable, Hashable {
    public var kind: SISObjectKind
    public var sourcedId: String
    public var expectedFingerprint: String
    public var difference: SISDifference

    public init(kind: SISObjectKind, sourcedId: String, expectedFingerprint: String, difference: SISDifference) {
        self.kind = kind
        self.sourcedId = sourcedId
        self.expectedFingerprint = expectedFingerprint
        self.difference = difference
    }
}

extension EngineStore {
    /// A drift check found these objects of a section changed in the SIS since Passback wrote
    /// them: each is recorded as holding other content (`SIS_DIFFERS`) and the statuses of their
    /// items refreshed, in one transaction. An object written again since it was read (its
    /// accepted fingerprint no longer `expectedFingerprint`) is left alone: that write is newer.
    /// Returns how many were recorded.
    @discardableResult
    public func recordDrift(connection: String, classID: Int64, _ findings: [DriftFinding], at now: Date) throws -> Int {
        guard !findings.isEmpty else { return 0 }
        let t = Timestamp.text(now)
        return try pool.write { db in
            var recorded = 0
            var materials: Set<Int64> = []
            for f in findings {
                let text = String(decoding: try JSONEncoder().encode(f.difference.problem), as: UTF8.self)
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            UPDATE sis_object SET accepted_fingerprint = ?, accepted_at = ?, differs = ?
                            WHERE connection_id = ? AND kind = ? AND sourced_id = ? AND accepted_fingerprint = ? RETURNING material_id
                            """, arguments: [f.difference.heldFingerprint, t, text, connection, f.kind.rawValue, f.sourcedId, f.expectedFingerprint])
                else { continue }
                recorded += 1
                if let material: Int64 = row["material_id"] { materials.insert(material) }
            }
            try Self.refresh(db, classID: classID, materialIDs: materials, at: t)
            return recorded
        }
    }
}
