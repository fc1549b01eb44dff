import Foundation

/// Adds credentials to each request.
public protocol RequestAuthorizer: Sendable {
    /// Signs or stamps the request just before it is sent.
    func authorize(_ request: inout HTTPRequest) async throws
    /// Called after the SIS answered 401; returns whether sending again may succeed (a fresh
    /// token), so the client retries exactly once.
    func credentialsRejected() async -> Bool
}
