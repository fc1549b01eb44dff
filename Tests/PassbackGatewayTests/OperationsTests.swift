import Foundation
import PassbackCore
import PassbackGateway
import PassbackStore
import PassbackSync
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Operations endpoints")
struct OperationsTests {
    @Test("healthz answers, metrics show the queue by state and the requests, every answer carries a request id")
    func healthAndMetrics() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-gw-\(UUID().uuidString).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let database = try PassbackDatabase(path: path)
        let worker = OutboxWorker(database: database, targets: [:])
        let gateway = try Gateway(configuration: .init(host: "127.0.0.1", port: 0), database: database, worker: worker,
                              scheduler: SyncScheduler(database: database, planner: SyncPlanner(database: database)))
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

        let (metrics, metricsResponse) = try await URLSession.shared.data(from: URL(string: "\(base)/metrics")!)
        let text = String(decoding: metrics, as: UTF8.self)
        #expect((metricsResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect((metricsResponse as? HTTPURLResponse)?.value(forHTTPHeaderField: "X-Request-Id")?.isEmpty == false)
        #expect(text.contains("passback_outbox_jobs{state=\"available\"} 0"))
        #expect(text.contains("passback_worker_jobs_total{outcome=\"succeeded\"} 0"))
        #expect(text.contains("passback_http_requests_total{route=\"/healthz\",status=\"200\"} 1"), "\(text)")
        #expect(text.contains("passback_http_request_duration_seconds_count{route=\"/healthz\"} 1"))

        await group.triggerGracefulShutdown()
        try await task.value
    }
}
