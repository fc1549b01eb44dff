import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The live transport: `URLSession` (on Linux, FoundationNetworking over libcurl) with
/// connection reuse and timeouts. Cookies are never stored implicitly: an SIS that needs its
/// token cookies replayed says so in its profile, and the OAuth 2 provider replays them.
public final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
    // URLSession is thread-safe; it is not marked Sendable on every platform.
    private let session: URLSession

    /// - Parameters:
    ///   - timeout: seconds to wait for a response before giving up.
    ///   - maxConnectionsPerHost: parallel connections to one SIS.
    public init(timeout: TimeInterval = 30, maxConnectionsPerHost: Int = 8) {
        let config = URLSessionConfiguration.ephemeral
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        config.httpCookieAcceptPolicy = .never
        config.urlCache = nil
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout * 4
        config.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        session = URLSession(configuration: config)
    }

    deinit { session.finishTasksAndInvalidate() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var r = URLRequest(url: request.url)
        r.httpMethod = request.method
        for h in request.headers { r.addValue(h.value, forHTTPHeaderField: h.name) }
        r.httpBody = request.body
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch let error as URLError {
            throw TransportFailure("\(request.method) \(request.url.path): \(error.localizedDescription) (URLError \(error.code.rawValue))")
        }
        guard let http = response as? HTTPURLResponse else {
            throw TransportFailure("\(request.method) \(request.url.path): not an HTTP response")
        }
        var headers = HTTPFields()
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers.append(k, v) }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }
}
