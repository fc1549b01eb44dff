import Foundation
import PassbackConfig
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
        let path = try file(
            """
            { "database": "x.sqlite", "connectionIds": ["north"],
              "connection": { "north": { "baseURL": "https://sis.example.org/ims/oneroster/v1p1", "profile": "Aeries", "clientId": "pb",
                                         "tokenURL": "https://sis.example.org/oauth2/token", "scopes": "a b", "requestsPerMinute": 600,
                                         "concurrency": 12, "verifyWrites": true } } }
            """)
        let config = try await PassbackConfiguration.load(
            file: path,
            environment: [
                "CONNECTION_NORTH_CLIENT_SECRET": "s3cret", "CONNECTION_NORTH_REQUESTS_PER_MINUTE": "900"
            ])
        let north = try config.connection("north")
        #expect(north.secret == "s3cret")
        #expect(north.settings.profile == "Aeries")
        #expect(north.settings.scopes == ["a", "b"])
        #expect(north.settings.requestsPerMinute == 900, "the environment wins over the file")
        #expect(north.settings.concurrency == 12)
        #expect(north.settings.verifyWrites, "connection.ID.verifyWrites")
        #expect(north.settings.tokenURL?.absoluteString == "https://sis.example.org/oauth2/token")
        #expect(config.databasePath == "x.sqlite")
    }

    @Test("the metrics token comes from the file or METRICS_TOKEN, is off when absent, and a short one is refused")
    func metricsToken() async throws {
        #expect(try await PassbackConfiguration.load(file: nil, environment: [:]).metricsToken == nil)
        let path = try file(#"{ "metricsToken": "from-the-file-0123456789" }"#)
        #expect(try await PassbackConfiguration.load(file: path, environment: [:]).metricsToken == "from-the-file-0123456789")
        #expect(
            try await PassbackConfiguration.load(file: path, environment: ["METRICS_TOKEN": "from-the-environment-0123"]).metricsToken
                == "from-the-environment-0123")
        await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["METRICS_TOKEN": "short"])
        }
    }

    @Test("the API's per-token limits come from api.* or API_*, and must be positive")
    func apiLimits() async throws {
        #expect(try await PassbackConfiguration.load(file: nil, environment: [:]).api == .init(), "unset: the gateway's defaults")
        let path = try file(#"{ "api": { "maxInFlightPerToken": 8, "costBucket": 50000, "costPerSecond": 2000, "deadlineSeconds": 30 } }"#)
        #expect(
            try await PassbackConfiguration.load(file: path, environment: [:]).api
                == .init(maxInFlightPerToken: 8, costBucket: 50_000, costPerSecond: 2_000, deadlineSeconds: 30))
        #expect(try await PassbackConfiguration.load(file: path, environment: ["API_DEADLINE_SECONDS": "5"]).api.deadlineSeconds == 5)
        #expect(try await PassbackConfiguration.load(file: path, environment: ["API_ENGINE": "reference"]).api.referenceEngine)
        #expect(try await PassbackConfiguration.load(file: try file(#"{ "api": { "engine": "planned" } }"#), environment: [:]).api == .init())
        await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["API_ENGINE": "fast"])
        }
        await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["API_COST_PER_SECOND": "0"])
        }
    }

    @Test("which documents run comes from api.documents (any or trusted) and api.trustedDocuments (a file or a directory of .graphql files), read at load")
    func trustedDocuments() async throws {
        #expect(try await PassbackConfiguration.load(file: nil, environment: [:]).api.onlyTrustedDocuments == false)
        #expect(try await PassbackConfiguration.load(file: nil, environment: ["API_DOCUMENTS": "trusted"]).api.onlyTrustedDocuments)
        let directory = FileManager.default.temporaryDirectory.appending(path: "passback-documents-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "query B { viewer { role } }\n".write(to: directory.appending(path: "b.graphql"), atomically: true, encoding: .utf8)
        try "query A { viewer { role } }".write(to: directory.appending(path: "a.graphql"), atomically: true, encoding: .utf8)
        try "not a document".write(to: directory.appending(path: "notes.txt"), atomically: true, encoding: .utf8)
        let path = try file(#"{ "api": { "documents": "trusted", "trustedDocuments": "\#(directory.path)" } }"#)
        let api = try await PassbackConfiguration.load(file: path, environment: [:]).api
        #expect(api.onlyTrustedDocuments && api.trustedDocuments.map(\.text) == ["query A { viewer { role } }", "query B { viewer { role } }\n"])
        let one = try await PassbackConfiguration.load(
            file: nil, environment: ["API_TRUSTED_DOCUMENTS": directory.appending(path: "b.graphql").path]
        ).api.trustedDocuments
        #expect(one.map(\.text) == ["query B { viewer { role } }\n"])
        for (environment, says) in [
            (["API_DOCUMENTS": "some"], "api.documents (API_DOCUMENTS) is any"),
            (["API_TRUSTED_DOCUMENTS": directory.appending(path: "missing").path], "which does not exist"),
            (["API_TRUSTED_DOCUMENTS": FileManager.default.temporaryDirectory.path + "/passback-empty-\(UUID().uuidString)"], "which does not exist")
        ] {
            do {
                _ = try await PassbackConfiguration.load(file: nil, environment: environment)
                Issue.record("\(environment) was accepted")
            } catch let problem as PassbackConfiguration.Problem {
                #expect(problem.description.contains(says), "\(problem)")
            }
        }
        let empty = directory.appending(path: "empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["API_TRUSTED_DOCUMENTS": empty.path])
        }
    }

    @Test("how the worker waits on a SIS that does not answer comes from outbox.* or OUTBOX_*, and must be positive")
    func outboxWaits() async throws {
        let defaults = try await PassbackConfiguration.load(file: nil, environment: [:])
        #expect(defaults.outboxProbeIntervalSeconds == 5 && defaults.outboxUnreachableWindowHours == 24)
        let path = try file(#"{ "outbox": { "probeIntervalSeconds": 2, "unreachableWindowHours": 72 } }"#)
        let set = try await PassbackConfiguration.load(file: path, environment: ["OUTBOX_PROBE_INTERVAL_SECONDS": "10"])
        #expect(set.outboxProbeIntervalSeconds == 10, "the environment wins")
        #expect(set.outboxUnreachableWindowHours == 72)
        let problem = await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["OUTBOX_UNREACHABLE_WINDOW_HOURS": "0"])
        }
        #expect(problem?.description.contains("outbox.unreachableWindowHours (OUTBOX_UNREACHABLE_WINDOW_HOURS)") == true)
    }

    @Test("connections can come from the environment alone")
    func environmentOnly() async throws {
        let config = try await PassbackConfiguration.load(
            file: nil,
            environment: [
                "CONNECTION_IDS": "south", "CONNECTION_SOUTH_BASE_URL": "http://127.0.0.1:9/ims/oneroster/v1p1", "CONNECTION_SOUTH_AUTH": "none"
            ])
        #expect(try config.connection("south").settings.auth == .none)
        #expect(try config.connection("south").settings.concurrency == 4, "four writes in flight unless set")
        #expect(try config.connection("south").settings.verifyWrites == false, "writes are not read back unless set")
    }

    @Test(
        "problems say which key to fix",
        arguments: [
            (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x"}}}"#, "CONNECTION_A_CLIENT_SECRET"),
            (#"{"connectionIds":["Bad-Id"]}"#, "a-z, 0-9"),
            (#"{"connectionIds":["a"],"connection":{"a":{"auth":"none"}}}"#, "baseURL"),
            (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x","auth":"kerberos"}}}"#, "oauth2, oauth1 or none"),
            ("{not json", "not valid JSON"),
            (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x","auth":"none","concurrency":0}}}"#, "concurrency"),
            (#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x","auth":"none","concurrency":65}}}"#, "between 1 and 64")
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

    @Test("a connection's time zone and its schools' own zones, from the file or the environment")
    func timeZones() async throws {
        let path = try file(
            """
            { "connectionIds": ["west"], "connection": { "west": { "baseURL": "https://x", "auth": "none", "timeZone": "America/Los_Angeles",
              "orgTimeZones": ["school-az=America/Phoenix", "district-2 = America/Denver"] } } }
            """)
        let west = try await PassbackConfiguration.load(file: path, environment: [:]).connection("west").settings
        #expect(west.timeZone == "America/Los_Angeles")
        #expect(west.orgTimeZones == ["school-az": "America/Phoenix", "district-2": "America/Denver"])
        let env = try await PassbackConfiguration.load(
            file: path,
            environment: [
                "CONNECTION_WEST_TIME_ZONE": "America/Chicago", "CONNECTION_WEST_ORG_TIME_ZONES": "s1=Europe/London,s2=Asia/Tokyo"
            ]
        ).connection("west").settings
        #expect(env.timeZone == "America/Chicago")
        #expect(env.orgTimeZones == ["s1": "Europe/London", "s2": "Asia/Tokyo"])
        let plain = try await PassbackConfiguration.load(
            file: nil,
            environment: [
                "CONNECTION_IDS": "x", "CONNECTION_X_BASE_URL": "https://x", "CONNECTION_X_AUTH": "none"
            ]
        ).connection("x").settings
        #expect(plain.timeZone == "UTC" && plain.orgTimeZones.isEmpty, "UTC unless set")
    }

    @Test("a connection's overrides of its vendor profile's limits, from the file or the environment")
    func limits() async throws {
        let path = try file(
            """
            { "connectionIds": ["north"], "connection": { "north": { "baseURL": "https://x", "auth": "none", "profile": "Synergy",
              "titleLimit": 50, "categoryTitleLimit": 30, "commentLimit": 255, "dueDateRequired": false, "genericCategory": "Misc" } } }
            """)
        let north = try await PassbackConfiguration.load(file: path, environment: [:]).connection("north").settings
        #expect(north.limits == ProfileLimits(titleLimit: 50, categoryTitleLimit: 30, commentLimit: 255, dueDateRequired: false, genericCategory: "Misc"))
        let profile = north.effectiveProfile
        #expect(profile.id == "synergy" && profile.titleLimit == 50 && profile.commentLimit == 255 && !profile.dueDateRequired)
        #expect(profile.uncategorized == .genericCategory(title: "Misc"))
        let env = try await PassbackConfiguration.load(
            file: path,
            environment: [
                "CONNECTION_NORTH_TITLE_LIMIT": "40", "CONNECTION_NORTH_DUE_DATE_REQUIRED": "true", "CONNECTION_NORTH_GENERIC_CATEGORY": ""
            ]
        ).connection("north").settings
        #expect(env.limits.titleLimit == 40 && env.limits.dueDateRequired == true)
        #expect(env.effectiveProfile.uncategorized == .notSynced, "an empty generic category turns it off")
        let none = try await PassbackConfiguration.load(
            file: nil,
            environment: [
                "CONNECTION_IDS": "x", "CONNECTION_X_BASE_URL": "https://x", "CONNECTION_X_AUTH": "none"
            ]
        ).connection("x").settings
        #expect(none.limits.isEmpty && none.effectiveProfile == .standard, "the profile's own values unless set")
    }

    @Test(
        "unknown zones and bad limits are refused at load, naming the key",
        arguments: [
            (#""timeZone":"Pacific/Atlantis""#, "connection.a.timeZone (CONNECTION_A_TIME_ZONE) must be an IANA time zone name"),
            (#""timeZone":"PST""#, "abbreviations such as PST"),
            (#""timeZone":"america/los_angeles""#, "did you mean America/Los_Angeles?"),
            (#""orgTimeZones":["school-1=Mars/Base"]"#, "the zone of org 'school-1' must be an IANA time zone name"),
            (#""orgTimeZones":["school-1"]"#, "ORG_SOURCEDID=ZONE pairs"),
            (#""orgTimeZones":["s=UTC","s=Europe/Paris"]"#, "two zones"),
            (#""titleLimit":0"#, "connection.a.titleLimit must be a whole number of characters from 1"),
            (#""titleLimit":"fifty""#, "connection.a.titleLimit (CONNECTION_A_TITLE_LIMIT) must be a whole number of characters, got 'fifty'"),
            (#""commentLimit":12.5"#, "connection.a.commentLimit (CONNECTION_A_COMMENT_LIMIT)"),
            (#""categoryTitleLimit":-1"#, "connection.a.categoryTitleLimit"),
            (#""dueDateRequired":"sometimes""#, "connection.a.dueDateRequired (CONNECTION_A_DUE_DATE_REQUIRED) must be true or false"),
            (#""genericCategory":"Uncategorized items","categoryTitleLimit":10"#, "shorten connection.a.genericCategory or raise the limit")
        ])
    func badCalendarOrLimits(fragment: String, mentions: String) async throws {
        let path = try file(#"{"connectionIds":["a"],"connection":{"a":{"baseURL":"https://x","auth":"none","# + fragment + "}}}")
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
