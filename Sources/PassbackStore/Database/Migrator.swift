import Foundation
import GRDB

/// Applies `Schema/migrations/*.sql` (embedded at build time) in file-name order with GRDB's
/// `DatabaseMigrator`: each in its own transaction with foreign-key checks on, recorded in
/// GRDB's `grdb_migrations`. Never edits or reorders what has been applied; refuses a database
/// that records a migration this build does not know.
///
/// `passback_migration` (name, time applied), the record of the builds before GRDB's migrator
/// was used, is kept in step in each migration's transaction: a database written by an older
/// build has its record imported before migrating, and an older build opening a newer database
/// still finds the names it does not know there and refuses it.
enum Migrator {
    static func migrate(_ pool: DatabasePool) throws {
        try migrate(pool, migrations: EmbeddedMigrations.all.map { ($0.name, $0.text) })
    }

    static func migrate(_ pool: DatabasePool, migrations: [(name: String, sql: String)]) throws {
        // A database from a newer build is refused before anything is written to it.
        let recorded = try pool.read { db -> [String] in
            var names: [String] = []
            if try db.tableExists("passback_migration") { names += try String.fetchAll(db, sql: "SELECT name FROM passback_migration") }
            if try db.tableExists("grdb_migrations") { names += try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
            return names
        }
        let known = Set(migrations.map(\.name))
        let unknown = Array(Set(recorded.filter { !known.contains($0) })).sorted()
        guard unknown.isEmpty else {
            throw StoreError(
                .newerSchema,
                "this database was written by a newer Passback: it has migration(s) \(unknown.joined(separator: ", ")) "
                    + "that this build does not know (it knows up to \(migrations.last?.name ?? "none")). Run the newer Passback, "
                    + "or restore a backup made before the upgrade.")
        }
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS passback_migration (
                        name TEXT PRIMARY KEY,
                        applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    );
                    CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT OR IGNORE INTO grdb_migrations (identifier) SELECT name FROM passback_migration;
                    """)
        }
        var migrator = DatabaseMigrator()
        for migration in migrations {
            let (name, sql) = migration
            // Checks stay on (`.immediate`): no migration rebuilds a table.
            migrator.registerMigration(name, foreignKeyChecks: .immediate) { db in
                do {
                    try db.execute(sql: sql)
                    try db.execute(sql: "INSERT OR IGNORE INTO passback_migration (name) VALUES (?)", arguments: [name])
                } catch {
                    throw StoreError(.migrationFailed, "migration \(name) failed and was rolled back: \(error)")
                }
            }
        }
        do {
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.migrationFailed, "migrating the database failed and was rolled back: \(error)")
        }
    }

    static func applied(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
    }
}
