import Foundation
import GRDB
import PassbackCore

/// LTI 1.3: the platforms (LMSs) an admin registered, the logins they started, and the
/// roster facts a launch is checked against.
public struct LTIStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// A registered platform and the deployments it may launch.
    public struct Platform: Sendable, Hashable {
        public var id: Int64
        public var issuer: String
        public var clientID: String
        public var authURL: String
        public var jwksURL: String
        public var tokenURL: String?
        public var connectionID: String
        /// The org an Administrator's launch acts on.
        public var orgSourcedId: String?
        public var deploymentIDs: [String]
    }

    /// What an admin asked to register (`passback lti platform add`, or the configuration).
    public typealias Registration = LTIRegistration

    /// Why a registration is refused, saying what to fix.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Registers a platform, or, for an issuer and client id already registered, replaces its
    /// URLs, connection and org and adds the deployments given (a platform may have several).
    @discardableResult
    public func register(_ r: Registration, at now: Date) throws -> Platform {
        for (name, value) in [("--issuer", r.issuer), ("--auth-url", r.authURL), ("--jwks-url", r.jwksURL)] + (r.tokenURL.map { [("--token-url", $0)] } ?? []) {
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host != nil else {
                throw Refusal("\(name) must be an http(s) URL, got '\(value)'")
            }
        }
        guard !r.clientID.isEmpty else { throw Refusal("--client-id is the client id the LMS gave Passback; it is empty") }
        guard !r.deploymentIDs.isEmpty, r.deploymentIDs.allSatisfy({ !$0.isEmpty }) else {
            throw Refusal("--deployment-id is the id of Passback's deployment in the LMS (at least one, none empty)")
        }
        let id: Int64 = try pool.write { db in
            let connections = try String.fetchAll(db, sql: "SELECT id FROM connection ORDER BY id")
            let connection: String
            if let given = r.connectionID {
                guard connections.contains(given) else {
                    throw Refusal("no connection '\(given)' in this database (rostered: \(connections.isEmpty ? "none" : connections.joined(separator: ", ")))")
                }
                connection = given
            } else {
                guard connections.count == 1, let only = connections.first else {
                    throw Refusal(
                        connections.isEmpty
                            ? "no connection has been rostered yet; roster one first (passback roster sync)"
                            : "--connection is needed: this database has \(connections.joined(separator: ", "))")
                }
                connection = only
            }
            if let org = r.orgSourcedId {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM org WHERE connection_id = ? AND sourced_id = ?", arguments: [connection, org]) == true else {
                    throw Refusal("no org '\(org)' in the roster of \(connection)")
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO lti_platform (issuer, client_id, auth_url, jwks_url, token_url, connection_id, org_sourced_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (issuer, client_id) DO UPDATE SET auth_url = excluded.auth_url, jwks_url = excluded.jwks_url,
                        token_url = excluded.token_url, connection_id = excluded.connection_id, org_sourced_id = excluded.org_sourced_id
                    """,
                arguments: [r.issuer, r.clientID, r.authURL, r.jwksURL, r.tokenURL, connection, r.orgSourcedId, Timestamp.text(now)])
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM lti_platform WHERE issuer = ? AND client_id = ?", arguments: [r.issuer, r.clientID])!
            for deployment in r.deploymentIDs {
                try db.execute(sql: "INSERT OR IGNORE INTO lti_deployment (platform_id, deployment_id) VALUES (?, ?)", arguments: [id, deployment])
            }
            return id
        }
        return try platform(id: id)!
    }

    public func platforms() throws -> [Platform] {
        try database.read { db in try Self.platforms(db, where: "1", arguments: []) }
    }

    public func platform(id: Int64) throws -> Platform? {
        try database.read { db in try Self.platforms(db, where: "p.id = ?", arguments: [id]).first }
    }

    /// The registrations of an issuer (one per client id it gave).
    public func platforms(issuer: String) throws -> [Platform] {
        try database.read { db in try Self.platforms(db, where: "p.issuer = ?", arguments: [issuer]) }
    }

    static func platforms(_ db: Database, where condition: String, arguments: StatementArguments) throws -> [Platform] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT p.*, (SELECT json_group_array(deployment_id) FROM (SELECT deployment_id FROM lti_deployment d WHERE d.platform_id = p.id ORDER BY deployment_id)) AS deployments
                FROM lti_platform p WHERE \(condition) ORDER BY p.id
                """, arguments: arguments
        ).map { r in
            Platform(
                id: r["id"], issuer: r["issuer"], clientID: r["client_id"], authURL: r["auth_url"], jwksURL: r["jwks_url"], tokenURL: r["token_url"],
                connectionID: r["connection_id"], orgSourcedId: r["org_sourced_id"],
                deploymentIDs: (try? JSONDecoder().decode([String].self, from: Data((r["deployments"] as String).utf8))) ?? [])
        }
    }

    /// Removes a registration (by id), or one deployment of it; returns whether anything went.
    @discardableResult
    public func remove(platform id: Int64, deployment: String? = nil) throws -> Bool {
        try pool.write { db in
            if let deployment {
                try db.execute(sql: "DELETE FROM lti_deployment WHERE platform_id = ? AND deployment_id = ?", arguments: [id, deployment])
            } else {
                try db.execute(sql: "DELETE FROM lti_platform WHERE id = ?", arguments: [id])
            }
            return db.changesCount > 0
        }
    }

    // MARK: Logins

    /// Keeps a login's `state` and `nonce` until its launch comes back (or `window` passes);
    /// removes the logins older than that.
    ///
    /// A login is started by anyone who asks (before any proof of who they are), so the logins
    /// waiting at once are bounded: past `limit`, a new one is refused (`false`) until older
    /// ones are taken or expire.
    @discardableResult
    public func startLogin(platform: Int64, state: String, nonce: String, at now: Date, window: TimeInterval, limit: Int = 10_000) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM lti_login WHERE created_at < ?", arguments: [Timestamp.text(now.addingTimeInterval(-window))])
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM lti_login") ?? 0 < limit else { return false }
            try db.execute(
                sql: "INSERT INTO lti_login (state, nonce, platform_id, created_at) VALUES (?, ?, ?, ?)",
                arguments: [state, nonce, platform, Timestamp.text(now)])
            return true
        }
    }

    /// A login taken by its launch: once only, and only within `window` of its start. Nil for
    /// a state never given, already taken, or too old.
    public func takeLogin(state: String, at now: Date, window: TimeInterval) throws -> (nonce: String, platform: Int64)? {
        try pool.write { db in
            guard
                let r = try Row.fetchOne(db, sql: "DELETE FROM lti_login WHERE state = ? RETURNING nonce, platform_id, created_at", arguments: [state]),
                let started = Timestamp.date(r["created_at"]), now.timeIntervalSince(started) <= window
            else { return nil }
            return (r["nonce"], r["platform_id"])
        }
    }

    // MARK: Who launches

    /// A rostered person as a launch finds them.
    public struct Person: Sendable, Hashable {
        public var sourcedId: String
        public var role: String
        public var active: Bool
        public var givenName: String
        public var familyName: String
    }

    /// The person with this sourcedId in the connection's roster, or (when `email` is given
    /// and no sourcedId matches) the one person with that email.
    public func person(connection: String, sourcedId: String?, email: String?) throws -> Person? {
        try database.read { db in
            func one(_ condition: String, _ value: String) throws -> Person? {
                let rows = try Row.fetchAll(
                    db, sql: "SELECT sourced_id, role, status, given_name, family_name FROM person WHERE connection_id = ? AND \(condition) LIMIT 2",
                    arguments: [connection, value])
                guard rows.count == 1, let r = rows.first else { return nil }
                return Person(
                    sourcedId: r["sourced_id"], role: r["role"], active: (r["status"] as String) == "active", givenName: r["given_name"],
                    familyName: r["family_name"])
            }
            if let sourcedId, let found = try one("sourced_id = ?", sourcedId) { return found }
            if let email, !email.isEmpty, let found = try one("lower(email) = lower(?)", email) { return found }
            return nil
        }
    }

    /// Of the classes named, those in the roster (with their titles), and those the person is an
    /// active teacher of.
    public func classes(connection: String, sourcedIds: [String], teacher: String) throws -> (found: [String: String], taught: Set<String>) {
        guard !sourcedIds.isEmpty else { return ([:], []) }
        return try database.read { db in
            var found: [String: String] = [:]
            var taught = Set<String>()
            for sourcedId in sourcedIds {
                guard
                    let title = try String.fetchOne(
                        db, sql: "SELECT title FROM class WHERE connection_id = ? AND sourced_id = ? AND status = 'active'", arguments: [connection, sourcedId])
                else { continue }
                found[sourcedId] = title
                if try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT 1 FROM enrollment WHERE connection_id = ? AND class_sourced_id = ? AND person_sourced_id = ?
                        AND role = 'teacher' AND status = 'active'
                        """, arguments: [connection, sourcedId, teacher]) == true
                {
                    taught.insert(sourcedId)
                }
            }
            return (found, taught)
        }
    }

    // MARK: Approval

    /// Whether the user approved Passback at an earlier launch.
    public func approved(connection: String, user: String) throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM lti_approval WHERE connection_id = ? AND user_sourced_id = ?", arguments: [connection, user]) == true
        }
    }

    public func approve(connection: String, user: String, at now: Date) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO lti_approval (connection_id, user_sourced_id, approved_at) VALUES (?, ?, ?)",
                arguments: [connection, user, Timestamp.text(now)])
        }
    }

    /// Keeps a verified launch (as JSON) until its user approves, under the ticket's hash;
    /// removes the ones older than `window`.
    public func holdLaunch(ticket: String, launch: Data, at now: Date, window: TimeInterval) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM lti_pending WHERE created_at < ?", arguments: [Timestamp.text(now.addingTimeInterval(-window))])
            try db.execute(
                sql: "INSERT INTO lti_pending (ticket_hash, launch, created_at) VALUES (?, ?, ?)",
                arguments: [Fingerprint.sha256Hex(Data(ticket.utf8)), String(decoding: launch, as: UTF8.self), Timestamp.text(now)])
        }
    }

    /// The launch a ticket holds: once only, within `window`.
    public func takeLaunch(ticket: String, at now: Date, window: TimeInterval) throws -> Data? {
        try pool.write { db in
            guard
                let r = try Row.fetchOne(
                    db, sql: "DELETE FROM lti_pending WHERE ticket_hash = ? RETURNING launch, created_at",
                    arguments: [Fingerprint.sha256Hex(Data(ticket.utf8))]),
                let held = Timestamp.date(r["created_at"]), now.timeIntervalSince(held) <= window
            else { return nil }
            return Data((r["launch"] as String).utf8)
        }
    }

    /// The SIS a connection writes to (its base URL), as the approval page names it.
    public func sisAddress(connection: String) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "SELECT base_url FROM connection WHERE id = ?", arguments: [connection]) }
    }

    // MARK: Framing

    /// `scheme://host[:port]` of a URL, lower-cased; nil for anything but http(s).
    public static func origin(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        return "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
    }

    /// Keeps the origin a platform's launch was posted from.
    public func rememberFrameOrigin(platform: Int64, origin: String, at now: Date) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO lti_frame_origin (platform_id, origin, seen_at) VALUES (?, ?, ?)
                    ON CONFLICT (platform_id, origin) DO UPDATE SET seen_at = excluded.seen_at
                    """, arguments: [platform, origin, Timestamp.text(now)])
        }
    }

    /// The origins that may frame Passback's pages: the registered platforms' issuers and
    /// authorization URLs, and the origins their launches came from.
    public func frameOrigins() throws -> Set<String> {
        try database.read { db in
            var out = Set<String>()
            for r in try Row.fetchAll(db, sql: "SELECT issuer, auth_url FROM lti_platform") {
                for url in [r["issuer"], r["auth_url"]] as [String] { if let o = Self.origin(url) { out.insert(o) } }
            }
            out.formUnion(try String.fetchAll(db, sql: "SELECT origin FROM lti_frame_origin"))
            return out
        }
    }
}
