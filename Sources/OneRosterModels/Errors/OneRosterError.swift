import Foundation

/// A failed OneRoster call, typed so the sync worker decides by `kind`, never by message text.
/// Pure data (the client makes one from an HTTP answer: `OneRoster`'s
/// `OneRosterError(operation:response:)`), so `PassbackCore`'s `RetryPolicy` decides on it.
public struct OneRosterError: Error, Sendable, CustomStringConvertible {
    /// What the caller can do about it.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Try again later with backoff: 5xx, 408, a dropped or refused connection.
        case retryable
        /// Slow down and honour `retryAfter`: 429, or a 403 whose body says rate limit.
        case rateLimited
        /// Credentials refused (401, 403, or the token endpoint said no): needs a person.
        case auth
        /// The SIS refused the data (400, 409, 422 and other 4xx): retrying will not help.
        case invalidData
        /// The object or endpoint does not exist (404, 410).
        case notFound
        /// The SIS answered 2xx with a body this client cannot read.
        case malformedResponse
    }

    public var kind: Kind
    /// What was attempted, e.g. `PUT lineItems/li-1`.
    public var operation: String
    /// The HTTP status, when an answer arrived.
    public var httpStatus: Int?
    /// What the body said, decoded leniently.
    public var body: ErrorBody?
    /// The start of the raw body, whitespace collapsed, for logs and the teacher's error text.
    public var bodyExcerpt: String?
    /// When to retry, if the server said.
    public var retryAfter: RetryAfter?

    public init(
        kind: Kind, operation: String, httpStatus: Int? = nil, body: ErrorBody? = nil, bodyExcerpt: String? = nil,
        retryAfter: RetryAfter? = nil
    ) {
        self.kind = kind
        self.operation = operation
        self.httpStatus = httpStatus
        self.body = body
        self.bodyExcerpt = bodyExcerpt
        self.retryAfter = retryAfter
    }

    /// Maps an HTTP status (and, for 403, the body) to a kind. One large SIS signals rate
    /// limiting with 403 and a "Rate Limit" body instead of 429.
    public static func classify(status: Int, bodyText: String) -> Kind {
        switch status {
        case 429: return .rateLimited
        case 403 where mentionsRateLimit(bodyText): return .rateLimited
        case 401, 403: return .auth
        case 404, 410: return .notFound
        case 408, 425, 500...599: return .retryable
        case 400...499: return .invalidData
        default: return .retryable
        }
    }

    static func mentionsRateLimit(_ text: String) -> Bool {
        let t = text.lowercased()
        return t.contains("rate limit") || t.contains("ratelimit") || t.contains("rate-limit")
            || t.contains("too many requests") || t.contains("server_busy")
    }

    /// The most useful single sentence: the SIS's own description when it gave one.
    public var message: String {
        if let d = body?.description, !d.isEmpty { return d }
        if let e = bodyExcerpt, !e.isEmpty { return e }
        if let s = httpStatus { return "HTTP \(s)" }
        return kind.rawValue
    }

    public var description: String {
        var s = "\(operation) failed (\(kind.rawValue)"
        if let httpStatus { s += ", HTTP \(httpStatus)" }
        s += "): \(message)"
        if let retryAfter { s += " [retry after \(retryAfter)]" }
        return s
    }
}

/// What an error body said, from any of the shapes seen in the wild: an `imsx_StatusInfo`
/// (bare or wrapped), a `statusInfoSet` list, `CodeMajor`/`Severity`/`Description` keys,
/// `{"error": ...}`, or plain text.
public struct ErrorBody: Sendable, Hashable {
    public var codeMajor: String?
    public var severity: String?
    public var description: String?
    /// `imsx_codeMinorFieldValue`s, such as `invaliddata` or `unknownobject`.
    public var codeMinor: [String]

    public init(codeMajor: String? = nil, severity: String? = nil, description: String? = nil, codeMinor: [String] = []) {
        self.codeMajor = codeMajor
        self.severity = severity
        self.description = description
        self.codeMinor = codeMinor
    }

    /// Decodes leniently; `nil` only for an empty body.
    public static func parse(_ data: Data, contentType: String? = nil) -> ErrorBody? {
        guard !data.isEmpty else { return nil }
        if let v = try? JSONValue.parse(data) {
            return fromJSON(v) ?? ErrorBody(description: excerpt(data))
        }
        guard let text = excerpt(data) else { return nil }
        if text.lowercased().hasPrefix("<") { return ErrorBody(description: nil) } // an HTML error page says nothing useful
        return ErrorBody(description: text)
    }

    package static func fromJSON(_ v: JSONValue) -> ErrorBody? {
        switch v {
        case .array(let items):
            return items.lazy.compactMap(fromJSON).first
        case .string(let s):
            return ErrorBody(description: s)
        case .object(let o):
            for key in ["imsx_StatusInfo", "imsx_statusInfo", "statusInfo"] {
                if let inner = o[key], let b = fromJSON(inner) { return b }
            }
            for key in ["statusInfoSet", "imsx_statusInfoSet", "errors"] {
                if case .array(let items)? = o[key], let b = items.lazy.compactMap(fromJSON).first { return b }
            }
            let major = string(o, "imsx_codeMajor", "CodeMajor", "codeMajor")
            let severity = string(o, "imsx_severity", "Severity", "severity")
            let desc = string(o, "imsx_description", "Description", "description", "error_description", "message")
            let minor = minorCodes(o["imsx_CodeMinor"] ?? o["imsx_codeMinor"] ?? o["CodeMinor"] ?? o["codeMinor"])
            if major != nil || severity != nil || desc != nil || !minor.isEmpty {
                return ErrorBody(codeMajor: major, severity: severity, description: desc, codeMinor: minor)
            }
            if let e = o["error"] {
                if case .string(let s) = e { return ErrorBody(description: s) }
                return fromJSON(e)
            }
            return nil
        default:
            return nil
        }
    }

    static func string(_ o: JSONObject, _ keys: String...) -> String? {
        for k in keys { if case .string(let s)? = o[k], !s.isEmpty { return s } }
        return nil
    }

    static func minorCodes(_ v: JSONValue?) -> [String] {
        guard let v else { return [] }
        switch v {
        case .string(let s): return [s]
        case .array(let items): return items.flatMap { minorCodes($0) }
        case .object(let o):
            if let fields = o["imsx_codeMinorField"] ?? o["codeMinorField"] { return minorCodes(fields) }
            if let value = string(o, "imsx_codeMinorFieldValue", "codeMinorFieldValue") { return [value] }
            return []
        default: return []
        }
    }

    /// The first 300 characters of a body with whitespace collapsed; `nil` if empty.
    public static func excerpt(_ data: Data, limit: Int = 300) -> String? {
        let text = String(decoding: data.prefix(limit * 4), as: UTF8.self)
        let collapsed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !collapsed.isEmpty else { return nil }
        return collapsed.count > limit ? String(collapsed.prefix(limit)) + "…" : collapsed
    }
}
