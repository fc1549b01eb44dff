import Foundation

/// RFC 3986 percent-encoding, as OAuth 1.0a signatures and OneRoster filters need it:
/// everything but the unreserved characters is encoded, so `+`, `'`, `=` and spaces never
/// reach a server ambiguous.
public enum PercentEncoding {
    /// RFC 3986's unreserved characters: the only ones left as they are.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Encodes every byte outside `A-Z a-z 0-9 - . _ ~` (Foundation's encoder, with that set).
    public static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s
    }

    /// Decodes `%XX` escapes (and `+` as a space when `plusAsSpace`, as form encoding means).
    /// `nil` for a broken escape or bytes that are not UTF-8.
    public static func decode(_ s: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        (plusAsSpace ? s.replacingOccurrences(of: "+", with: " ") : String(s)).removingPercentEncoding
    }

    /// Splits a query string into decoded name/value pairs, in order.
    public static func parseQuery(_ query: some StringProtocol, plusAsSpace: Bool = true) -> [(String, String)]? {
        var out: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = decode(kv[0], plusAsSpace: plusAsSpace),
                let v = decode(kv.count > 1 ? kv[1] : "", plusAsSpace: plusAsSpace)
            else { return nil }
            out.append((k, v))
        }
        return out
    }

    /// Joins name/value pairs into an encoded query string.
    public static func query(_ items: [(String, String)]) -> String {
        items.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }
}
