import Foundation
import Prometheus
import Synchronization

/// The gateway's metrics in swift-prometheus's registry, written in the Prometheus text format
/// at `/metrics`. One registry per gateway, not swift-metrics' process-wide bootstrap: a process
/// (the tests) may run several gateways, and each scrape must show its own.
public final class RequestMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// What a counter kept elsewhere (the worker's outcomes, the API's work) stood at when last
    /// written, by name and labels: a scrape moves the registry's counter on by the difference.
    private let written = Mutex([String: Int]())
    /// Each route's request counters (by status) and latency histogram, made once: the registry
    /// finds a metric by building its descriptor and labels, which every request would repeat.
    private let perRoute = Mutex([String: (counters: [Int: Counter], histogram: DurationHistogram)]())

    /// Upper bounds of the latency histogram.
    static let bounds: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500)
    ]

    public init() {}

    /// The metrics' names (unchanged since they were written by hand) and help (computed: the
    /// library's descriptor is not `Sendable`).
    enum Name {
        static var httpRequests: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "passback", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests answered, by route and status.")
        }
        static var httpDuration: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "passback", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "Time to answer a request, by route.")
        }
        static var outboxJobs: MetricNameDescriptor {
            MetricNameDescriptor(namespace: "passback", metricName: "outbox", unitName: "jobs", helpText: "Outbox jobs by state.")
        }
        static var workerJobs: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "passback", subsystem: "worker", metricName: "jobs", unitName: "total", helpText: "Jobs the worker finished since start, by outcome."
            )
        }
        static var fieldsResolved: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "passback", subsystem: "graphql", metricName: "fields_resolved", unitName: "total",
                helpText: "Fields that loaded data, over every request.")
        }
        static var executions: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "passback", subsystem: "graphql", metricName: "executions", unitName: "total",
                helpText: "Queries and mutations run, by engine (planned, or GraphQLSwift's reference executor).")
        }
        static var inline: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "passback", subsystem: "graphql", metricName: "inline", unitName: "total",
                helpText: "Queries run on the thread that received them (their plan has been running short), not on the execution pool.")
        }
        static var requestsStopped: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "passback", subsystem: "graphql", metricName: "requests_stopped", unitName: "total",
                helpText: "Requests whose work was stopped before the end, by why.")
        }
    }

    /// One answered request.
    func record(route: String, status: Int, duration: Duration) {
        let (counter, histogram) = perRoute.withLock { routes -> (Counter, DurationHistogram) in
            var entry =
                routes[route]
                ?? (
                    [:], registry.makeDurationHistogram(descriptor: Name.httpDuration, labels: [("route", route)], buckets: Self.bounds)
                )
            let counter =
                entry.counters[status]
                ?? registry.makeCounter(descriptor: Name.httpRequests, labels: [("route", route), ("status", String(status))])
            entry.counters[status] = counter
            routes[route] = entry
            return (counter, entry.histogram)
        }
        counter.increment()
        histogram.record(duration)
    }

    /// Sets a counter whose total is kept elsewhere.
    func count(_ name: MetricNameDescriptor, _ labels: [(String, String)] = [], total: Int) {
        let key = name.name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = written.withLock { written -> Int in
            let delta = total - (written[key] ?? 0)
            if delta > 0 { written[key] = total }
            return delta
        }
        let counter = registry.makeCounter(descriptor: name, labels: labels)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    /// Sets a gauge.
    func gauge(_ name: MetricNameDescriptor, _ labels: [(String, String)], value: Int) {
        registry.makeGauge(descriptor: name, labels: labels).set(to: Double(value))
    }

    /// Every metric, as Prometheus text.
    func text() -> String { registry.emitToString() }
}
