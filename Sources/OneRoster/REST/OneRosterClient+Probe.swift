import Foundation

extension OneRosterClient {
    /// Whether the SIS answers at all, from one light read (`GET orgs?limit=1`).
    public enum Reachability: Sendable, Hashable {
        /// It answered: with data, or with a refusal that is not an outage (401, 403, 404, 429…).
        case reachable
        /// No answer (connection refused, DNS, timeout, a cut connection) or a 5xx: why.
        case unreachable(String)
    }

    /// Asks the SIS for one org, to tell an outage (nothing answers) from a fault of one write.
    /// A refusal of credentials or a rate limit is `reachable`: the SIS is there, and those
    /// answers have rules of their own.
    public func probe() async -> Reachability {
        do {
            _ = try await send("GET", path: "orgs", query: [("limit", "1")])
            return .reachable
        } catch let e as OneRosterError {
            switch e.kind {
            case .retryable: return .unreachable(e.description)
            case .rateLimited, .auth, .invalidData, .notFound, .malformedResponse: return .reachable
            }
        } catch {
            return .unreachable("GET orgs failed: \(error)")
        }
    }
}
