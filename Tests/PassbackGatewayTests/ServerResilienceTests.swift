import Foundation
import PassbackCore
import PassbackStore
import PassbackTesting
import Testing

@testable import PassbackGateway

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain TCP connection to the gateway, to see what the server does with a client that
/// sends nothing, half a request, or reads a stream.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessFailure("connect failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Hangs up as a client that gives up does: both directions shut, the socket kept until deinit.
    func hangUp() { _ = shutdown(fd, Int32(SHUT_RDWR)) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the server closes the connection or `seconds` pass (on a thread of its own).
    func read(for seconds: Double) async -> (text: String, closed: Bool, after: Double) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let started = Date()
                var bytes: [UInt8] = []
                var closed = false
                while true {
                    let left = seconds - Date().timeIntervalSince(started)
                    guard left > 0 else { break }
                    var p = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&p, 1, Int32(left * 1000)) > 0 else { continue }
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    let n = recv(self.fd, &buffer, buffer.count, 0)
                    if n <= 0 {
                        closed = true
                        break
                    }
                    bytes += buffer[0..<n]
                }
                continuation.resume(returning: (String(decoding: bytes, as: UTF8.self), closed, Date().timeIntervalSince(started)))
            }
        }
    }
}

/// Issue 13, low: connections that idle are closed (streams are not), and a database locked by
/// another process is a 503 "busy, retry", on `/graphql` and on `/healthz`, not an INTERNAL.
@Suite("idle connections and a locked database", .serialized)
struct ServerResilienceTests {
    @Test("a connection that sends nothing, or half a request, or idles after its answer is closed; a live stream quieter than that is not")
    func idleConnectionsClose() async throws {
        var limits = GraphQLAPI.Limits()
        limits.streamHeartbeat = .milliseconds(1500)
        try await withGateway(limits: limits, server: Gateway.Configuration(idleTimeout: .milliseconds(500))) { env in
            let port = try #require(env.base.port)
            let silent = try RawConnection(port: port)
            let r1 = await silent.read(for: 6)
            #expect(r1.closed && r1.text.isEmpty, "a connection that sends nothing: \(r1)")

            let stalled = try RawConnection(port: port)
            stalled.send("POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"query\":")
            let r2 = await stalled.read(for: 6)
            #expect(r2.closed, "a request stalled half-sent: \(r2)")

            let kept = try RawConnection(port: port)
            kept.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let r3 = await kept.read(for: 6)
            #expect(r3.text.hasPrefix("HTTP/1.1 200") && r3.closed, "a kept-alive connection after its answer: \(r3)")

            // A stream whose heartbeat (1.5 s) is three idle timeouts apart stays open.
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher)
            let body = String(
                decoding: try JSONSerialization.data(withJSONObject: [
                    "query": "subscription($id: ID!) { materialStatusChanged(sectionId: $id) { lmsId } }", "variables": ["id": try env.sectionID(section)]
                ]),
                as: UTF8.self)
            let stream = try RawConnection(port: port)
            stream.send(
                "POST /graphql/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            // Open past several idle timeouts, with at least one heartbeat (a loaded machine may delay the second).
            var r4 = await stream.read(for: 5)
            // Beside the whole suite the first heartbeat can come late: waited for a while longer, the stream still open.
            if !r4.closed, !r4.text.contains(": keep-alive") {
                let more = await stream.read(for: 10)
                r4 = (r4.text + more.text, more.closed, r4.after + more.after)
            }
            #expect(!r4.closed && r4.text.contains("text/event-stream") && r4.text.components(separatedBy: ": keep-alive").count >= 2, "a live stream: \(r4)")
        }
    }

    @Test("while another process holds the write lock: mutations are 503 SERVICE_UNAVAILABLE with Retry-After, /healthz is 503 busy; both recover")
    func lockedDatabase() async throws {
        try await withGateway(server: Gateway.Configuration(healthTimeout: 0.5), busyTimeout: 1) { env in
            let (section, teacher) = env.yearLongSection
            let fed = try await env.feed(section: section, teacher: teacher, materials: 1)
            let token = try env.token(.teacher, user: teacher)
            let mutation = "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncToSIS } userErrors { message } } }"
            let input: [String: Any] = ["i": ["materialId": fed.materials["m-0"]!, "syncToSIS": false]]
            let healthz = URLRequest(url: env.base.appending(path: "healthz"))

            // Another process: the sqlite3 shell's BEGIN EXCLUSIVE holds the write lock until it ends.
            let shell = try SQLiteShell(env.database.path)
            // The shell waits for the lock (its default is not to): the gateway's own background work
            // (the roster runner, the worker) takes the write lock now and then, and a BEGIN refused
            // at once would leave the test without the lock it is about.
            let said = shell.run(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';")
            #expect(said.contains("locked"), "the sqlite3 shell took the lock: \(said)")
            let started = Date()
            let refused = try await env.post(mutation, input, token: token)
            #expect(refused.status == 503, "\(refused.status) \(refused.text)")
            #expect(refused.headers["retry-after"] == "2", "\(refused.headers)")
            #expect(refused.codes == ["SERVICE_UNAVAILABLE"], "\(refused.text)")
            #expect(refused.errors.first?["message"] as? String == GraphQLAPI.busyMessage, "\(refused.text)")
            #expect(Date().timeIntervalSince(started) < 5, "answered after the busy timeout (1 s), not later")
            // Readers are not blocked by a writer in WAL mode: queries go on.
            let read = try await env.post("{ viewer { userSourcedId } }", token: token)
            #expect(read.status == 200 && read.errors.isEmpty, "\(read.text)")
            let sick = try await env.send(healthz)
            #expect(sick.status == 503 && sick.text.contains("\"database\":\"busy\"") && sick.headers["retry-after"] == "2", "\(sick.status) \(sick.text)")

            shell.quit()
            // /healthz reuses an answer for a second at most.
            try await env.waitUntil(timeout: 5) { try await env.send(healthz).status == 200 }
            let healthy = try await env.send(healthz)
            #expect(healthy.status == 200 && healthy.text.contains("\"database\":\"ok\""), "\(healthy.text)")
            let done = try await env.post(mutation, input, token: token)
            #expect(done.status == 200 && done["setMaterialSyncToSIS", "material", "syncToSIS"] as? Bool == false, "\(done.text)")
        }
    }

    @Test("a query whose client hangs up is stopped: it loads no more fields, and the stop is counted")
    func clientGoneStopsWork() async throws {
        var limits = GraphQLAPI.Limits()
        limits.maxCost = 10_000_000
        limits.maxFields = 1_000_000
        limits.document.maxTokens = 1_000_000
        limits.perToken.maximumAvailable = 10_000_000
        limits.deadline = .seconds(600)
        try await withGateway(limits: limits) { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let aliases = 1_500
            // Each alias loads a page of runs and counts them: thousands of loads, seconds of work.
            let query = "{ " + (0..<aliases).map { "r\($0): syncRuns(first: 1) { totalCount }" }.joined(separator: " ") + " }"
            let body = String(decoding: try JSONSerialization.data(withJSONObject: ["query": query]), as: UTF8.self)
            let work = env.gateway.api.services.work
            let before = work.resolved.load(ordering: .relaxed)
            let client = try RawConnection(port: try #require(env.base.port))
            client.send(
                "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            try await env.waitUntil(timeout: 60) { work.resolved.load(ordering: .relaxed) - before >= 20 }
            client.hangUp()
            try await env.waitUntil(timeout: 60) { work.clientGone.load(ordering: .relaxed) == 1 }
            // The work ends soon after: the count of loaded fields stops growing, short of all of them.
            var last = -1
            try await env.waitUntil(timeout: 60) {
                let now = work.resolved.load(ordering: .relaxed)
                defer { last = now }
                if now == last { return true }
                try await Task.sleep(for: .milliseconds(300))
                return false
            }
            let loaded = work.resolved.load(ordering: .relaxed) - before
            #expect(loaded < aliases / 2, "the query went on after its client left: \(loaded) of \(aliases) fields loaded")
            // The server goes on, and /metrics-style counts say what happened.
            let fine = try await env.post("{ viewer { role } }", token: token)
            #expect(fine["viewer", "role"] as? String == "TEACHER")
            let metrics = RequestMetrics()
            work.write(into: metrics)
            #expect(metrics.text().contains("passback_graphql_requests_stopped_total{reason=\"client_gone\"} 1"))
        }
    }
}
