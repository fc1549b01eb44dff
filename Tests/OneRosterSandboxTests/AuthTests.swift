import Foundation
import OneRoster
import OneRosterSandbox
import Testing

@Suite("OAuth 2 client credentials against the sandbox")
struct OAuth2Tests {
    @Test("many calls, concurrent ones included, share one token")
    func oneToken() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, provider) = makeClient(running, clock: clock)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await client.list(.schools).count } }
                for try await n in group { #expect(n == 2) }
            }
            _ = try await client.list(.courses)
            #expect(running.sandbox.tokensIssued == 1)
            #expect(await provider?.fetchCount == 1)
        }
    }

    @Test("a token the server expired is refreshed once after the 401")
    func refreshAfter401() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            _ = try await client.list(.schools)
            running.sandbox.expireAllTokens()
            #expect(try await client.list(.schools).count == 2)
            #expect(running.sandbox.tokensIssued == 2)
        }
    }

    @Test("a token close to expiry is refreshed before it is used")
    func refreshBeforeExpiry() async throws {
        try await withSandbox({ $0.auth.tokenLifetime = 100 }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            _ = try await client.list(.schools)
            clock.advance(by: 85) // 15 s left: outside the 10 s margin of a 100 s token
            _ = try await client.list(.schools)
            #expect(running.sandbox.tokensIssued == 1)
            clock.advance(by: 6) // 9 s left, inside the margin; the server would still accept it
            _ = try await client.list(.schools)
            #expect(running.sandbox.tokensIssued == 2)
        }
    }

    @Test("a 20 s token serves about 18 s of requests, then one refresh before it expires")
    func shortTokenServesMostOfItsLife() async throws {
        try await withSandbox({ $0.auth.tokenLifetime = 20 }) { (running, clock) async throws in
            let counting = CountingTransport()
            let (client, provider) = makeClient(running, clock: clock, transport: counting)
            for _ in 0..<12 { // 12 GETs over 16.5 s of the token's 20
                _ = try await client.list(.schools)
                clock.advance(by: 1.5)
            }
            #expect(counting.counts.tokenRequests == 1)
            #expect(running.sandbox.tokensIssued == 1)
            clock.advance(by: 0.2) // 18.2 s since the token was asked for: inside its 2 s margin
            _ = try await client.list(.schools)
            #expect(counting.counts.tokenRequests == 2)
            #expect(await provider?.fetchCount == 2)
            #expect(counting.counts.apiStatuses == [200: 13], "no request went out with an expired token")
        }
    }

    @Test("a 3 s token is refreshed shortly before it expires, not after every request")
    func veryShortToken() async throws {
        try await withSandbox({ $0.auth.tokenLifetime = 3 }) { (running, clock) async throws in
            let counting = CountingTransport()
            let (client, _) = makeClient(running, clock: clock, transport: counting)
            var tokensAt: [TimeInterval: Int] = [:]
            for step in 0..<24 { // a request every 0.25 s for 6 s
                _ = try await client.list(.schools)
                tokensAt[Double(step) * 0.25] = counting.counts.tokenRequests
                clock.advance(by: 0.25)
            }
            // A 3 s token keeps 1 s in reserve: new tokens at 0 s, 2 s and 4 s.
            #expect(tokensAt[1.75] == 1)
            #expect(tokensAt[2.0] == 2)
            #expect(tokensAt[3.75] == 2)
            #expect(tokensAt[4.0] == 3)
            #expect(counting.counts.tokenRequests == 3)
            #expect(counting.counts.apiStatuses == [200: 24], "no request went out with an expired token")
        }
    }

    @Test("50 concurrent requests make one token request, without a token and after the SIS expired it")
    func concurrentRequestsShareOneRefresh() async throws {
        try await withSandbox { (running, clock) async throws in
            let counting = CountingTransport()
            let holding = HoldingRefusalsTransport(counting)
            let (client, provider) = makeClient(running, clock: clock, transport: holding)
            func fifty() async throws {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<50 { group.addTask { try await client.list(.schools).count } }
                    for try await n in group { #expect(n == 2) }
                }
            }
            try await fifty()
            #expect(counting.counts.tokenRequests == 1)
            // The client still thinks its token good: every request gets 401 once. The first
            // refusal is retried with a new token before the other 49 come back, so theirs name
            // a token that was already replaced.
            running.sandbox.expireAllTokens()
            holding.arm()
            try await fifty()
            #expect(counting.counts.tokenRequests == 2)
            #expect(running.sandbox.tokensIssued == 2)
            #expect(await provider?.fetchCount == 2)
            #expect(counting.counts.apiStatuses[200] == 100)
            #expect(counting.counts.apiStatuses[401] == 50)
        }
    }

    @Test("a wrong secret is an auth error, not a retry")
    func wrongSecret() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock, secret: "wrong")
            let e = await oneRosterError { _ = try await client.list(.schools) }
            #expect(e?.kind == .auth)
            #expect(e?.message.contains("secret") == true)
        }
    }

    @Test("scopes are enforced: a read-only token cannot PUT")
    func scopes() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock, scopes: [OneRosterScope.rosterCoreReadonly])
            #expect(try await client.list(.schools).count == 2)
            let e = await oneRosterError { try await client.put(OneRoster.Category(sourcedId: "c1", title: "Labs")) }
            #expect(e?.kind == .auth)
            #expect(e?.httpStatus == 403)
            #expect(e?.message.contains("gradebook.createput") == true)
            let demo = await oneRosterError { _ = try await client.list(.demographics) }
            #expect(demo?.kind == .auth)
        }
    }

    @Test("a server that requires the scope parameter refuses a token request without it")
    func requireScope() async throws {
        try await withSandbox({ $0.quirks.requireScope = true }) { (running, clock) async throws in
            let (bare, _) = makeClient(running, clock: clock, scopes: [])
            let failure1 = await oneRosterError { _ = try await bare.list(.schools) }
            #expect(failure1?.kind == .auth)
            let (scoped, _) = makeClient(running, clock: clock)
            #expect(try await scoped.list(.schools).count == 2)
        }
    }

    @Test("token cookies are replayed when the profile says so, and needed where the SIS wants them")
    func affinityCookies() async throws {
        try await withSandbox({ $0.quirks.requireAffinityCookie = true }) { (running, clock) async throws in
            let (withCookies, _) = makeClient(running, clock: clock, replayCookies: true)
            #expect(try await withCookies.list(.schools).count == 2)
            let (without, _) = makeClient(running, clock: clock, replayCookies: false)
            let e = await oneRosterError { _ = try await without.list(.schools) }
            #expect(e?.kind == .auth)
            #expect(e?.message.contains("cookie") == true)
        }
    }
}

@Suite("OAuth 1.0a against the sandbox")
struct OAuth1Tests {
    static func oauth1(_ c: inout SandboxConfiguration) { c.auth.mode = .oauth1 }

    @Test("HMAC-SHA256 and HMAC-SHA1 signatures are both accepted", arguments: OAuth1Signer.Method.allCases)
    func goodSignatures(method: OAuth1Signer.Method) async throws {
        try await withSandbox(Self.oauth1) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock, oauth1Method: method)
            // A filter with spaces, quotes and '>' proves query parameters are signed as the server reads them.
            let q = ListQuery(filter: .modifiedSince(DateTime.parse("2000-01-01T00:00:00Z")!).and(.field("role", .equal, "teacher")))
            #expect(try await client.list(.users, query: q).count == 4)
        }
    }

    @Test("a wrong consumer secret is refused")
    func badSignature() async throws {
        try await withSandbox(Self.oauth1) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock, secret: "not-the-secret")
            let e = await oneRosterError { _ = try await client.list(.orgs) }
            #expect(e?.kind == .auth)
            #expect(e?.message.contains("signature") == true)
        }
    }

    @Test("query parameters are part of the signature: changing one after signing is refused")
    func tamperedQuery() async throws {
        try await withSandbox(Self.oauth1) { (running, clock) async throws in
            let tamper = EditingTransport(inner: sharedTransport) { r in
                r.url = URL(string: r.url.absoluteString.replacingOccurrences(of: "limit=100", with: "limit=99"))!
            }
            let (client, _) = makeClient(running, clock: clock, transport: tamper)
            let failure2 = await oneRosterError { _ = try await client.list(.orgs) }
            #expect(failure2?.kind == .auth)
        }
    }

    static let skews: [(TimeInterval, Bool)] = [(-540, true), (-660, false), (240, true), (360, false)]

    @Test("clock skew: up to 10 minutes behind and 5 ahead is allowed", arguments: skews)
    func clockSkew(offset: TimeInterval, accepted: Bool) async throws {
        try await withSandbox(Self.oauth1) { (running, serverClock) async throws in
            let clientClock = ManualWallClock(serverClock.now.addingTimeInterval(offset))
            let (client, _) = makeClient(running, clock: clientClock)
            let e = await oneRosterError { _ = try await client.list(.orgs) }
            if accepted {
                #expect(e == nil)
            } else {
                #expect(e?.kind == .auth)
                #expect(e?.message.contains("clock skew") == true)
            }
        }
    }

    @Test("a server that accepts only HMAC-SHA1 refuses HMAC-SHA256")
    func sha1Only() async throws {
        try await withSandbox({
            Self.oauth1(&$0); $0.quirks.oauth1SHA1Only = true
        }) { (running, clock) async throws in
            let (sha256, _) = makeClient(running, clock: clock, oauth1Method: .hmacSHA256)
            let failure3 = await oneRosterError { _ = try await sha256.list(.orgs) }
            #expect(failure3?.kind == .auth)
            let (sha1, _) = makeClient(running, clock: clock, oauth1Method: .hmacSHA1)
            #expect(try await sha1.list(.orgs).count == 3)
        }
    }

    @Test("a nonce used twice is refused the second time")
    func replayedNonce() async throws {
        try await withSandbox(Self.oauth1) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock, nonce: { "always-the-same" })
            _ = try await client.list(.orgs)
            let e = await oneRosterError { _ = try await client.list(.orgs) }
            #expect(e?.kind == .auth)
            #expect(e?.message.contains("nonce") == true)
        }
    }
}
