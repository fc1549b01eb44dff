import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OneRoster
import PassbackCore

/// What a route knows of its request besides the request: Hummingbird's basics and the
/// connection it came on, so a query whose client has gone can be stopped.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// `/graphql` and `/graphql/stream` over the API.
extension Gateway {
    static func requestID(_ request: Request, _ context: GatewayRequestContext) -> String {
        RequestID.current ?? context.id
    }

    /// The request as the API reads it, or the answer refusing it.
    func decode(_ request: Request) async throws -> Result<GraphQLAPI.Request, GraphQLAPI.Answer> {
        var body: [UInt8]?
        if request.method == .post {
            if let refusal = Self.mediaTypeRefusal(request.headers[.contentType] ?? "") {
                return .failure(api.requestError(415, refusal))
            }
            do {
                let buffer = try await request.body.collect(upTo: api.limits.maxBodyBytes)
                body = Array(buffer.readableBytesView)
            } catch {
                return .failure(api.requestError(413, "the request body is over \(api.limits.maxBodyBytes / 1024) KiB"))
            }
        }
        return api.decode(method: request.method == .post ? "POST" : "GET", body: body, queryItems: Self.formItems(request.uri.query ?? ""))
    }

    /// Why a POST's `Content-Type` is refused, or nil: the body must be JSON, and JSON is read
    /// as UTF-8 only (RFC 8259), so a `charset` other than UTF-8 is refused rather than misread.
    static func mediaTypeRefusal(_ contentType: String) -> String? {
        // What clients send (every request asks): no parts to split, trim and lower.
        if contentType == "application/json" || contentType == "application/json; charset=utf-8" { return nil }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let type = parts.first, ["application/json", "application/graphql-response+json"].contains(type) else {
            return "send the request as JSON with `Content-Type: application/json`"
        }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.first == "charset" else { continue }
            let charset = pair.count > 1 ? pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : ""
            guard charset == "utf-8" || charset == "utf8" else {
                return "send the JSON body as UTF-8 (`Content-Type: application/json` or `application/json; charset=utf-8`); charset '\(charset)' is not read"
            }
        }
        return nil
    }

    /// A query string as `application/x-www-form-urlencoded` (what browsers' `URLSearchParams`
    /// and forms send): `+` is a space, then percent-decoding.
    static func formItems(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { PercentEncoding.decode(s, plusAsSpace: true) ?? String(s) }
            items[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return items
    }

    /// A query or mutation; `clientGone` tells whether the client has closed the connection
    /// (the work is then stopped: see `GraphQLAPI.execute`).
    func graphQL(_ request: Request, requestID: String, clientGone: @escaping @Sendable () -> Bool = { false }) async throws -> Response {
        let principal: Principal
        switch api.authenticate(request.headers[.authorization]) {
        case .success(let p): principal = p
        case .failure(let answer): return response(answer, accept: request.headers[.accept])
        }
        switch try await decode(request) {
        case .failure(let answer): return response(answer, accept: request.headers[.accept])
        case .success(let r):
            return response(await api.execute(r, principal: principal, requestID: requestID, clientGone: clientGone), accept: request.headers[.accept])
        }
    }

    /// Subscriptions as server-sent events (graphql-sse, distinct connections mode): a `next`
    /// event per result, then `complete`.
    func stream(_ request: Request, requestID: String) async throws -> Response {
        let principal: Principal
        // A browser's EventSource cannot set headers: a GET may carry the token as `access_token`.
        var authorization = request.headers[.authorization]
        if authorization == nil, request.method == .get, let token = Self.formItems(request.uri.query ?? "")["access_token"] {
            authorization = "Bearer \(token)"
        }
        switch api.authenticate(authorization) {
        case .success(let p): principal = p
        case .failure(let answer): return response(answer, accept: nil)
        }
        let decoded: GraphQLAPI.Request
        switch try await decode(request) {
        case .failure(let answer): return response(answer, accept: nil)
        case .success(let r): decoded = r
        }
        switch await api.subscribe(decoded, principal: principal, requestID: requestID) {
        case .failure(let answer):
            return response(answer, accept: nil)
        case .success(let events):
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            let api = self.api, header = authorization
            let chunks = api.serverSentEvents(events) {
                // The same token, still valid, still naming the same principal. A database busy for
                // a moment (503) says nothing about the token: the stream goes on.
                switch api.authenticate(header) {
                case .success(let now): return now == principal
                case .failure(let answer): return answer.status == 503
                }
            }
            let body = ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                for await chunk in chunks {
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    func response(_ answer: GraphQLAPI.Answer, accept: String?) -> Response {
        var headers = HTTPFields()
        let wantsGraphQLType = accept?.contains("application/graphql-response+json") ?? false
        headers[.contentType] = wantsGraphQLType ? "application/graphql-response+json; charset=utf-8" : "application/json; charset=utf-8"
        for (name, value) in answer.headers { if let n = HTTPField.Name(name) { headers[n] = value } }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
