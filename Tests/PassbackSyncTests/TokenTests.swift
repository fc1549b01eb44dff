import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@Suite("API tokens")
struct TokenTests {
    static func bytes(_ seed: UInt8) -> [UInt8] { (0..<32).map { UInt8(truncatingIfNeeded: Int($0) * 7 + Int(seed)) } }

    /// A rostered district to make tokens against.
    func rostered(_ body: (TokenStore, SandboxData, PassbackDatabase) async throws -> Void) async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 2, students: 40, classes: 2, studentsPerClass: 20) }, clock: clock) { running in
                let conn = settings(for: running)
                _ = try await RosterImporter(store: RosterStore(db), clock: clock).pull(
                    connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
                try await body(TokenStore(db), running.sandbox.data, db)
            }
        }
    }

    @Test("a token is shown once, stored only as its hash, and resolves to who it acts as")
    func createAndResolve() async throws {
        try await rostered { tokens, data, db in
            let teacher = try #require(data.all(.users).first { $0["role"] == "teacher" })["sourcedId"]!.stringValue!
            let (id, token) = try tokens.create(
                connection: "district", user: teacher, role: .teacher, org: nil, expiresAt: nil, label: "laptop",
                randomBytes: Self.bytes(1), at: start)
            #expect(APIToken.looksValid(token))
            let principal = try #require(try tokens.principal(for: token, at: start))
            #expect(principal == Principal(tokenID: id, connectionID: "district", userSourcedId: teacher, role: .teacher, orgSourcedId: nil))
            #expect(try tokens.principal(for: token + "x", at: start) == nil)
            #expect(try tokens.principal(for: APIToken.make(randomBytes: Self.bytes(2)), at: start) == nil)
            let raw = try Data(contentsOf: URL(fileURLWithPath: db.path)) + ((try? Data(contentsOf: URL(fileURLWithPath: db.path + "-wal"))) ?? Data())
            #expect(raw.range(of: Data(token.utf8)) == nil, "the token itself is nowhere in the database files")
            #expect(raw.range(of: Data(APIToken.hash(token).utf8)) != nil)
        }
    }

    @Test("revoked and expired tokens stop working")
    func revokeAndExpire() async throws {
        try await rostered { tokens, data, _ in
            let teacher = try #require(data.all(.users).first { $0["role"] == "teacher" })["sourcedId"]!.stringValue!
            let (id, first) = try tokens.create(
                connection: "district", user: teacher, role: .teacher, org: nil, expiresAt: nil, label: nil,
                randomBytes: Self.bytes(3), at: start)
            #expect(try tokens.revoke(String(id), at: start) == 1)
            #expect(try tokens.principal(for: first, at: start) == nil)
            #expect(try tokens.revoke(String(id), at: start) == 0, "already revoked")
            let (_, second) = try tokens.create(
                connection: "district", user: teacher, role: .teacher, org: nil, expiresAt: start.addingTimeInterval(3600),
                label: nil, randomBytes: Self.bytes(4), at: start)
            #expect(try tokens.principal(for: second, at: start.addingTimeInterval(3599)) != nil)
            #expect(try tokens.principal(for: second, at: start.addingTimeInterval(3600)) == nil)
            let listed = try tokens.list()
            #expect(listed.count == 2)
            #expect(listed.allSatisfy { !$0.prefix.isEmpty && $0.prefix.count < 12 })
            #expect(try tokens.revoke(listed[1].prefix, at: start) == 1)
        }
    }

    @Test("tokens are refused with a reason for unrostered users, students, admins without an org, unknown orgs, past expiry")
    func refusals() async throws {
        try await rostered { tokens, data, _ in
            let student = try #require(data.all(.users).first { $0["role"] == "student" })["sourcedId"]!.stringValue!
            let admin = try #require(data.all(.users).first { $0["role"] == "administrator" })["sourcedId"]!.stringValue!
            let district = try #require(data.all(.orgs).first { $0["type"] == "district" })["sourcedId"]!.stringValue!
            let cases: [(String, Principal.Role, String?, Date?, String)] = [
                ("nobody", .teacher, nil, nil, "no active user"),
                (student, .teacher, nil, nil, "rostered as student"),
                (admin, .admin, nil, nil, "needs --org"),
                (admin, .admin, "no-such-org", nil, "no org"),
                (admin, .teacher, district, nil, "admin tokens only"),
                (admin, .admin, district, start.addingTimeInterval(-1), "in the past")
            ]
            for (i, c) in cases.enumerated() {
                do {
                    _ = try tokens.create(
                        connection: "district", user: c.0, role: c.1, org: c.2, expiresAt: c.3, label: nil, randomBytes: Self.bytes(UInt8(10 + i)), at: start)
                    Issue.record("expected a refusal mentioning \(c.4)")
                } catch let r as TokenStore.Refusal {
                    #expect(r.description.contains(c.4), "\(r.description)")
                }
            }
            let (_, token) = try tokens.create(
                connection: "district", user: admin, role: .admin, org: district, expiresAt: nil, label: nil,
                randomBytes: Self.bytes(30), at: start)
            #expect(try tokens.principal(for: token, at: start)?.orgSourcedId == district)
            let (_, feed) = try tokens.create(
                connection: "district", user: "lms-feed", role: .integration, org: nil, expiresAt: nil, label: nil,
                randomBytes: Self.bytes(31), at: start)
            #expect(try tokens.principal(for: feed, at: start)?.role == .integration)
        }
    }
}
