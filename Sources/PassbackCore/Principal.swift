import Foundation

/// Who a request acts as.
public struct Principal: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// Acts on the sections where the roster enrolls them as teacher.
        case teacher
        /// Reads its org's subtree; cannot configure or sync a section it does not teach.
        case admin
        /// The LMS feed: writes materials, LMS categories and grades.
        case integration
    }

    public var tokenID: Int64
    public var connectionID: String
    public var userSourcedId: String
    public var role: Role
    /// The org an admin is scoped to.
    public var orgSourcedId: String?

    public init(tokenID: Int64, connectionID: String, userSourcedId: String, role: Role, orgSourcedId: String?) {
        self.tokenID = tokenID
        self.connectionID = connectionID
        self.userSourcedId = userSourcedId
        self.role = role
        self.orgSourcedId = orgSourcedId
    }
}

/// API tokens: `pb_` and 43 characters of base64url (32 random bytes); stored as SHA-256.
public enum APIToken {
    /// A new token from 32 random bytes (given, so tests and callers choose the source).
    public static func make(randomBytes: [UInt8]) -> String {
        precondition(randomBytes.count == 32, "a token needs 32 random bytes")
        return "pb_" + Base64URL.encode(randomBytes)
    }

    /// The hex SHA-256 the store keeps instead of the token.
    public static func hash(_ token: String) -> String {
        Fingerprint.sha256Hex(Data(token.utf8))
    }

    /// Whether a string has the shape of a token (cheap check before any lookup): `pb_` and 43
    /// characters of the base64url alphabet, which is ASCII (a token holding any other letter was
    /// never made here). Read as bytes: every request asks it twice.
    public static func looksValid(_ token: String) -> Bool {
        var token = token
        return token.withUTF8 { bytes in
            guard bytes.count == 46, bytes[0] == UInt8(ascii: "p"), bytes[1] == UInt8(ascii: "b"), bytes[2] == UInt8(ascii: "_") else { return false }
            return bytes[3...].allSatisfy { b in
                switch b {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"):
                    return true
                default: return false
                }
            }
        }
    }
}
