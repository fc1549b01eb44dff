import Synchronization

/// Counts of the API's work: fields that loaded data, and requests stopped before the end.
final class ExecutionCounters: Sendable {
    /// Fields resolved through a loader or a query (not plain reads off a loaded row).
    let resolved = Atomic<Int>(0)
    /// Requests stopped because their client closed the connection before the answer.
    let clientGone = Atomic<Int>(0)
    /// Requests stopped at their deadline.
    let pastDeadline = Atomic<Int>(0)

    /// The counts as Prometheus text.
    func text() -> String {
        """
        # HELP passback_graphql_fields_resolved_total Fields that loaded data, over every request.
        # TYPE passback_graphql_fields_resolved_total counter
        passback_graphql_fields_resolved_total \(resolved.load(ordering: .relaxed))
        # HELP passback_graphql_requests_stopped_total Requests whose work was stopped before the end, by why.
        # TYPE passback_graphql_requests_stopped_total counter
        passback_graphql_requests_stopped_total{reason="client_gone"} \(clientGone.load(ordering: .relaxed))
        passback_graphql_requests_stopped_total{reason="deadline"} \(pastDeadline.load(ordering: .relaxed))

        """
    }
}
