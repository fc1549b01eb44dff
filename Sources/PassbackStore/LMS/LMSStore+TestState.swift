import Foundation
import GRDB
import PassbackCore

extension LMSStore {
    /// A sync state to seed the store tests with. Test-only (`@testable`): it writes `sync_item`
    /// directly and bypasses the engine's rules; the product goes through `EngineStore` and `SyncPlanner`.
    struct SyncState: Sendable {
        public var status: SyncStatus
        public var lastSyncedAt: Date?
        public var errorCode: String?
        public var errorMessage: String?
        public var errorField: String?

        public init(status: SyncStatus, lastSyncedAt: Date? = nil, errorCode: String? = nil, errorMessage: String? = nil, errorField: String? = nil) {
            self.status = status
            self.lastSyncedAt = lastSyncedAt
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.errorField = errorField
        }
    }

    /// Sets the sync state of a material in a section (test-only, see `SyncState`).
    func setSyncState(materialID: Int64, classID: Int64, _ s: SyncState, at now: Date) throws {
        try pool.write { db in
            let isError = s.status == .error
            try db.execute(
                sql: """
                    INSERT INTO sync_item (material_id, class_id, status, last_synced_at, error_code, error_message, error_field, error_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(material_id, class_id) DO UPDATE SET status = excluded.status,
                        last_synced_at = COALESCE(excluded.last_synced_at, sync_item.last_synced_at),
                        error_code = excluded.error_code, error_message = excluded.error_message, error_field = excluded.error_field,
                        error_at = excluded.error_at, updated_at = excluded.updated_at
                    """,
                arguments: [
                    materialID, classID, s.status.rawValue, s.lastSyncedAt.map(Timestamp.text), isError ? s.errorCode ?? "SIS_REFUSED" : nil,
                    isError ? s.errorMessage : nil, isError ? s.errorField : nil, isError ? Timestamp.text(now) : nil, Timestamp.text(now)
                ])
        }
    }
}
