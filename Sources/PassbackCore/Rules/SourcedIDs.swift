import Crypto
import Foundation

/// Deterministic OneRoster `sourcedId`s for everything Passback writes to a SIS.
///
/// A PUT in OneRoster is create-or-replace under an id the *client* chooses. Deriving that id
/// from stable inputs (RFC 4122 UUIDv5: SHA-1 of a namespace and a name) is what makes every
/// write idempotent: a retry, a crash between send and acknowledgement, a rename or a restore
/// of a deleted material all land on the same SIS object and never create a duplicate.
public enum SourcedIDs {
    /// Passback's own UUIDv5 namespace. **Never change it**: every id Passback has ever sent to
    /// a SIS is derived from it, so a new value would orphan every existing SIS item and
    /// duplicate it on the next sync.
    public static let namespace = UUID(
        uuid: (
            0x3c, 0x6e, 0x0b, 0x52, 0x8f, 0x41, 0x4d, 0x2a, 0x9b, 0x17, 0x5e, 0xc4, 0x70, 0x2d, 0xa9, 0x86
        ))

    /// An RFC 4122 version 5 UUID: the first 16 bytes of SHA-1(namespace bytes + UTF-8 name),
    /// with the version nibble set to 5 and the variant bits to RFC 4122.
    ///
    /// SHA-1 is used because the RFC says so (it names, it does not protect): the same inputs
    /// must give the same id in any language, e.g. Python's `uuid.uuid5`.
    public static func uuidV5(namespace: UUID, name: String) -> UUID {
        var input = [UInt8]()
        withUnsafeBytes(of: namespace.uuid) { input.append(contentsOf: $0) }
        input.append(contentsOf: Array(name.utf8))
        var bytes = Array(Insecure.SHA1.hash(data: input).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// The UUIDv5 name for a kind of object and its identifying fields.
    ///
    /// Each field is written as its UTF-8 length, a colon and the field itself, so no choice of
    /// field text can make two different tuples collide (`("a:b", "c")` and `("a", "b:c")`
    /// give `3:a:b1:c` and `1:a3:b:c`). The kind keeps ids of different objects apart even
    /// when their fields happen to be equal. Public so that other tools can reproduce an id.
    public static func name(kind: String, fields: [String]) -> String {
        var text = kind + "/"
        for field in fields { text += "\(field.utf8.count):\(field)" }
        return text
    }

    /// The lineItem `sourcedId` of one LMS material in one section of one connection,
    /// lowercase. The title and dates are left out on purpose: renaming an item must update
    /// the same SIS item.
    public static func lineItem(connection: String, materialLmsID: String, sectionSourcedId: String) -> String {
        id(kind: "lineItem", fields: [connection, materialLmsID, sectionSourcedId])
    }

    /// The result `sourcedId` of one student on one lineItem, lowercase. The lineItem id
    /// already carries the connection, so two connections never share a result id.
    public static func result(lineItemSourcedId: String, studentSourcedId: String) -> String {
        id(kind: "result", fields: [lineItemSourcedId, studentSourcedId])
    }

    /// The category `sourcedId` Passback PUTs for a profile's generic category (a SIS that
    /// syncs uncategorised items under one): one per connection and title, since OneRoster
    /// 1.1 categories are global rather than per class.
    public static func genericCategory(connection: String, title: String) -> String {
        id(kind: "genericCategory", fields: [connection, title])
    }

    static func id(kind: String, fields: [String]) -> String {
        uuidV5(namespace: namespace, name: name(kind: kind, fields: fields)).uuidString.lowercased()
    }
}
