import Foundation
import Synchronization

/// Request counts and latencies, kept in memory and written in the Prometheus text format.
public final class RequestMetrics: Sendable {
    struct Key: Hashable { var route: String; var status: Int }
    struct State {
        var requests: [Key: Int] = [:]
        var seconds: [String: (sum: Double, count: Int, buckets: [Int])] = [:]
    }

    /// Upper bounds (seconds) of the latency histogram.
    static let bounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    private let state = Mutex(State())

    public init() {}

    func record(route: String, status: Int, seconds: Double) {
        state.withLock { s in
            s.requests[Key(route: route, status: status), default: 0] += 1
            var h = s.seconds[route] ?? (0, 0, Array(repeating: 0, count: Self.bounds.count))
            h.sum += seconds
            h.count += 1
            for (i, b) in Self.bounds.enumerated() where seconds <= b { h.buckets[i] += 1 }
            s.seconds[route] = h
        }
    }

    /// The request metrics as Prometheus text.
    func text() -> String {
        let s = state.withLock { $0 }
        var out = "# HELP passback_http_requests_total HTTP requests answered, by route and status.\n# TYPE passback_http_requests_total counter\n"
        for (k, n) in s.requests.sorted(by: { ($0.key.route, $0.key.status) < ($1.key.route, $1.key.status) }) {
            out += "passback_http_requests_total{route=\"\(k.route)\",status=\"\(k.status)\"} \(n)\n"
        }
        out += "# HELP passback_http_request_duration_seconds Time to answer a request, by route.\n# TYPE passback_http_request_duration_seconds histogram\n"
        for (route, h) in s.seconds.sorted(by: { $0.key < $1.key }) {
            for (i, b) in Self.bounds.enumerated() {
                out += "passback_http_request_duration_seconds_bucket{route=\"\(route)\",le=\"\(b)\"} \(h.buckets[i])\n"
            }
            out += "passback_http_request_duration_seconds_bucket{route=\"\(route)\",le=\"+Inf\"} \(h.count)\n"
            out += "passback_http_request_duration_seconds_sum{route=\"\(route)\"} \(h.sum)\n"
            out += "passback_http_request_duration_seconds_count{route=\"\(route)\"} \(h.count)\n"
        }
        return out
    }
}
