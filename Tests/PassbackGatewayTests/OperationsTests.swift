import Foundation
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync
import ServiceLifecycle
import Testing

@testable import PassbackGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Operations endpoints")
struct OperationsTests {
    static let metricsToken = "metrics-token-0123456789abcdef"

    /// Runs a gateway on a fresh database (no SIS) and gives `body` its base URL.
    func withBareGateway(metricsToken: String?, _ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-gw-\(UUID().uuidString).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let database = try PassbackDatabase(path: path)
        let gateway = try Gateway(
            PassbackConfiguration(databasePath: path, connections: [:], metricsToken: metricsToken), database: database,
            server: .init(host: "127.0.0.1", port: 0))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = gateway.serviceGroup(onRunning: { continuation.yield($0) }, signals: [])
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do { try await body("http://127.0.0.1:\(port)") } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    func scrape(_ base: String, authorization: String?) async throws -> (status: Int, text: String, challenge: String?) {
        var request = URLRequest(url: URL(string: "\(base)/metrics")!)
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let (body, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, String(decoding: body, as: UTF8.self), http.value(forHTTPHeaderField: "WWW-Authenticate"))
    }

    @Test("/metrics answers only the configured bearer token, and is off when none is configured")
    func metricsNeedTheirToken() async throws {
        try await withBareGateway(metricsToken: Self.metricsToken) { base in
            for authorization in [nil, "Bearer wrong-token-0123456789abcdef", "Bearer \(Self.metricsToken)x", "Basic \(Self.metricsToken)", "Bearer "] {
                let refused = try await scrape(base, authorization: authorization)
                #expect(refused.status == 401 && !refused.text.contains("passback_"), "\(authorization ?? "no header"): \(refused.text)")
                #expect(refused.challenge?.hasPrefix("Bearer") == true)
            }
            let allowed = try await scrape(base, authorization: "Bearer \(Self.metricsToken)")
            #expect(allowed.status == 200 && allowed.text.contains("passback_outbox_jobs{state=\"available\"}"), "\(allowed.text)")
        }
        try await withBareGateway(metricsToken: nil) { base in
            let off = try await scrape(base, authorization: "Bearer \(Self.metricsToken)")
            #expect(off.status == 403 && off.text.contains("metricsToken") && !off.text.contains("passback_"), "\(off.text)")
        }
    }

    @Test("a counter kept elsewhere moves by what it gained since the last scrape, never counted twice; every metric keeps its name and labels")
    func countersKeptElsewhere() {
        let metrics = RequestMetrics()
        for total in [3, 3, 5, 5] { metrics.count(RequestMetrics.Name.workerJobs, [("outcome", "succeeded")], total: total) }
        metrics.gauge(RequestMetrics.Name.outboxJobs, [("state", "available")], value: 7)
        metrics.record(route: "/healthz", status: 200, duration: .milliseconds(3))
        let text = metrics.text()
        #expect(text.contains("passback_worker_jobs_total{outcome=\"succeeded\"} 5\n"), "\(text)")
        #expect(text.contains("# TYPE passback_worker_jobs_total counter"))
        #expect(text.contains("passback_outbox_jobs{state=\"available\"} 7.0\n"))
        #expect(text.contains("# TYPE passback_outbox_jobs gauge"))
        #expect(text.contains("passback_http_requests_total{route=\"/healthz\",status=\"200\"} 1\n"))
        #expect(text.contains("passback_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1\n"), "\(text)")
        #expect(text.contains("passback_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.001\"} 0\n"))
        #expect(text.contains("passback_http_request_duration_seconds_count{route=\"/healthz\"} 1\n"))
    }

    @Test("healthz answers, metrics show the queue by state and the requests, every answer carries a request id")
    func healthAndMetrics() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-gw-\(UUID().uuidString).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let database = try PassbackDatabase(path: path)
        let gateway = try Gateway(
            PassbackConfiguration(databasePath: path, connections: [:], metricsToken: Self.metricsToken), database: database,
            server: .init(host: "127.0.0.1", port: 0))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = gateway.serviceGroup(onRunning: { continuation.yield($0) }, signals: [])
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let base = "http://127.0.0.1:\(port)"

        var request = URLRequest(url: URL(string: "\(base)/healthz")!)
        request.setValue("req-123", forHTTPHeaderField: "X-Request-Id")
        let (health, healthResponse) = try await URLSession.shared.data(for: request)
        let http = try #require(healthResponse as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect(String(decoding: health, as: UTF8.self) == #"{"status":"ok","database":"ok"}"#)
        #expect(http.value(forHTTPHeaderField: "X-Request-Id") == "req-123")

        let (_, missing) = try await URLSession.shared.data(from: URL(string: "\(base)/nowhere")!)
        #expect((missing as? HTTPURLResponse)?.statusCode == 404)

        var scrape = URLRequest(url: URL(string: "\(base)/metrics")!)
        scrape.setValue("Bearer \(Self.metricsToken)", forHTTPHeaderField: "Authorization")
        let (metrics, metricsResponse) = try await URLSession.shared.data(for: scrape)
        let text = String(decoding: metrics, as: UTF8.self)
        #expect((metricsResponse as? HTTPURLResponse)?.statusCode == 200)
        // A request without an id is given a random (version 4) UUID, in lowercase.
        let made = try #require((metricsResponse as? HTTPURLResponse)?.value(forHTTPHeaderField: "X-Request-Id"))
        #expect(UUID(uuidString: made)?.uuidString.lowercased() == made && Array(made)[14] == "4" && "89ab".contains(Array(made)[19]), "\(made)")
        #expect(RequestID.make() != RequestID.make())
        #expect(text.contains("passback_outbox_jobs{state=\"available\"} 0.0"), "\(text)")
        #expect(text.contains("passback_worker_jobs_total{outcome=\"succeeded\"} 0"))
        #expect(text.contains("passback_http_requests_total{route=\"/healthz\",status=\"200\"} 1"), "\(text)")
        #expect(text.contains("passback_http_request_duration_seconds_count{route=\"/healthz\"} 1"))

        await group.triggerGracefulShutdown()
        try await task.value
    }
}
