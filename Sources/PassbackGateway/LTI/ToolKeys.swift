import CryptoExtras
import Foundation
import PassbackCore

/// Passback's own key pair as an LTI tool, published at `/lti/jwks`. Kept in a file of its own
/// (readable by its owner only), not in the database, as the SIS secrets are: a copy of the
/// database carries no secret. Created on first use; `rotate` makes a new current key and keeps
/// the previous one published, so a platform that cached it keeps verifying until it refetches.
struct ToolKeys: Sendable {
    struct Key: Sendable {
        let kid: String
        let created: String
        let privateKey: _RSA.Signing.PrivateKey
    }

    /// Newest first: the first signs, all are published.
    let keys: [Key]
    var current: Key { keys[0] }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The keys in `path`, made (with a new key) when the file does not exist.
    static func load(path: String, now: Date = Date()) throws -> ToolKeys {
        if !FileManager.default.fileExists(atPath: path) {
            let keys = ToolKeys(keys: [try make(now)])
            try keys.write(path)
            return keys
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(description: "cannot read the LTI key file \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let entries = object["keys"] as? [[String: String]],
            !entries.isEmpty
        else {
            throw Problem(description: "the LTI key file \(path) is not Passback's (a JSON object with a \"keys\" array); move it away to make a new key")
        }
        return ToolKeys(
            keys: try entries.map { entry in
                guard let kid = entry["kid"], let pem = entry["pem"], let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) else {
                    throw Problem(description: "the LTI key file \(path) holds a key that cannot be read")
                }
                return Key(kid: kid, created: entry["created"] ?? "", privateKey: key)
            })
    }

    /// A new current key, the previous current one kept (older ones dropped).
    static func rotate(path: String, now: Date = Date()) throws -> ToolKeys {
        let existing = FileManager.default.fileExists(atPath: path) ? try load(path: path).keys : []
        let keys = ToolKeys(keys: [try make(now)] + existing.prefix(1))
        try keys.write(path)
        return keys
    }

    static func make(_ now: Date) throws -> Key {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        // The key's id: the start of its public key's hash, so it names this key wherever it is seen.
        let kid = String(Fingerprint.sha256Hex(Data(key.publicKey.derRepresentation)).prefix(16))
        return Key(kid: kid, created: Timestamp.text(now), privateKey: key)
    }

    func write(_ path: String) throws {
        let entries = keys.map { ["kid": $0.kid, "created": $0.created, "pem": $0.privateKey.pemRepresentation] }
        let data = try JSONSerialization.data(withJSONObject: ["keys": entries], options: [.prettyPrinted, .sortedKeys])
        let temporary = path + ".new"
        _ = FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600])
        guard let handle = FileHandle(forWritingAtPath: temporary) else { throw Problem(description: "cannot write the LTI key file \(temporary)") }
        try handle.write(contentsOf: data)
        try handle.close()
        // rename(2) replaces the old file at once: a reader sees the old keys or the new, never half.
        guard rename(temporary, path) == 0 else { throw Problem(description: "cannot replace the LTI key file \(path): errno \(errno)") }
    }

    /// The public keys as a JWKS document.
    func jwks() throws -> Data {
        try JSONSerialization.data(withJSONObject: ["keys": try keys.map { try JWKS.jwk($0.privateKey.publicKey, kid: $0.kid) }], options: [.sortedKeys])
    }
}
