import Foundation

/// Passback's LTI key file, for the operator's command line.
public enum LTIKeyFile {
    /// Where the key file is when `lti.keyFile` is not set.
    public static func defaultPath(database: String) -> String { database + ".lti-keys.json" }

    /// Makes a new current key and keeps the previous one published; returns the ids (`kid`)
    /// of the keys published now, the new one first. A running server sees the new file at its
    /// next use of the keys.
    public static func rotate(path: String) throws -> [String] {
        try ToolKeys.rotate(path: path).keys.map(\.kid)
    }

    /// The ids of the keys in the file (made if missing), the current one first.
    public static func keyIDs(path: String) throws -> [String] {
        try ToolKeys.load(path: path).keys.map(\.kid)
    }
}
