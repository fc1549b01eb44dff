import Foundation
import GRDB

/// Applies `Schema/migrations/*.sql` (embedded at build time) in file-name order, each in its
/// own transaction, and records each in `passback_migration`. Never edits or reorders what
/// has been applied; refuses a database that records a migration this build does not know.
enum Migrator {
    static func migrate(_ pool: DatabasePool) throws {
        try migrate(pool, migrations: EmbeddedMigrations.all.map { ($0.name, $0.text) })
    }

    static func migrate(_ pool: DatabasePool, migrations: [(name: String, sql: String)]) throws {
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS passback_migration (
                    name TEXT PRIMARY KEY,
                    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                )
                """)
        }
        let applied = try pool.read { db in try Self.applied(db) }
        let known = migrations.map(\.name)
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw StoreError(
                .newerSchema,
                "this database was written by a newer Passback: it has migration(s) \(unknown.joined(separator: ", ")) "
                    + "that this build does not know (it knows up to \(known.last ?? "none")). Run the newer Passback, "
                    + "or restore a backup made before the upgrade.")
        }
        for migration in migrations where !applied.contains(migration.name) {
            do {
                try pool.writeWithoutTransaction { db in
                    // Foreign keys cannot be switched inside a transaction; checks stay on.
                    try db.inTransaction(.immediate) {
                        try db.execute(sql: migration.sql)
                        try db.execute(sql: "INSERT INTO passback_migration(name) VALUES (?)", arguments: [migration.name])
                        return .commit
                    }
                }
            } catch {
                throw StoreError(.migrationFailed, "migration \(migration.name) failed and was rolled back: \(error)")
            }
        }
    }

    static func applied(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM passback_migration ORDER BY name")
    }
}
