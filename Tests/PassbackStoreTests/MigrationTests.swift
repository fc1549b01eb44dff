import Foundation
import GRDB
import PassbackCore
import PassbackTesting
import Testing

@testable import PassbackStore

@Suite("Migrations")
struct MigrationTests {
    /// Every migration file of `Schema/migrations`, in name order: what the build embeds.
    static func expected() throws -> [String] {
        let folder = packageRoot().appendingPathComponent("Schema/migrations")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
    }

    @Test("a fresh database gets every migration, in file-name order")
    func freshDatabaseGetsEveryMigration() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            let applied = try database.appliedMigrations()
            #expect(Array(applied.prefix(2)) == ["0001_roster.sql", "0002_lms.sql"])
            // Every SQL file of Schema/migrations is embedded and applied, none forgotten.
            #expect(applied == (try Self.expected()))

            let tables = try rawQueue(path).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            for table in [
                "connection", "roster_run", "roster_cursor", "org", "class", "person", "enrollment", "lms_course", "material",
                "material_title", "sync_item", "passback_migration"
            ] {
                #expect(tables.contains(table), "missing table \(table)")
            }
        }
    }

    @Test("opening the same file again applies nothing new and keeps its data")
    func reopeningAppliesNothingAndKeepsData() throws {
        try withTemporaryDatabaseFile { path in
            let runID: Int64
            let recordedBefore: [Row]
            do {
                let database = try PassbackDatabase(path: path)
                let roster = RosterStore(database)
                try roster.saveConnection(ConnectionSettings(id: "north", baseURL: URL(string: "https://sis.example.org")!), at: at("2026-08-01T00:00:00.000Z"))
                runID = try roster.startRun(connection: "north", source: "csv", mode: "full", at: at("2026-08-01T00:00:00.000Z"))
                recordedBefore = try rawQueue(path).read { db in try Row.fetchAll(db, sql: "SELECT name, applied_at FROM passback_migration ORDER BY name") }
            }

            let reopened = try PassbackDatabase(path: path)
            #expect(try reopened.appliedMigrations() == (try Self.expected()))
            let recordedAfter = try rawQueue(path).read { db in try Row.fetchAll(db, sql: "SELECT name, applied_at FROM passback_migration ORDER BY name") }
            #expect(recordedAfter == recordedBefore, "a reopen must not re-record or re-apply a migration")
            let run = try #require(try RosterStore(reopened).run(runID))
            #expect(run.connectionID == "north")
            #expect(run.source == "csv")
            #expect(run.state == "running")
        }
    }

    @Test("the database file is in WAL mode")
    func walModeIsOn() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            let mode = try rawQueue(path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            #expect(database.path == path)
        }
    }

    @Test("the store's connections enforce foreign keys")
    func foreignKeysAreEnforced() throws {
        let fixture = try StoreFixture()
        // A run for a connection that does not exist is refused by roster_run.connection_id's foreign key.
        let runError = #expect(throws: DatabaseError.self) {
            _ = try fixture.roster.startRun(connection: "nobody", source: "rest", mode: "full", at: fixture.startedAt)
        }
        #expect(runError?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY)

        // A sync state for a material and section that do not exist: sync_item's foreign keys.
        let stateError = #expect(throws: DatabaseError.self) {
            try fixture.lms.setSyncState(materialID: 4242, classID: 4242, .init(status: .successful), at: fixture.startedAt)
        }
        #expect(stateError?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY)
    }

    @Test("a database that records a migration this build does not know is refused as newer")
    func unknownMigrationIsRefused() throws {
        try withTemporaryDatabaseFile { path in
            do { _ = try PassbackDatabase(path: path) }
            try rawQueue(path).write { db in
                try db.execute(sql: "INSERT INTO passback_migration(name) VALUES ('zzzz_future.sql')")
            }

            let error = #expect(throws: StoreError.self) { _ = try PassbackDatabase(path: path) }
            #expect(error?.code == .newerSchema)
            #expect(error?.message.contains("zzzz_future.sql") == true)

            // Refusing touched nothing: the unknown record is still there, nothing was dropped.
            let names = try rawQueue(path).read { db in try String.fetchAll(db, sql: "SELECT name FROM passback_migration ORDER BY name") }
            #expect(names == (try Self.expected()) + ["zzzz_future.sql"])
            let imported = try rawQueue(path).read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations WHERE identifier = 'zzzz_future.sql'")
            }
            #expect(imported == 0, "nothing was written before refusing")
        }
    }

    @Test("an older database with only 0001 applied is migrated forward and keeps its rows")
    func olderDatabaseIsMigratedForward() throws {
        try withTemporaryDatabaseFile { path in
            let sql0001 = try String(contentsOf: packageRoot().appendingPathComponent("Schema/migrations/0001_roster.sql"), encoding: .utf8)
            try rawQueue(path).write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE passback_migration (
                            name TEXT PRIMARY KEY,
                            applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                        )
                        """)
                try db.execute(sql: sql0001)
                try db.execute(sql: "INSERT INTO passback_migration(name) VALUES ('0001_roster.sql')")
                try db.execute(
                    sql: """
                        INSERT INTO connection (id, base_url, profile, created_at, updated_at)
                        VALUES ('old', 'https://sis.example.org', 'standard', '2025-08-01T00:00:00.000Z', '2025-08-01T00:00:00.000Z')
                        """)
                try db.execute(
                    sql: """
                        INSERT INTO class (connection_id, sourced_id, status, fingerprint, title, course_sourced_id, school_sourced_id)
                        VALUES ('old', 'class-1', 'active', 'f1', 'Algebra I', 'course-1', 'school-1')
                        """)
                #expect(try !db.tableExists("material"))
            }

            let database = try PassbackDatabase(path: path)
            #expect(try database.appliedMigrations() == (try Self.expected()))
            let classes = try RosterStore(database).snapshot(connection: "old", collection: .classes)
            #expect(classes["class-1"]?["title"] == "Algebra I")
            // 0002's tables work with the old rows.
            let lms = LMSStore(database)
            let course = try lms.upsertCourse(
                connection: "old", lmsID: "lms-1", title: "Algebra", sectionSourcedIds: ["class-1"],
                at: at("2026-08-01T00:00:00.000Z"))
            try lms.upsertMaterial(courseID: course, .init(lmsID: "m-1", title: "Quiz 1"), at: at("2026-08-01T00:00:00.000Z"))
            let classID = try #require(try lms.classID(connection: "old", sourcedId: "class-1"))
            let page = try CacheQueries(database).materials(ofSection: classID, first: 10, after: nil)
            #expect(page.items.map(\.title) == ["Quiz 1"])
        }
    }

    @Test("a migration that fails is rolled back whole and named; the ones before it stay applied")
    func failedMigrationIsRolledBack() throws {
        try withTemporaryDatabaseFile { path in
            let pool = try DatabasePool(path: path)
            let migrations = [
                ("0001_a.sql", "CREATE TABLE a (x INTEGER);"),
                ("0002_b.sql", "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);")
            ]
            let error = #expect(throws: StoreError.self) { try Migrator.migrate(pool, migrations: migrations) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.message.contains("0002_b.sql") == true)
            let (a, b, applied, recorded) = try pool.read { db in
                (
                    try db.tableExists("a"), try db.tableExists("b"), try Migrator.applied(db),
                    try String.fetchAll(db, sql: "SELECT name FROM passback_migration")
                )
            }
            #expect(a)
            #expect(!b, "the failed migration's first statement was rolled back too")
            #expect(applied == ["0001_a.sql"])
            #expect(recorded == ["0001_a.sql"])
        }
    }

    @Test("a database the build before GRDB's migrator wrote (a dump of a demo's) opens: nothing re-applied, every row kept, its reads and writes work")
    func databaseBeforeRedesign() throws {
        try withTemporaryDatabaseFile { path in
            // Loaded by the sqlite3 shell: the dump restores the full-text index through `writable_schema`.
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            shell.arguments = [path]
            shell.standardInput = try FileHandle(forReadingFrom: packageRoot().appendingPathComponent("Tests/fixtures/database-before-redesign.sql"))
            try shell.run()
            shell.waitUntilExit()
            try #require(shell.terminationStatus == 0)
            let tables = [
                "connection", "class", "person", "enrollment", "lms_course", "material", "grade", "sync_item", "sync_run", "audit_entry",
                "sis_object", "api_token", "category_map"
            ]
            func counts() throws -> [String: Int] {
                try rawQueue(path).read { db in
                    try Dictionary(uniqueKeysWithValues: tables.map { ($0, try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? -1) })
                }
            }
            let before = try counts()
            #expect(before["material"] == 20 && before["person"] == 15 && before["sync_run"] == 1)
            let recordedBefore = try rawQueue(path).read { db in try Row.fetchAll(db, sql: "SELECT name, applied_at FROM passback_migration ORDER BY name") }
            #expect(try rawQueue(path).read { db in try !db.tableExists("grdb_migrations") })

            let database = try PassbackDatabase(path: path)
            #expect(try database.appliedMigrations() == (try Self.expected()))
            #expect(try counts() == before, "every row kept")
            let recordedAfter = try rawQueue(path).read { db in try Row.fetchAll(db, sql: "SELECT name, applied_at FROM passback_migration ORDER BY name") }
            // Nothing re-applied or re-recorded; migrations newer than the dump are applied after it.
            #expect(Array(recordedAfter.prefix(recordedBefore.count)) == recordedBefore, "nothing re-applied or re-recorded")
            let newer = recordedAfter.dropFirst(recordedBefore.count).map { $0["name"] as String }
            #expect(newer == (try Self.expected()).filter { $0 > "0013_roster_schedule.sql" }, "\(newer)")
            // Reads and writes of each area work on the old rows.
            let classID = try #require(
                try rawQueue(path).read { db in
                    try Int64.fetchOne(db, sql: "SELECT class_id FROM linked_section ORDER BY class_id LIMIT 1")
                })
            let page = try CacheQueries(database).materials(ofSection: classID, first: 50, after: nil, withTotal: true)
            let inCourse = try rawQueue(path).read { db in
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT count(*) FROM material m JOIN linked_section ls ON ls.lms_course_id = m.lms_course_id WHERE ls.class_id = ? AND m.deleted_at IS NULL",
                    arguments: [classID])
            }
            #expect(page.items.count == inCourse && inCourse ?? 0 > 0)
            let title = try #require(page.items.first?.title)
            let search = try CacheQueries(database).materials(
                ofSection: classID, filter: MaterialFilter(search: String(title.prefix(4))), first: 50, after: nil)
            #expect(search.items.contains { $0.title == title }, "the full-text index came through")
            let course = try #require(try LMSStore(database).courseID(ofSection: classID))
            try LMSStore(database).upsertMaterial(
                courseID: course, .init(lmsID: "after-upgrade", title: "Written after the upgrade"), at: at("2026-12-02T00:00:00.000Z"))
            #expect(try CacheQueries(database).materials(ofSection: classID, first: 50, after: nil).items.contains { $0.title == "Written after the upgrade" })
        }
    }
}

@Suite("Migration 0006: per-section opt-outs")
struct SectionOptOutMigrationTests {
    @Test("a material opted out before 0006 stays OPT_OUT in each linked section, as an opt-out each section's teacher can lift alone")
    func oldOptOutBecomesPerSectionOptOuts() throws {
        try withTemporaryDatabaseFile { path in
            let before = EmbeddedMigrations.all.filter { $0.name < "0006" }.map { ($0.name, $0.text) }
            let now = at("2026-08-01T00:00:00.000Z")
            do {
                let pool = try DatabasePool(path: path)
                try Migrator.migrate(pool, migrations: before)
                try pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO connection (id, base_url, profile, created_at, updated_at)
                            VALUES ('old', 'https://sis.example.org', 'standard', '2025-08-01T00:00:00.000Z', '2025-08-01T00:00:00.000Z');
                            INSERT INTO class (connection_id, sourced_id, status, fingerprint, title, course_sourced_id, school_sourced_id)
                            VALUES ('old', 'class-1', 'active', 'f1', 'Algebra I', 'course-1', 'school-1'),
                                   ('old', 'class-2', 'active', 'f2', 'Algebra I', 'course-1', 'school-2');
                            INSERT INTO lms_course (connection_id, lms_id, title, created_at, updated_at)
                            VALUES ('old', 'lms-1', 'Algebra', '2025-08-01T00:00:00.000Z', '2025-08-01T00:00:00.000Z');
                            INSERT INTO linked_section (lms_course_id, class_id) SELECT 1, id FROM class;
                            INSERT INTO material (lms_course_id, lms_id, title, sync_to_sis, updated_at)
                            VALUES (1, 'off', 'Quiz 1', 0, '2025-08-01T00:00:00.000Z'), (1, 'on', 'Quiz 2', 1, '2025-08-01T00:00:00.000Z');
                            """)
                }
            }
            let database = try PassbackDatabase(path: path)
            let lms = LMSStore(database)
            let c1 = try #require(try lms.classID(connection: "old", sourcedId: "class-1"))
            let c2 = try #require(try lms.classID(connection: "old", sourcedId: "class-2"))
            func statuses(_ classID: Int64) throws -> [String: SyncStatus] {
                Dictionary(
                    uniqueKeysWithValues: try CacheQueries(database).materials(ofSection: classID, first: 10, after: nil).items.map { ($0.lmsID, $0.status) })
            }
            #expect(try statuses(c1) == ["off": .optOut, "on": .notSynced])
            #expect(try statuses(c2) == ["off": .optOut, "on": .notSynced])
            let rows = try rawQueue(path).read { db in
                try Row.fetchAll(db, sql: "SELECT class_id, opted_out_by FROM material_opt_out ORDER BY class_id")
            }
            #expect(rows.map { $0["class_id"] as Int64 } == [c1, c2])
            #expect(rows.allSatisfy { $0["opted_out_by"] == "migration 0006" })
            // The feed's flag is no longer what holds it: the teacher of class-2 turns it back on there alone.
            let off = try #require(try lms.materialID(courseID: 1, lmsID: "off"))
            #expect(try lms.setSyncToSIS(materialID: off, classIDs: [c2], true, by: "t-2", at: now) == .saved)
            #expect(try statuses(c1)["off"] == .optOut)
            #expect(try statuses(c2)["off"] == .notSynced)
        }
    }
}

@Suite("Migration 0010: what the SIS accepted, per object; a status row per material × section")
struct SISObjectMigrationTests {
    @Test("an older database gets a status row for every material × section (opt-outs as OPT_OUT) and what its completed writes put in the SIS")
    func upgrade() throws {
        try withTemporaryDatabaseFile { path in
            let before = EmbeddedMigrations.all.filter { $0.name < "0010" }.map { ($0.name, $0.text) }
            do {
                let pool = try DatabasePool(path: path)
                try Migrator.migrate(pool, migrations: before)
                try pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO connection (id, base_url, profile, created_at, updated_at)
                            VALUES ('old', 'https://sis.example.org', 'standard', '2025-08-01T00:00:00.000Z', '2025-08-01T00:00:00.000Z');
                            INSERT INTO class (connection_id, sourced_id, status, fingerprint, title, course_sourced_id, school_sourced_id)
                            VALUES ('old', 'class-1', 'active', 'f1', 'Algebra I', 'course-1', 'school-1');
                            INSERT INTO lms_course (connection_id, lms_id, title, created_at, updated_at)
                            VALUES ('old', 'lms-1', 'Algebra', '2025-08-01T00:00:00.000Z', '2025-08-01T00:00:00.000Z');
                            INSERT INTO linked_section (lms_course_id, class_id) SELECT 1, id FROM class;
                            INSERT INTO material (id, lms_course_id, lms_id, title, sync_to_sis, updated_at)
                            VALUES (1, 1, 'sent', 'Quiz 1', 1, '2025-08-01T00:00:00.000Z'), (2, 1, 'new', 'Quiz 2', 1, '2025-08-01T00:00:00.000Z'),
                                   (3, 1, 'off', 'Quiz 3', 1, '2025-08-01T00:00:00.000Z');
                            INSERT INTO material_opt_out (material_id, class_id, opted_out_by, opted_out_at) VALUES (3, 1, 't-1', '2025-08-02T00:00:00.000Z');
                            INSERT INTO sync_run (id, connection_id, class_id, trigger, started_by, state, started_at, finished_at)
                            VALUES (7, 'old', 1, 'sync_changes', 't-1', 'succeeded', '2025-08-03T00:00:00.000Z', '2025-08-03T00:01:00.000Z');
                            INSERT INTO outbox_job (connection_id, kind, target_sourced_id, payload, fingerprint, material_id, class_id, sync_run_id, state,
                                                    max_attempts, created_at, scheduled_at, finalized_at)
                            VALUES ('old', 'put_line_item', 'li-1', '{}', 'first', 1, 1, 7, 'completed', 12, '2025-08-03T00:00:00.000Z',
                                    '2025-08-03T00:00:00.000Z', '2025-08-03T00:00:10.000Z'),
                                   ('old', 'put_line_item', 'li-1', '{}', 'latest', 1, 1, 7, 'completed', 12, '2025-08-03T00:00:00.000Z',
                                    '2025-08-03T00:00:00.000Z', '2025-08-03T00:00:20.000Z'),
                                   ('old', 'put_result', 'r-1', '{}', 'refused', 1, 1, 7, 'cancelled', 12, '2025-08-03T00:00:00.000Z',
                                    '2025-08-03T00:00:00.000Z', '2025-08-03T00:00:30.000Z');
                            INSERT INTO sync_item (material_id, class_id, status, last_synced_at, updated_at, sync_run_id, last_attempt)
                            VALUES (1, 1, 'SUCCESSFUL', '2025-08-03T00:01:00.000Z', '2025-08-03T00:01:00.000Z', 7, 'succeeded'),
                                   (3, 1, 'SUCCESSFUL', '2025-08-03T00:01:00.000Z', '2025-08-03T00:01:00.000Z', 7, 'succeeded');
                            """)
                }
            }
            let database = try PassbackDatabase(path: path)
            let c1 = try #require(try LMSStore(database).classID(connection: "old", sourcedId: "class-1"))
            let statuses = Dictionary(
                uniqueKeysWithValues: try CacheQueries(database).materials(ofSection: c1, first: 10, after: nil).items.map { ($0.lmsID, $0.status) })
            #expect(statuses == ["sent": .successful, "new": .notSynced, "off": .optOut])
            let rows = try rawQueue(path).read { db in
                (
                    try Row.fetchAll(db, sql: "SELECT * FROM sis_object ORDER BY sourced_id"),
                    try Row.fetchAll(db, sql: "SELECT material_id, attempted FROM sync_item ORDER BY material_id")
                )
            }
            #expect(rows.0.count == 1, "only completed writes: what the SIS accepted")
            #expect(rows.0.first?["kind"] == "line_item")
            #expect(rows.0.first?["accepted_fingerprint"] == "latest", "the last accepted content")
            #expect(rows.0.first?["material_id"] == 1)
            #expect(rows.1.map { [$0["material_id"] as Int64, $0["attempted"] as Int64] } == [[1, 1], [2, 0], [3, 1]])
        }
    }
}
