import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import PassbackGateway
import PassbackCore
import PassbackStore
import Testing

/// Subscription streams end when their token stops being valid, after their lifetime, and
/// when their client goes away (issue 13, findings 7 and 9).
@Suite("live streams", .serialized)
struct LiveStreamTests {
    static var fastStreams: GraphQLAPI.Limits {
        var limits = GraphQLAPI.Limits()
        limits.streamHeartbeat = .milliseconds(200)
        return limits
    }

    let statusQuery = "subscription($id: ID!) { materialStatusChanged(sectionId: $id) { lmsId syncStatus } }"

    @Test("a revoked token's stream ends with UNAUTHENTICATED and sends nothing more")
    func revoked() async throws {
        try await withGateway(limits: Self.fastStreams) { env in
            let (section, teacher) = env.yearLongSection
            let fed = try await env.feed(section: section, teacher: teacher, materials: 2)
            let token = try env.token(.teacher, user: teacher)
            let other = try env.token(.teacher, user: teacher)
            let principal = try #require(try TokenStore(env.database).principal(for: token, at: Date()))
            let id = try env.sectionID(section)
            async let streamed = env.subscribe(statusQuery, ["id": id], token: token, timeout: 20)
            try await env.waitUntil(timeout: 10) { env.gateway.api.services.hub.watchers == 1 }
            try TokenStore(env.database).revoke(String(principal.tokenID), at: Date())
            // A change after the revocation must not reach the revoked stream.
            _ = try await env.post("mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncStatus } } }",
                                   ["i": ["materialId": fed.materials["m-1"]!, "syncToSIS": false]], token: other)
            let events = try await streamed
            #expect(events.count == 1, "\(events)")
            let errors = events.last?["errors"] as? [[String: Any]]
            #expect((errors?.first?["extensions"] as? [String: Any])?["code"] as? String == "UNAUTHENTICATED", "\(events)")
            try await env.waitUntil(timeout: 10) { env.gateway.api.services.hub.watchers == 0 }
        }
    }

    @Test("an expired token's stream ends too")
    func expired() async throws {
        try await withGateway(limits: Self.fastStreams) { env in
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher, expiresAt: Date().addingTimeInterval(1.5))
            let events = try await env.subscribe(statusQuery, ["id": try env.sectionID(section)], token: token, timeout: 20)
            let errors = events.last?["errors"] as? [[String: Any]]
            #expect((errors?.first?["extensions"] as? [String: Any])?["code"] as? String == "UNAUTHENTICATED", "\(events)")
        }
    }

    @Test("a stream ends after its lifetime with `complete`")
    func lifetime() async throws {
        var limits = Self.fastStreams
        limits.streamLifetime = .seconds(1)
        try await withGateway(limits: limits) { env in
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher)
            let events = try await env.subscribe(statusQuery, ["id": try env.sectionID(section)], token: token, timeout: 20)
            #expect(events.isEmpty, "\(events)")
        }
    }

    @Test("streams whose clients disconnect are ended, and their work with them")
    func abandoned() async throws {
        try await withGateway(limits: Self.fastStreams) { env in
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher)
            let body = try JSONSerialization.data(withJSONObject: ["query": statusQuery, "variables": ["id": try env.sectionID(section)]])
            let clients = 40
            var curls: [Process] = []
            for _ in 0..<clients {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                p.arguments = ["-sN", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                               "--data-binary", String(decoding: body, as: UTF8.self), env.base.appending(path: "graphql/stream").absoluteString]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                try p.run()
                curls.append(p)
            }
            try await env.waitUntil(timeout: 20) {
                return env.gateway.api.services.hub.watchers == clients && env.gateway.api.live.count == clients
            }
            // SIGKILL: the test runner's signal mask, which its children inherit, can block SIGTERM.
            for p in curls { kill(p.processIdentifier, SIGKILL) }
            try await env.waitUntil(timeout: 20) {
                return env.gateway.api.services.hub.watchers == 0 && env.gateway.api.live.count == 0
            }
        }
    }
}
