import Foundation
import PassbackStore
import PassbackTesting
import Testing

@Suite("passback demo", .serialized)
struct DemoTests {
    @Test("the demo starts with tokens that work, stops on Ctrl-C, and a second run reuses its database")
    func startStopReuse() async throws {
        let database = FileManager.default.temporaryDirectory.appending(path: "passback-demo-\(UUID().uuidString).sqlite").path
        defer { DemoProcess.cleanup(database) }
        let first = try await DemoProcess(database: database)
        #expect(first.printed.contains("Rostering the demo district"))
        #expect(first.teacherWidget.hasPrefix(first.base + "/widget#token=pb_"))
        let teacher = try await graphQL(first.base, "{ viewer { role sections { totalCount } } }", token: first.teacherToken)
        #expect(teacher["viewer", "role"] as? String == "TEACHER" && (teacher["viewer", "sections", "totalCount"] as? Int ?? 0) >= 2, "\(teacher.text)")
        let admin = try await graphQL(first.base, "{ viewer { role } syncErrorSummary(groupBy: CODE) { nodes { key count } } }", token: first.adminToken)
        let codes = Set((nodesOf(admin["syncErrorSummary"]) as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        // The demo's first syncs meet the rule breakers it fed; wait for them.
        var seen = codes
        let deadline = Date().addingTimeInterval(60)
        while !seen.isSuperset(of: ["DUE_DATE_MISSING", "DUE_DATE_OUTSIDE_GRADING_PERIOD", "UNCATEGORIZED"]), Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let again = try await graphQL(first.base, "{ syncErrorSummary(groupBy: CODE) { nodes { key } } }", token: first.adminToken)
            seen = Set((nodesOf(again["syncErrorSummary"]) as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        }
        #expect(seen.isSuperset(of: ["DUE_DATE_MISSING", "DUE_DATE_OUTSIDE_GRADING_PERIOD", "UNCATEGORIZED"]), "\(seen)")
        let feed = try await graphQL(
            first.base, "mutation { recordGrades(input: { courseLmsId: \"none\", grades: [] }) { userErrors { code } } }",
            token: first.integrationToken)
        #expect(feed["recordGrades", "userErrors", 0, "code"] as? String == "NOT_FOUND", "the integration token works: \(feed.text)")
        let oldToken = first.teacherToken
        #expect(await first.stop() == 0)

        let second = try await DemoProcess(database: database, reset: false)
        #expect(second.printed.contains("Reusing"), "\(second.printed)")
        #expect(!second.printed.contains("Feeding"))
        let reused = try await graphQL(second.base, "{ viewer { role } }", token: oldToken)
        #expect(reused["viewer", "role"] as? String == "TEACHER", "tokens of the first run still work")
        // The same three tokens, not three more: a rerun reuses them, and they expire.
        #expect(
            second.teacherToken == first.teacherToken && second.adminToken == first.adminToken && second.integrationToken == first.integrationToken,
            "\(second.printed)")
        #expect(await second.stop() == 0)
        let tokens = try TokenStore(try PassbackDatabase(path: database)).list()
        #expect(tokens.count == 3, "\(tokens.map(\.label))")
        #expect(tokens.allSatisfy { ($0.expiresAt ?? .distantFuture) < Date().addingTimeInterval(31 * 86_400) }, "the demo's tokens expire")
    }

    @Test("a demo whose kept tokens no longer work (revoked) mints three new ones and revokes the rest")
    func revokedDemoTokensAreReplaced() async throws {
        let database = FileManager.default.temporaryDirectory.appending(path: "passback-demo-\(UUID().uuidString).sqlite").path
        defer { DemoProcess.cleanup(database) }
        let first = try await DemoProcess(database: database)
        #expect(await first.stop() == 0)
        try TokenStore(try PassbackDatabase(path: database)).revoke(String(first.adminToken.prefix(10)), at: Date())
        let second = try await DemoProcess(database: database, reset: false)
        #expect(second.teacherToken != first.teacherToken && second.adminToken != first.adminToken)
        let admin = try await graphQL(second.base, "{ viewer { role } }", token: second.adminToken)
        #expect(admin["viewer", "role"] as? String == "ADMIN", "\(admin.text)")
        let old = try await graphQL(second.base, "{ viewer { role } }", token: first.teacherToken)
        #expect(old.status == 401, "the first run's teacher token was revoked with the set")
        #expect(await second.stop() == 0)
        let live = try TokenStore(try PassbackDatabase(path: database)).list().filter { $0.revokedAt == nil }
        #expect(live.count == 3)
    }

    /// A socket listening on a free loopback port, held until `close`.
    static func holdPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw HarnessFailure("could not hold a port: errno \(errno)") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test("a demo or sandbox port in use is refused at once, naming the port and the option; nothing is rostered and nothing hangs")
    func portInUse() async throws {
        let held = try Self.holdPort()
        defer { close(held.fd) }
        let database = FileManager.default.temporaryDirectory.appending(path: "passback-demo-\(UUID().uuidString).sqlite").path
        defer { DemoProcess.cleanup(database) }
        let passback = try builtBinary("passback")
        for option in ["--port", "--sis-port"] {
            let r = try await runProcess(
                passback, ["demo", "--database", database, option, String(held.port)] + (option == "--sis-port" ? ["--port", "0"] : []), timeout: 60)
            #expect(r.status != 0, "\(option): \(r.out) \(r.err)")
            #expect(r.err.contains("127.0.0.1:\(held.port) cannot be used") && r.err.contains(option), "\(option): \(r.err)")
            #expect(!r.out.contains("Rostering"), "nothing was rostered first: \(r.out)")
        }
        #expect(!FileManager.default.fileExists(atPath: database), "no database was made")
        // The sandbox on its own said only "bind(descriptor:ptr:bytes:): Address already in use".
        let sandbox = try await runProcess(passback, ["sandbox", "--port", String(held.port)], timeout: 60)
        #expect(
            sandbox.status != 0 && sandbox.err.contains("127.0.0.1:\(held.port) cannot be used") && sandbox.err.contains("--port"),
            "\(sandbox.out) \(sandbox.err)")
    }
}
