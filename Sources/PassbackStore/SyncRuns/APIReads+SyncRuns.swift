import Foundation
import GRDB
import PassbackCore

/// Sync runs and their outbox jobs, as the API lists them.
extension APIReads {
    /// Runs of the sections `scope` may read (optionally one section, some states), newest first.
    public func syncRuns(
        connection: String, scope: SectionScope?, classID: Int64?, states: [RunState]?, first: Int, after: String?
    ) throws
        -> (page: KeysetPage<SyncRunRecord>, total: Int)
    {
        let ordering = "runs:id:desc"
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection]
        var conditions = " WHERE r.connection_id = :connection"
        var prefix = ""
        switch scope {
        case .teacher(let t)?:
            conditions += """
                 AND r.class_id IN (SELECT c.id FROM class c JOIN enrollment e ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id
                    WHERE c.connection_id = :connection AND e.person_sourced_id = :teacher AND e.role = 'teacher' AND e.status = 'active')
                """
            args["teacher"] = t
        case .org(let root)?:
            prefix = CacheQueries.scopeCTE
            conditions += " AND r.class_id IN (SELECT c.id FROM class c WHERE c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope))"
            args["root"] = root
        case nil:
            break
        }
        if let classID {
            conditions += " AND r.class_id = :class"
            args["class"] = classID
        }
        if let states, !states.isEmpty {
            conditions += " AND r.state IN (\(states.indices.map { ":s\($0)" }.joined(separator: ",")))"
            for (i, s) in states.enumerated() { args["s\(i)"] = s.rawValue }
        }
        var pageArgs = args
        var sql = prefix + "SELECT r.* FROM sync_run r" + conditions
        if let after {
            sql += " AND r.id < :after"
            pageArgs["after"] = try Keyset.decode(after, ordering: ordering).id
        }
        sql += " ORDER BY r.id DESC LIMIT :limit"
        pageArgs["limit"] = first + 1
        return try database.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(pageArgs))
            let items = rows.prefix(first).map(EngineStore.run)
            let total = try Int.fetchOne(db, sql: prefix + "SELECT count(*) FROM sync_run r" + conditions, arguments: StatementArguments(args)) ?? 0
            return (
                KeysetPage(items: items, hasNextPage: rows.count > first) { Keyset.encode(ordering: ordering, key: nil, id: items[$0].id) }, total
            )
        }
    }

    public func runs(ids: [Int64]) throws -> [Int64: SyncRunRecord] {
        try database.read { db in
            var out: [Int64: SyncRunRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM sync_run WHERE id IN (\(Self.list(ids)))") {
                let run = EngineStore.run(r)
                out[run.id] = run
            }
            return out
        }
    }

    /// Each run's jobs by id: the first `first` after `after`, and how many there are.
    /// Pages of the runs' jobs, oldest first, each run's own; `states` (empty: all) narrows both
    /// the page and the total.
    public func jobs(runIDs: [Int64], first: Int, after: String?, states: [JobState] = []) throws -> [Int64: (page: KeysetPage<JobRecord>, total: Int)] {
        let ordering = "jobs:id"
        let stateCondition = states.isEmpty ? "" : " AND state IN (\(states.map { _ in "?" }.joined(separator: ",")))"
        var condition = stateCondition
        var args: [(any DatabaseValueConvertible)?] = states.map(\.rawValue)
        if let after {
            condition = " AND id > ?"
            args.append(try Keyset.decode(after, ordering: ordering).id)
        }
        args.append(first + 1)
        return try database.read { db in
            var rows: [Int64: [JobRecord]] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT j.*, row_number() OVER (PARTITION BY sync_run_id ORDER BY id) AS n
                                   FROM outbox_job j WHERE sync_run_id IN (\(Self.list(runIDs)))\(condition))
                    WHERE n <= ? ORDER BY sync_run_id, n
                    """, arguments: StatementArguments(args))
            {
                rows[r["sync_run_id"], default: []].append(EngineStore.job(r))
            }
            var totals: [Int64: Int] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT sync_run_id, count(*) AS n FROM outbox_job WHERE sync_run_id IN (\(Self.list(runIDs)))\(stateCondition) GROUP BY sync_run_id",
                arguments: StatementArguments(states.map(\.rawValue)))
            {
                totals[r["sync_run_id"]] = r["n"]
            }
            return Self.pages(runIDs, rows: rows, totals: totals, first: first) { Keyset.encode(ordering: ordering, key: nil, id: $0.id) }
        }
    }

    public func jobs(ids: [Int64]) throws -> [Int64: JobRecord] {
        try database.read { db in
            var out: [Int64: JobRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM outbox_job WHERE id IN (\(Self.list(ids)))") {
                let job = EngineStore.job(r)
                out[job.id] = job
            }
            return out
        }
    }
}
