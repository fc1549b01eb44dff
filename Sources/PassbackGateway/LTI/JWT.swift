import Crypto
import CryptoExtras
import Foundation
import PassbackCore

/// A JSON Web Token in compact form (RFC 7519, RFC 7515), as an LTI 1.3 launch carries its
/// `id_token`. Only RS256 is accepted (LTI 1.3 requires it of platforms): the algorithm a token
/// names never chooses how it is checked.
struct JWT {
    let header: [String: Any]
    let claims: [String: Any]
    /// `header.payload`, the bytes the signature covers.
    let signingInput: Data
    let signature: Data

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    init(compact: String) throws {
        let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw Malformed(description: "the id_token is not a signed JWT (three base64url parts separated by dots)") }
        func object(_ part: Substring, _ name: String) throws -> [String: Any] {
            guard let bytes = Base64URL.decode(part), let value = try? JSONSerialization.jsonObject(with: Data(bytes)), let object = value as? [String: Any]
            else { throw Malformed(description: "the id_token's \(name) is not base64url-encoded JSON") }
            return object
        }
        header = try object(parts[0], "header")
        claims = try object(parts[1], "payload")
        guard let signature = Base64URL.decode(parts[2]) else { throw Malformed(description: "the id_token's signature is not base64url") }
        self.signature = Data(signature)
        signingInput = Data(compact.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
    }

    var algorithm: String? { header["alg"] as? String }
    var keyID: String? { header["kid"] as? String }

    /// Whether `key` signed it with RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
    func isSigned(by key: _RSA.Signing.PublicKey) -> Bool {
        guard algorithm == "RS256" else { return false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
    }
}

/// A JSON Web Key Set (RFC 7517): the RSA signing keys it holds, by `kid`.
enum JWKS {
    /// The RSA keys of a JWKS document usable to check signatures. Keys of other types or uses,
    /// and keys without a `kid`, are left out.
    static func rsaKeys(_ data: Data) throws -> [String: _RSA.Signing.PublicKey] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let keys = object["keys"] as? [[String: Any]] else {
            throw JWT.Malformed(description: "not a JWKS document (a JSON object with a \"keys\" array)")
        }
        var out: [String: _RSA.Signing.PublicKey] = [:]
        for key in keys {
            guard key["kty"] as? String == "RSA", (key["use"] as? String ?? "sig") == "sig", let kid = key["kid"] as? String,
                let n = (key["n"] as? String).flatMap(Base64URL.decode), let e = (key["e"] as? String).flatMap(Base64URL.decode),
                let publicKey = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { continue }
            out[kid] = publicKey
        }
        return out
    }

    /// A key's JWK (public parts only).
    static func jwk(_ key: _RSA.Signing.PublicKey, kid: String) throws -> [String: String] {
        let primitives = try key.getKeyPrimitives()
        return [
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": Base64URL.encode(primitives.modulus), "e": Base64URL.encode(primitives.publicExponent)
        ]
    }
}
