import Crypto
import Foundation

/// OAuth 1.0a request signing as OneRoster 1.1 uses it (RFC 5849, two-legged: a consumer key
/// and secret, no token). HMAC-SHA256 is the 1.1 default; some servers accept only HMAC-SHA1.
public struct OAuth1Signer: RequestAuthorizer {
    /// The signature method.
    public typealias Method = OAuthSignatureMethod

    public var consumerKey: String
    public var consumerSecret: String
    public var method: Method
    let clock: any WallClock
    let nonce: @Sendable () -> String

    public init(
        consumerKey: String, consumerSecret: String, method: Method = .hmacSHA256, clock: any WallClock = SystemWallClock(),
        nonce: @escaping @Sendable () -> String = OAuth1Signer.randomNonce
    ) {
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.method = method
        self.clock = clock
        self.nonce = nonce
    }

    /// 16 random bytes, hex.
    @Sendable public static func randomNonce() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    public func authorize(_ request: inout HTTPRequest) async throws {
        request.headers["Authorization"] = authorizationHeader(method: request.method, url: request.url)
    }

    /// A rejected signature does not get better by sending it again.
    public func credentialsRejected(_ request: HTTPRequest) async -> Bool { false }

    /// The `Authorization: OAuth ...` value for a request.
    public func authorizationHeader(method httpMethod: String, url: URL) -> String {
        var oauth: [(String, String)] = [
            ("oauth_consumer_key", consumerKey),
            ("oauth_nonce", nonce()),
            ("oauth_signature_method", method.rawValue),
            ("oauth_timestamp", String(Int(clock.now.timeIntervalSince1970))),
            ("oauth_version", "1.0")
        ]
        let query = url.query(percentEncoded: true).flatMap { PercentEncoding.parseQuery($0) } ?? []
        let base = OAuth1Signature.baseString(method: httpMethod, url: url, parameters: query + oauth)
        let signature = OAuth1Signature.sign(base, consumerSecret: consumerSecret, method: method)
        oauth.append(("oauth_signature", signature))
        let fields: [String] = oauth.map { (name: String, value: String) -> String in
            name + "=\"" + PercentEncoding.encode(value) + "\""
        }
        return "OAuth " + fields.joined(separator: ", ")
    }
}

/// The pieces of RFC 5849 §3.4 shared by the signer and by a server that verifies.
public enum OAuth1Signature {
    /// The signature base string: method, base string URI and normalized parameters, each
    /// percent-encoded and joined by `&`. `parameters` are decoded name/value pairs (query and
    /// `oauth_*`, without `oauth_signature`).
    public static func baseString(method: String, url: URL, parameters: [(String, String)]) -> String {
        let encoded: [(String, String)] =
            parameters
            .filter { $0.0 != "oauth_signature" }
            .map { (PercentEncoding.encode($0.0), PercentEncoding.encode($0.1)) }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        let normalized = sorted.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
        return [method.uppercased(), PercentEncoding.encode(baseStringURI(url)), PercentEncoding.encode(normalized)]
            .joined(separator: "&")
    }

    /// Scheme and host in lower case, the port only when not the default, the path, no query.
    public static func baseStringURI(_ url: URL) -> String {
        let scheme = (url.scheme ?? "http").lowercased()
        let host = (url.host ?? "").lowercased()
        var s = "\(scheme)://\(host)"
        if let port = url.port, !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) {
            s += ":\(port)"
        }
        let path = url.path(percentEncoded: true)
        return s + (path.isEmpty ? "/" : path)
    }

    /// Base64 of the HMAC of `base` keyed with `secret&` (no token secret in two-legged OAuth).
    public static func sign(_ base: String, consumerSecret: String, method: OAuth1Signer.Method) -> String {
        let key = SymmetricKey(data: Data((PercentEncoding.encode(consumerSecret) + "&").utf8))
        let data = Data(base.utf8)
        switch method {
        case .hmacSHA256: return Data(HMAC<SHA256>.authenticationCode(for: data, using: key)).base64EncodedString()
        case .hmacSHA1: return Data(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key)).base64EncodedString()
        }
    }

    /// The parameters of an `Authorization: OAuth k="v", ...` header, decoded; `nil` if it is
    /// not an OAuth header.
    public static func parseAuthorizationHeader(_ header: String) -> [String: String]? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("oauth ") else { return nil }
        var out: [String: String] = [:]
        for part in trimmed.dropFirst(6).split(separator: ",") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            var value = String(kv[1])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard let k = PercentEncoding.decode(kv[0]), let v = PercentEncoding.decode(value) else { return nil }
            if k != "realm" { out[k] = v }
        }
        return out
    }
}
