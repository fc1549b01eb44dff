import Foundation
import PassbackCore
import PassbackSync
import Testing

@Suite("Connection configuration")
struct ConfigurationTests {
    func file(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-config-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a config file, with the secret and an override from the environment")
    func fileAndEnvironment() async throws {
        let path = try file("""
            { "database": "x.sqlite", "connectionIds": ["north"],
              "connection": { "north": { "baseURL": "https://sis.example.org/ims/oneroster/v1p1", "profile": "Aeries", "clientId": "pb",
                                         "tokenURL": "https://sis.example.org/oauth2/token", "scopes": "a b", "requestsPerMinute": 600,
                                         "concurrency": 12 } } }
            """)
        let config = try await PassbackConfiguration.load(file: path, environment: [
            "CONNECTION_NORTH_CLIENT_SECRET": "s3cret", "CONNECTION_NORTH_REQUESTS_PER_MINUTE": "900",
        ])
        let north = try config.connection("north")
        #expect(north.secret == "s3cret")
        #expect(north.settings.profile == "Aeries")
        #expect(north.settings.scopes == ["a", "b"])
        #expect(north.settings.requestsPerMinute == 900, "the environment wins over the file")
        #expect(north.settings.concurrency == 12)
        #expect(north.settings.tokenURL?.absoluteString == "https://sis.example.org/oauth2/token")
        #expect(config.databasePath == "x.sqlite")
    }

    @Test("the metrics token comes from the file or METRICS_TOKEN, is off when absent, and a short one is refused")
    func metricsToken() async throws {
        #expect(try await PassbackConfiguration.load(file: nil, environment: [:]).metricsToken == nil)
        let path = try file(#"{ "metricsToken": "from-the-file-0123456789" }"#)
        #expect(try await PassbackConfiguration.load(file: path, environment: [:]).metricsToken == "from-the-file-0123456789")
        #expect(try await PassbackConfiguration.load(file: path, environment: ["METRICS_TOKEN": "from-the-environment-0123"]).metricsToken
            == "from-the-environment-0123")
        await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["METRICS_TOKEN": "short"])
        }
    }

    @Test("the API's per-token limits come from api.* or API_*, and must be positive")
    func apiLimits() async throws {
        #expect(try await PassbackConfiguration.load(file: nil, environment: [:]).api == .init(), "unset: the gateway's defaults")
        let path = try file(#"{ "api": { "maxInFlightPerToken": 8, "costBucket": 50000, "costPerSecond": 2000, "deadlineSeconds": 30 } }"#)
        #expect(try await PassbackConfiguration.load(file: path, environment: [:]).api
            == .init(maxInFlightPerToken: 8, costBucket: 50_000, costPerSecond: 2_000, deadlineSeconds: 30))
        #expect(try await PassbackConfiguration.load(file: path, environment: ["API_DEADLINE_SECONDS": "5"]).api.deadlineSeconds == 5)
        await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["API_COST_PER_SECOND": "0"])
        }
    }

    @Test("connections can come from the environment alone")
    func environmentOnly() async throws {
        let config = try await PassbackConfiguration.load(file: nil, environment: [
            "CONNECTION_IDS": "south", "CONNECTION_SOUTH_BASE_URL": "http://127.0.0.1:9/ims/oneroster/v1p1", "CONNECTION_SOUTH_AUTH": "none",
        ])
        #expect(try config.connection("south").settings.auth == .none)
        #expect(try config.connection("south").settings.concurrency == 4, "four writes in flight unless set")
    }

    @Test("problems say which key to fix", arguments: [
        (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x"}}}"#, "CONNECTION_A_CLIENT_SECRET"),
        (#"{"connectionIds":["Bad-Id"]}"#, "a-z, 0-9"),
        (#"{"connectionIds":["a"],"connection":{"a":{"auth":"none"}}}"#, "baseURL"),
        (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x","auth":"kerberos"}}}"#, "oauth2, oauth1 or none"),
        ("{not json", "not valid JSON"),
        (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x","auth":"none","concurrency":0}}}"#, "concurrency"),
        (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x","auth":"none","concurrency":65}}}"#, "between 1 and 64"),
    ])
    func problems(json: String, mentions: String) async throws {
        let path = try file(json)
        do {
            _ = try await PassbackConfiguration.load(file: path, environment: [:])
            Issue.record("expected a problem mentioning \(mentions)")
        } catch let p as PassbackConfiguration.Problem {
            #expect(p.description.contains(mentions), "\(p.description)")
        }
    }

    @Test("an unknown connection lists the configured ones")
    func unknownConnection() throws {
        let config = PassbackConfiguration(databasePath: "x", connections: [:])
        #expect(throws: PassbackConfiguration.Problem.self) { try config.connection("nope") }
    }
}
