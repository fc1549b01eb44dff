import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OneRoster

/// Answers every request of the sandbox SIS: token endpoint, fault injection, auth, then the
/// OneRoster endpoints.
struct SandboxResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let sandbox: Sandbox
    var data: SandboxData { sandbox.data }
    var basePath: String { sandbox.configuration.basePath }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard path == basePath || path.hasPrefix(basePath + "/") else {
            return Self.imsx(404, "unknownobject", "not a OneRoster path; the base is \(basePath)")
        }
        let rest = path.dropFirst(basePath.count).split(separator: "/").compactMap { PercentEncoding.decode($0) }
        let method = request.method.rawValue

        if rest == ["token"] {
            guard method == "POST" else { return Self.imsx(405, "unsupported", "use POST for the token endpoint") }
            let body = try await request.body.collect(upTo: 64 * 1024)
            let form = PercentEncoding.parseQuery(String(buffer: body)) ?? []
            let answer = sandbox.auth.issueToken(authorization: request.headers[.authorization], form: form)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-store"
            if let cookie = answer.cookie { headers[.setCookie] = cookie + "; Path=/; HttpOnly" }
            return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body.serialized())))
        }

        sandbox.enter()
        defer { sandbox.leave() }
        for fault in sandbox.faults.next() {
            if let response = try await apply(fault) { return response }
        }

        let authority = request.head.authority ?? "127.0.0.1"
        let publicURL = URL(string: "http://\(authority)\(request.uri.string)")!
        let grant: Grant
        do {
            grant = try sandbox.auth.authenticate(
                method: method, url: publicURL, authorization: request.headers[.authorization], cookie: request.headers[.cookie])
        } catch {
            return Self.imsx(error.status, error.codeMinor, error.description)
        }

        do {
            let resolved = try SandboxRoutes(data: data).resolve(rest)
            let needed = SandboxAuth.requiredScopes(method: method, kind: resolved.kind)
            guard !grant.scopes.isDisjoint(with: needed) else {
                return Self.imsx(403, "unauthorisedrequest", "insufficient scope: needs \(needed.joined(separator: " or "))")
            }
            switch method {
            case "GET":
                if let id = resolved.recordID { return try single(resolved, id: id) }
                return try list(resolved, request: request, authority: authority)
            case "PUT" where resolved.writable && resolved.recordID != nil:
                let body = try await request.body.collect(upTo: 1024 * 1024)
                return try put(resolved.kind, id: resolved.recordID!, body: body)
            case "DELETE" where resolved.writable && resolved.recordID != nil:
                if sandbox.configuration.quirks.noDelete {
                    return Self.imsx(405, "unsupported", "this SIS does not support DELETE")
                }
                guard data.delete(resolved.kind, resolved.recordID!) else {
                    throw Refusal(
                        status: 404, codeMinor: "unknownobject", description: "no \(resolved.kind.singularKey) with sourcedId '\(resolved.recordID!)'")
                }
                return Response(status: .noContent)
            default:
                return Self.imsx(405, "unsupported", "\(method) is not allowed on /\(rest.joined(separator: "/"))")
            }
        } catch let r as Refusal {
            return Self.imsx(r.status, r.codeMinor, r.description)
        }
    }

    /// Applies a fault; `nil` means carry on with the request.
    func apply(_ fault: Fault) async throws -> Response? {
        let limit403 = sandbox.configuration.quirks.rateLimitAs403
        switch fault {
        case .slow(let ms):
            try await Task.sleep(for: .milliseconds(ms))
            return nil
        case .tooManyRequests(let s) where limit403, .rateLimit403(let s):
            var r = Self.imsx(403, "server_busy", "Rate Limit Exceeded: too many requests, slow down")
            r.headers[.retryAfter] = String(s)
            return r
        case .tooManyRequests(let s):
            var r = Self.imsx(429, "server_busy", "too many requests")
            r.headers[.retryAfter] = String(s)
            return r
        case .serverError:
            return Self.imsx(500, "internal_server_error", "the sandbox failed on purpose (fault injection)")
        case .unavailable(let s):
            var r = Self.imsx(503, "server_busy", "service unavailable")
            r.headers[.retryAfter] = String(s)
            return r
        case .dropConnection:
            // Promise a body, send part of it, then fail: the server must cut the connection.
            let body = ResponseBody(contentLength: 1024) { writer in
                try await writer.write(ByteBuffer(string: "{\"partial\":"))
                throw CancellationError()
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    func single(_ r: ResolvedPath, id: String) throws(Refusal) -> Response {
        guard let record = data.record(r.kind, id), r.scope(record) else {
            throw Refusal(status: 404, codeMinor: "unknownobject", description: "no \(r.kind.singularKey) with sourcedId '\(id)' here")
        }
        return Self.json(200, .object([r.kind.singularKey: .object(record)]))
    }

    func list(_ r: ResolvedPath, request: Request, authority: String) throws(Refusal) -> Response {
        let params = PercentEncoding.parseQuery(request.uri.query ?? "") ?? []
        let q = Dictionary(params, uniquingKeysWith: { a, _ in a })
        let cap = sandbox.configuration.maxPageSize
        var limit = 100
        if let l = q["limit"] {
            guard let n = Int(l), n > 0 else {
                throw Refusal(status: 400, codeMinor: "invalid_selection_field", description: "limit must be a positive whole number")
            }
            limit = n
        }
        limit = min(limit, cap)
        var offset = 0
        if let o = q["offset"] {
            guard let n = Int(o), n >= 0 else {
                throw Refusal(status: 400, codeMinor: "invalid_selection_field", description: "offset must be a whole number, 0 or more")
            }
            offset = n
        }
        var warnings: [JSONValue] = []
        var filter: Filter?
        if let text = q["filter"], !text.isEmpty {
            do { filter = try Filter.parse(text) } catch {
                throw Refusal(status: 400, codeMinor: "invalid_filter_field", description: "filter: \(error.reason)")
            }
            for p in filter!.predicates where !r.kind.knownFields.contains(String(p.field.split(separator: ".")[0])) {
                throw Refusal(status: 400, codeMinor: "invalid_filter_field", description: "filter: \(r.kind.pluralKey) have no field '\(p.field)'")
            }
        }
        var sort: (field: String, descending: Bool)?
        if let field = q["sort"], !field.isEmpty {
            if r.kind.knownFields.contains(String(field.split(separator: ".")[0])) {
                sort = (field, q["orderBy"]?.lowercased() == "desc")
            } else {
                warnings.append(Self.warning("invalid_sort_field", "sort: \(r.kind.pluralKey) have no field '\(field)'; left unsorted"))
            }
        }
        var fields: [String]?
        if let f = q["fields"], !f.isEmpty {
            let asked = f.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let unknown = asked.filter { !r.kind.knownFields.contains($0) }
            if !unknown.isEmpty {
                warnings.append(Self.warning("invalid_selection_field", "fields: unknown \(unknown.joined(separator: ", ")); ignored"))
            }
            fields = asked.filter { r.kind.knownFields.contains($0) }
        }
        let cacheKey = "\(r.kind.rawValue)|\(r.scopeKey)|\(filter?.description ?? "")|\(sort.map { "\($0.field) \($0.descending)" } ?? "")"
        let rows = data.query(kind: r.kind, cacheKey: cacheKey, scope: r.scope, filter: filter, sort: sort)
        let total = rows.count
        let page = offset < total ? Array(rows[offset..<min(total, offset + limit)]) : []

        var out: [UInt8] = []
        out.reserveCapacity(page.count * 400 + 64)
        out.append(contentsOf: "{\"\(r.kind.pluralKey)\":[".utf8)
        for (i, rec) in page.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.object(fields.map { RecordQuery.project(rec, fields: $0) } ?? rec).write(into: &out)
        }
        out.append(UInt8(ascii: "]"))
        if !warnings.isEmpty {
            out.append(contentsOf: ",\"statusInfoSet\":".utf8)
            JSONValue.array(warnings).write(into: &out)
        }
        out.append(UInt8(ascii: "}"))

        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if !sandbox.configuration.quirks.omitTotalCount { headers[HTTPField.Name("X-Total-Count")!] = String(total) }
        headers[HTTPField.Name("Link")!] = links(request: request, authority: authority, params: params, limit: limit, offset: offset, total: total)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    func links(request: Request, authority: String, params: [(String, String)], limit: Int, offset: Int, total: Int) -> String {
        func url(_ o: Int) -> String {
            var items = params.filter { $0.0 != "limit" && $0.0 != "offset" }
            items.append(("limit", String(limit)))
            items.append(("offset", String(o)))
            return "http://\(authority)\(request.uri.path)?\(PercentEncoding.query(items))"
        }
        var links = [LinkHeader.Link(url: url(0), rel: "first")]
        let last = total == 0 ? 0 : ((total - 1) / limit) * limit
        links.append(.init(url: url(last), rel: "last"))
        if offset + limit < total { links.append(.init(url: url(offset + limit), rel: "next")) }
        if offset > 0 { links.append(.init(url: url(max(0, offset - limit)), rel: "prev")) }
        return LinkHeader.format(links)
    }

    func put(_ kind: RecordKind, id: String, body: ByteBuffer) throws(Refusal) -> Response {
        data.countPutRequest(kind, id)
        let value: JSONValue
        do { value = try JSONValue.parse(body.readableBytesView) } catch {
            throw Refusal(status: 400, codeMinor: "invaliddata", description: "body is not valid JSON: \(error.description)")
        }
        let record = try GradebookValidator(data: data, quirks: sandbox.configuration.quirks).validate(kind: kind, pathID: id, body: value)
        let created = data.upsert(kind, record)
        let stored = data.record(kind, id) ?? record
        return Self.json(created ? 201 : 200, .object([kind.singularKey: .object(stored)]))
    }

    static func json(_ status: Int, _ value: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.serialized())))
    }

    static func warning(_ minor: String, _ description: String) -> JSONValue {
        statusInfo(major: "success", severity: "warning", minor: minor, description: description)
    }

    static func statusInfo(major: String, severity: String, minor: String, description: String) -> JSONValue {
        [
            "imsx_codeMajor": .string(major), "imsx_severity": .string(severity), "imsx_description": .string(description),
            "imsx_CodeMinor": ["imsx_codeMinorField": [["imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": .string(minor)]]]
        ]
    }

    /// An error answer with an `imsx_StatusInfo` body, as 1.1 specifies.
    static func imsx(_ status: Int, _ minor: String, _ description: String) -> Response {
        json(status, statusInfo(major: "failure", severity: "error", minor: minor, description: description))
    }
}
