import Foundation

/// How an OAuth 1.0a request is signed (OneRoster 1.1: HMAC-SHA256 by default; some servers
/// accept only HMAC-SHA1). Data, not the signing: `OAuth1Signer` signs.
public enum OAuthSignatureMethod: String, Sendable, Hashable, CaseIterable, Codable {
    case hmacSHA256 = "HMAC-SHA256"
    case hmacSHA1 = "HMAC-SHA1"
}
