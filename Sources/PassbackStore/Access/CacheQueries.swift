import Foundation
import GRDB
import PassbackCore

/// The reads the API needs that take a filter and an ordering, each one query per page with keyset
/// pagination: a section's materials (`+Materials`) and an org's sync errors (`+SyncErrors`).
public struct CacheQueries: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// The scope clause of org-wide reads: sections whose school is `rootOrg` or below it.
    static let scopeCTE = """
        WITH RECURSIVE scope(sid) AS (
            SELECT sourced_id FROM org WHERE connection_id = :connection AND sourced_id = :root
            UNION
            SELECT o.sourced_id FROM org o JOIN scope ON o.parent_sourced_id = scope.sid WHERE o.connection_id = :connection
        )
        """
}
