import Foundation

/// Adds credentials to each request.
public protocol RequestAuthorizer: Sendable {
    /// Signs or stamps the request just before it is sent.
    func authorize(_ request: inout HTTPRequest) async throws
    /// Called after the SIS answered 401 to `request` (as it was sent, credentials included);
    /// returns whether sending again may succeed (a fresh token), so the client retries
    /// exactly once.
    func credentialsRejected(_ request: HTTPRequest) async -> Bool
}
