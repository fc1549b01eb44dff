import Foundation
import PassbackCore
import PassbackStore
import Testing

/// Registering LMS platforms, and the one-use logins their launches come back with.
@Suite("LTI platforms and logins")
struct LTIStoreTests {
    static func registration(_ deployments: [String] = ["d-1"], connection: String? = nil, org: String? = nil) -> LTIStore.Registration {
        LTIStore.Registration(
            issuer: "https://lms.example.org", clientID: "client-1", deploymentIDs: deployments, authURL: "https://lms.example.org/auth",
            jwksURL: "https://lms.example.org/jwks", connectionID: connection, orgSourcedId: org)
    }

    @Test("a registration takes the only connection by default, adds deployments when made again, and refuses what it cannot use, saying why")
    func register() throws {
        let fixture = try StoreFixture()
        try fixture.apply([Rows.org("district", name: "District", type: "district")])
        let lti = LTIStore(fixture.database)
        let first = try lti.register(Self.registration(), at: Date())
        #expect(first.connectionID == fixture.connection && first.deploymentIDs == ["d-1"])
        let again = try lti.register(Self.registration(["d-2"], org: "district"), at: Date())
        #expect(again.id == first.id && again.deploymentIDs == ["d-1", "d-2"] && again.orgSourcedId == "district")
        #expect(try lti.platforms(issuer: "https://lms.example.org").count == 1)
        func refused(_ r: LTIStore.Registration, _ says: String) {
            #expect(throws: LTIStore.Refusal.self) { try lti.register(r, at: Date()) }
            do { try lti.register(r, at: Date()) } catch { #expect("\(error)".contains(says), "\(error)") }
        }
        refused(Self.registration(connection: "elsewhere"), "no connection 'elsewhere'")
        refused(Self.registration(org: "no-such-org"), "no org 'no-such-org'")
        refused(Self.registration([]), "--deployment-id")
        var badURL = Self.registration()
        badURL.jwksURL = "not a url"
        refused(badURL, "--jwks-url must be an http(s) URL")
        #expect(try lti.remove(platform: first.id, deployment: "d-1"))
        #expect(try lti.platform(id: first.id)?.deploymentIDs == ["d-2"])
        #expect(try lti.remove(platform: first.id))
        #expect(try lti.platforms().isEmpty)
        #expect(try !lti.remove(platform: first.id))
    }

    @Test("a launch's new session removes those a day past the end of their renewal; issued tokens stay, expired or not")
    func oldSessionsGo() throws {
        let fixture = try StoreFixture()
        try fixture.apply([Rows.org("school", name: "School")])
        try fixture.apply([Rows.person("t-1", given: "Tea", family: "Cher", orgs: ["school"])])
        let tokens = TokenStore(fixture.database)
        let start = Date()
        func session(at t: Date) throws -> String {
            try tokens.create(
                connection: fixture.connection, user: "t-1", role: .teacher, org: nil, expiresAt: t.addingTimeInterval(3600), label: "lti",
                randomBytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, at: t, renewUntil: t.addingTimeInterval(8 * 3600)
            ).token
        }
        let old = try session(at: start)
        let issued = try tokens.create(
            connection: fixture.connection, user: "t-1", role: .teacher, org: nil, expiresAt: start.addingTimeInterval(60), label: "script",
            randomBytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, at: start
        ).token
        // Within a day of its renewal's end, the old session is still listed.
        _ = try session(at: start.addingTimeInterval(8 * 3600 + TokenStore.ltiSessionKeep - 60))
        #expect(try tokens.list().count == 3)
        let newest = try session(at: start.addingTimeInterval(8 * 3600 + TokenStore.ltiSessionKeep + 60))
        let listed = try tokens.list().map(\.prefix)
        #expect(listed.count == 3 && !listed.contains(String(old.prefix(10))), "\(listed)")
        #expect(listed.contains(String(issued.prefix(10))) && listed.contains(String(newest.prefix(10))))
    }

    @Test("a login is taken once, and only within its window")
    func loginsAreTakenOnce() throws {
        let fixture = try StoreFixture()
        let lti = LTIStore(fixture.database)
        let platform = try lti.register(Self.registration(), at: Date())
        let start = Date()
        try lti.startLogin(platform: platform.id, state: "s-1", nonce: "n-1", at: start, window: 600)
        try lti.startLogin(platform: platform.id, state: "s-2", nonce: "n-2", at: start, window: 600)
        #expect(try lti.takeLogin(state: "s-1", at: start.addingTimeInterval(5), window: 600)?.nonce == "n-1")
        #expect(try lti.takeLogin(state: "s-1", at: start.addingTimeInterval(6), window: 600) == nil, "taken twice")
        #expect(try lti.takeLogin(state: "s-2", at: start.addingTimeInterval(601), window: 600) == nil, "too old")
        #expect(try lti.takeLogin(state: "never-given", at: start, window: 600) == nil)
        // Logins waiting at once are bounded (anyone may start one); expired ones make room.
        #expect(try lti.startLogin(platform: platform.id, state: "a", nonce: "n", at: start, window: 600, limit: 2))
        #expect(try lti.startLogin(platform: platform.id, state: "b", nonce: "n", at: start, window: 600, limit: 2))
        #expect(try !lti.startLogin(platform: platform.id, state: "c", nonce: "n", at: start, window: 600, limit: 2))
        #expect(try lti.startLogin(platform: platform.id, state: "d", nonce: "n", at: start.addingTimeInterval(700), window: 600, limit: 2))
    }
}
