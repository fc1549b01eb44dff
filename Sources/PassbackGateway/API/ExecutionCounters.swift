import Prometheus
import Synchronization

/// Counts of the API's work: fields that loaded data, and requests stopped before the end.
final class ExecutionCounters: Sendable {
    /// Fields resolved through a loader or a query (not plain reads off a loaded row).
    let resolved = Atomic<Int>(0)
    /// Requests stopped because their client closed the connection before the answer.
    let clientGone = Atomic<Int>(0)
    /// Requests stopped at their deadline.
    let pastDeadline = Atomic<Int>(0)
    /// Queries and mutations the planner ran, and those GraphQLSwift's executor ran.
    let planned = Atomic<Int>(0)
    let reference = Atomic<Int>(0)
    /// Queries run on the thread that received them (their plan runs short), not on a lane.
    let inline = Atomic<Int>(0)

    /// The counts into the gateway's metrics.
    func write(into metrics: RequestMetrics) {
        metrics.count(RequestMetrics.Name.fieldsResolved, total: resolved.load(ordering: .relaxed))
        metrics.count(RequestMetrics.Name.executions, [("engine", "planned")], total: planned.load(ordering: .relaxed))
        metrics.count(RequestMetrics.Name.executions, [("engine", "reference")], total: reference.load(ordering: .relaxed))
        metrics.count(RequestMetrics.Name.inline, total: inline.load(ordering: .relaxed))
        metrics.count(RequestMetrics.Name.requestsStopped, [("reason", "client_gone")], total: clientGone.load(ordering: .relaxed))
        metrics.count(RequestMetrics.Name.requestsStopped, [("reason", "deadline")], total: pastDeadline.load(ordering: .relaxed))
    }
}
