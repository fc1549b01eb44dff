import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
            _ = try await env.post(
                "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncStatus } } }",
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
        var limits = Self.fastStreams
        limits.maxStreamsPerToken = 64
        // The forty streams start at once with a document the server has not parsed yet, and a
        // document's first parse takes one of its token's in-flight places (6 by default): on a
        // loaded machine more than six parses overlapped, and the rest were refused 429 and their
        // `curl`s ended, so the streams never all opened. This test is about ending abandoned
        // streams, not about that limit (`LoadLimitTests`).
        limits.perToken.maxInFlight = 64
        try await withGateway(limits: limits) { env in
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher)
            let body = try JSONSerialization.data(withJSONObject: ["query": statusQuery, "variables": ["id": try env.sectionID(section)]])
            let clients = 40
            var curls: [Process] = []
            for _ in 0..<clients {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                p.arguments = [
                    "-sN", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                    "--data-binary", String(decoding: body, as: UTF8.self), env.base.appending(path: "graphql/stream").absoluteString
                ]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                try p.run()
                curls.append(p)
            }
            try await env.waitUntil(timeout: 60) {
                return env.gateway.api.services.hub.watchers == clients && env.gateway.api.live.count == clients
            }
            // SIGKILL: the test runner's signal mask, which its children inherit, can block SIGTERM.
            for p in curls { kill(p.processIdentifier, SIGKILL) }
            try await env.waitUntil(timeout: 60) {
                return env.gateway.api.services.hub.watchers == 0 && env.gateway.api.live.count == 0
            }
        }
    }

    /// `curl` holding a stream open, its output in a file.
    static func openStream(_ env: GatewayEnv, _ query: String, _ variables: [String: Any], token: String, maxSeconds: Int = 60) throws -> (Process, URL) {
        let out = FileManager.default.temporaryDirectory.appending(path: "stream-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = [
            "-sN", "-m", String(maxSeconds), "-w", "\nstatus %{http_code}\n", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H",
            "Content-Type: application/json",
            "--data-binary", String(decoding: body, as: UTF8.self), env.base.appending(path: "graphql/stream").absoluteString
        ]
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, out)
    }

    @Test("one token holds at most maxStreamsPerToken streams; one more is RATE_LIMITED, another token is not held back, and a closed stream frees its place")
    func streamsPerToken() async throws {
        var limits = Self.fastStreams
        limits.maxStreamsPerToken = 2
        try await withGateway(limits: limits) { env in
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher)
            let variables: [String: Any] = ["id": try env.sectionID(section)]
            let first = try Self.openStream(env, statusQuery, variables, token: token)
            let second = try Self.openStream(env, statusQuery, variables, token: token)
            defer { for p in [first.0, second.0] where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
            try await env.waitUntil(timeout: 20) { env.gateway.api.live.count == 2 }

            // Bounded: a stream wrongly accepted here would never end by itself.
            let third = try Self.openStream(env, statusQuery, variables, token: token, maxSeconds: 10)
            try await env.waitUntil(timeout: 20) { !third.0.isRunning }
            let refused = String(decoding: try Data(contentsOf: third.1), as: UTF8.self)
            #expect(refused.hasSuffix("status 429\n"), "\(refused)")
            #expect(refused.contains("RATE_LIMITED"), "\(refused)")
            #expect(refused.contains("already holds 2 live streams"), "\(refused)")
            #expect(env.gateway.api.live.count == 2, "the refused stream took no place")

            // Another token of the same teacher has places of its own.
            let other = try Self.openStream(env, statusQuery, variables, token: try env.token(.teacher, user: teacher))
            defer { if other.0.isRunning { kill(other.0.processIdentifier, SIGKILL) } }
            try await env.waitUntil(timeout: 20) { env.gateway.api.live.count == 3 }

            // A client that goes away gives its place back.
            kill(first.0.processIdentifier, SIGKILL)
            try await env.waitUntil(timeout: 20) { env.gateway.api.live.count == 2 }
            let again = try Self.openStream(env, statusQuery, variables, token: token)
            defer { if again.0.isRunning { kill(again.0.processIdentifier, SIGKILL) } }
            try await env.waitUntil(timeout: 20) { env.gateway.api.live.count == 3 }
        }
    }

    @Test("each event is read as the database is then: what an event selects below its root is not the first event's, cached")
    func eventsReadFresh() async throws {
        var limits = Self.fastStreams
        limits.streamLifetime = .seconds(6)
        try await withGateway(limits: limits) { env in
            let (section, teacher) = env.yearLongSection
            let fed = try await env.feed(section: section, teacher: teacher, materials: 1)
            let token = try env.token(.teacher, user: teacher)
            let query =
                "subscription($id: ID!) { materialStatusChanged(sectionId: $id) { lmsId syncStatus grades(first: 1) { nodes { studentSourcedId score } } } }"
            let before = try await env.post(
                "query($id: ID!) { node(id: $id) { ... on Material { grades(first: 1) { nodes { studentSourcedId score } } } } }",
                ["id": fed.materials["m-0"]!], token: token)
            let student = try #require(before["node", "grades", "nodes", 0, "studentSourcedId"] as? String)
            let setSync = "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncStatus } } }"
            async let streamed = env.subscribe(query, ["id": try env.sectionID(section)], token: token, timeout: 20)
            try await env.waitUntil(timeout: 10) { env.gateway.api.services.hub.watchers == 1 }
            _ = try await env.post(setSync, ["i": ["materialId": fed.materials["m-0"]!, "syncToSIS": false]], token: token)
            try await Task.sleep(for: .milliseconds(1500))
            // A regrade while opted out changes no status; turning sync back on does, and that event carries the new score.
            let regrade = try await env.post(
                "mutation($i: RecordGradesInput!) { recordGrades(input: $i) { userErrors { code message } } }",
                ["i": ["courseLmsId": "lms-1", "grades": [["materialLmsId": "m-0", "studentSourcedId": student, "score": 1.5]]]],
                token: try env.token(.integration, user: "lms-feed"))
            #expect((regrade["recordGrades", "userErrors"] as? [Any])?.isEmpty == true, "\(regrade.text)")
            _ = try await env.post(setSync, ["i": ["materialId": fed.materials["m-0"]!, "syncToSIS": true]], token: token)
            let events = try await streamed
            let statuses = events.compactMap { ($0["data"] as? [String: Any]).flatMap { $0["materialStatusChanged"] as? [String: Any] } }
            #expect(statuses.count >= 2, "\(events)")
            #expect(statuses.first?["syncStatus"] as? String == "OPT_OUT", "\(events)")
            let last = try #require(statuses.last)
            #expect(last["syncStatus"] as? String != "OPT_OUT", "\(events)")
            let score = ((last["grades"] as? [String: Any])?["nodes"] as? [[String: Any]])?.first?["score"] as? Double
            #expect(score == 1.5, "the second event read the grade as it is now: \(events)")
        }
    }
}
