import Foundation
import GRDB
import Hummingbird
import PassbackCore
import PassbackTesting

/// The query engine's floor over HTTP: the widget's answer for one section built by one SQLite statement
/// (`json_object`, `json_group_array`) and served by a Hummingbird server in this process on
/// loopback, after the same token check Passback makes (the token's hash looked up). What
/// Passback's `/graphql` is compared with, HTTP against HTTP, by `wrk`.
struct HTTPFloor {
    /// The widget's MATERIALS answer (title order, 50 a page, deleted materials left out), as JSON text.
    /// `json_group_array` and the end cursor take the page's order from the CTE's `ORDER BY`, as
    /// SQLite does (its `json_group_array(… ORDER BY …)` needs 3.44; Debian 12 has 3.40). The
    /// problems are the stored ones only (Passback adds the SIS's refusal when it has one).
    static let statement = """
        WITH page AS (\(page(limit: 51)))
        SELECT json_object('data', json_object('section', json_object(
            'configured', json(CASE WHEN EXISTS (SELECT 1 FROM section_config WHERE class_id = ?1) THEN 'true' ELSE 'false' END),
            'materials', json_object(
                'totalCount', (SELECT count(*) FROM linked_section ls JOIN material m ON m.lms_course_id = ls.lms_course_id
                               WHERE ls.class_id = ?1 AND m.deleted_at IS NULL),
                'pageInfo', json_object('hasNextPage', json(CASE WHEN (SELECT count(*) FROM page) > 50 THEN 'true' ELSE 'false' END),
                                        'endCursor', (SELECT id FROM page LIMIT 1 OFFSET (SELECT min(count(*), 50) - 1 FROM page))),
                'nodes', (SELECT json_group_array(json_object(
                    'id', id, 'title', title, 'dueDate', due_at, 'lastSyncedAt', last_synced_at, 'syncStatus', status,
                    'syncToSIS', json(CASE WHEN sync_to_sis THEN 'true' ELSE 'false' END),
                    'problems', json_object('totalCount', json_array_length(problems), 'nodes', json(problems))))
                    FROM (SELECT * FROM page LIMIT 50)))
        )))
        """

    /// The widget's rows of section `?1` (its materials by title, deleted ones left out, each with
    /// its status, opt-out and stored problems): the in-process floor reads them too.
    static func page(limit: Int) -> String {
        """
        SELECT m.id, m.title, m.due_at, si.last_synced_at,
               CASE WHEN m.sync_to_sis = 0 OR oo.material_id IS NOT NULL THEN 'OPT_OUT' ELSE COALESCE(si.status, 'NOT_SYNCED') END AS status,
               (m.sync_to_sis = 1 AND oo.material_id IS NULL) AS sync_to_sis, COALESCE(si.problems, '[]') AS problems
        FROM linked_section ls JOIN material m ON m.lms_course_id = ls.lms_course_id
        LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = ls.class_id
        LEFT JOIN material_opt_out oo ON oo.material_id = m.id AND oo.class_id = ls.class_id
        WHERE ls.class_id = ?1 AND m.deleted_at IS NULL ORDER BY m.title COLLATE NOCASE, m.id LIMIT \(limit)
        """
    }

    /// The admin's `syncErrors(first: 50)` answer (newest first, with each error's section,
    /// school and material) for the org subtree of `:root` in `:connection`, as JSON text: what
    /// `adminDocument` asks for, the store's conditions written out once.
    static let errorsStatement = """
        WITH RECURSIVE scope(sid) AS (
            SELECT sourced_id FROM org WHERE connection_id = :connection AND sourced_id = :root
            UNION
            SELECT o.sourced_id FROM org o JOIN scope ON o.parent_sourced_id = scope.sid WHERE o.connection_id = :connection
        ),
        errs AS (
            SELECT si.error_code, si.error_message, si.error_at, c.sourced_id AS section_sourced_id, c.school_sourced_id, m.title AS material_title
            FROM sync_item si INDEXED BY sync_item_errors CROSS JOIN class c ON c.id = si.class_id JOIN material m ON m.id = si.material_id
            WHERE si.status = 'ERROR' AND c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope)
            ORDER BY si.error_at DESC, si.class_id DESC, si.material_id DESC LIMIT 50
        )
        SELECT json_object('data', json_object('syncErrors', json_object(
            'totalCount', (SELECT count(*) FROM sync_item si INDEXED BY sync_item_errors CROSS JOIN class c ON c.id = si.class_id
                           WHERE si.status = 'ERROR' AND c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope)),
            'nodes', (SELECT json_group_array(json_object(
                'code', error_code, 'message', error_message, 'at', error_at,
                'section', json_object('sourcedId', section_sourced_id),
                'school', json_object('name', (SELECT name FROM org o WHERE o.connection_id = :connection AND o.sourced_id = e.school_sourced_id)),
                'material', json_object('title', material_title))) FROM errs e))))
        """

    /// The admin's document the errors floor answers (the bench's admin read).
    static let adminDocument = "{ syncErrors(first: 50) { totalCount nodes { code message at section { sourcedId } school { name } material { title } } } }"

    let app: Application<RouterResponder<BasicRequestContext>>
    let port: Int

    /// `/floor`: the widget's answer for `classID`; `/floor-errors`: the admin's errors of the
    /// subtree of org `root` in `connection`.
    init(database: String, classID: Int64, connection: String, root: String, port: Int) throws {
        let pool = try DatabasePool(path: database)
        let router = Router()
        /// A route answering `statement` with `arguments`, after the token check Passback makes (its hash looked up).
        func floor(_ path: String, _ statement: String, _ arguments: StatementArguments) {
            router.post(RouterPath(path)) { request, _ -> Response in
                let bearer = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? ""
                let answer = try await pool.read { db -> String? in
                    guard
                        try Bool.fetchOne(
                            db.cachedStatement(sql: "SELECT 1 FROM api_token WHERE token_hash = ? AND revoked_at IS NULL"), arguments: [APIToken.hash(bearer)])
                            != nil
                    else { return nil }
                    return try String.fetchOne(db.cachedStatement(sql: statement), arguments: arguments)
                }
                guard let answer else { return Response(status: .unauthorized) }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
            }
        }
        floor("/floor", Self.statement, [classID])
        floor("/floor-errors", Self.errorsStatement, ["connection": connection, "root": root])
        app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        self.port = port
    }

    /// What one `wrk` run measured.
    struct Load {
        var requestsPerSecond: Double
        var p50ms: Double
        var p99ms: Double
        /// CPU time of the serving process per request, in ms.
        var cpuMS: Double
    }

    /// Runs `wrk` for `seconds` at `connections` against `url`, POSTing `body` with `token`,
    /// and reads the serving process's CPU time (`pid`) around it.
    static func load(url: String, body: String, token: String, connections: Int, seconds: Int, pid: Int32, dir: URL) async throws -> Load {
        let bodyFile = dir.appending(path: "wrk-body.json")
        try body.write(to: bodyFile, atomically: true, encoding: .utf8)
        let script = dir.appending(path: "wrk-post.lua")
        try """
        local f = io.open("\(bodyFile.path)", "rb")
        wrk.method = "POST"
        wrk.body = f:read("*a")
        f:close()
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["Authorization"] = "Bearer \(token)"
        """.write(to: script, atomically: true, encoding: .utf8)
        let before = cpuSeconds(pid)
        let out = try await runCommand(
            "/usr/bin/wrk", ["-t", "1", "-c", "\(connections)", "-d", "\(seconds)s", "--latency", "-s", script.path, url])
        let cpu = cpuSeconds(pid) - before
        guard !out.contains("Non-2xx"), let rate = field(out, "Requests/sec:"), let total = requests(out), total > 0,
            let p50 = latency(out, "50%"), let p99 = latency(out, "99%")
        else { throw BenchFailure("wrk against \(url): \(out)") }
        return Load(requestsPerSecond: rate, p50ms: p50, p99ms: p99, cpuMS: cpu * 1000 / Double(total))
    }

    /// User and system CPU seconds of a process (`/proc/PID/stat` fields 14 and 15).
    static func cpuSeconds(_ pid: Int32) -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The command name is in parentheses and may hold spaces: count fields after the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func field(_ out: String, _ name: String) -> Double? {
        out.split(separator: "\n").first { $0.hasPrefix(name) }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// "12345 requests in 5.00s, …"
    static func requests(_ out: String) -> Int? {
        out.split(separator: "\n").first { $0.contains(" requests in ") }.flatMap { Int($0.split(separator: " ").first ?? "") }
    }

    /// A latency line of `--latency`'s distribution ("    99%    3.21ms"), in ms.
    static func latency(_ out: String, _ percentile: String) -> Double? {
        guard let line = out.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(percentile + " ") }),
            let value = line.split(separator: " ").last
        else { return nil }
        let text = String(value)
        for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * factor }
        }
        return nil
    }
}
