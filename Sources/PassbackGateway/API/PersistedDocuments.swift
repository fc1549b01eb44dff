import OneRoster
import PassbackConfig
import PassbackCore
import Synchronization

/// GraphQL documents by their SHA-256 (the automatic persisted queries convention: a request may
/// carry `extensions.persistedQuery.sha256Hash` instead of `query`).
///
/// Known from the start: the documents Passback's own clients send, embedded at build time
/// (`Clients/widget/documents/`, `Clients/cli/documents/`), and the operator's
/// (`api.trustedDocuments`). With `api.documents` `any` (the default) any document runs and a
/// client registers one by sending it with its hash once; the last `registeredCapacity`
/// registered are kept. With `trusted`, only the known documents run, sent whole or by hash, and
/// nothing can be registered: nothing unexpected reaches the executor.
final class PersistedDocuments: Sendable {
    enum Lookup: Equatable {
        case text(String)
        case unknown
    }

    /// Known documents by hash.
    let known: [String: String]
    let onlyKnown: Bool
    let registeredCapacity: Int
    private let registered = Mutex(Registered())

    private struct Registered {
        var texts: [String: String] = [:]
        /// Hashes in the order they were registered, the oldest first (forgotten first).
        var order: [String] = []
        var start = 0
    }

    /// The widget's documents by name (its file name without `.graphql`), as served at
    /// `/widget/documents.json`.
    static let widget = named(EmbeddedWidgetDocuments.all)
    /// `passbackctl`'s documents by name.
    static let cli = named(EmbeddedCLIDocuments.all)

    /// Embedded `NAME.graphql` files as (NAME, text).
    static func named(_ files: [(name: String, text: String)]) -> [(name: String, text: String)] {
        files.map { (String($0.name.dropLast(".graphql".count)), $0.text) }
    }

    init(onlyKnown: Bool, operators: [PassbackConfiguration.TrustedDocument] = [], registeredCapacity: Int = 1_000) {
        var known: [String: String] = [:]
        for text in Self.widget.map(\.text) + Self.cli.map(\.text) + operators.map(\.text) { known[Self.hash(text)] = text }
        self.known = known
        self.onlyKnown = onlyKnown
        self.registeredCapacity = registeredCapacity
    }

    /// The SHA-256 of a document's UTF-8 bytes, as 64 lower-case hex digits (what
    /// `sha256sum` prints for the file).
    static func hash(_ text: String) -> String { Fingerprint.sha256Hex(Array(text.utf8)) }

    /// The document with this hash, known or registered.
    func document(_ hash: String) -> String? {
        if let text = known[hash] { return text }
        guard !onlyKnown else { return nil }
        return registered.withLock { $0.texts[hash] }
    }

    /// Whether a document sent whole, with this hash, may run.
    func allows(hash: String) -> Bool {
        !onlyKnown || known[hash] != nil
    }

    /// The largest document kept for a client: ordinary documents are a few KiB, and the
    /// registry must not become a store of large texts for whoever holds a token.
    static let largestRegistered = 16 * 1024

    /// Keeps a document a client sent with its hash (the hash checked, the document parsed and
    /// validated by the caller), so the client can send the hash alone from now on. Known
    /// documents are not kept twice; one over `largestRegistered` bytes is not kept.
    func register(_ text: String, hash: String) {
        guard !onlyKnown, known[hash] == nil, text.utf8.count <= Self.largestRegistered else { return }
        registered.withLock { r in
            guard r.texts[hash] == nil else { return }
            r.texts[hash] = text
            r.order.append(hash)
            if r.order.count - r.start > registeredCapacity {
                r.texts[r.order[r.start]] = nil
                r.start += 1
                // Drop the forgotten prefix now and then, not on every registration.
                if r.start > registeredCapacity {
                    r.order.removeFirst(r.start)
                    r.start = 0
                }
            }
        }
    }

    /// `/widget/documents.json`: each of the widget's documents by name, with its hash.
    static let widgetManifest: String = {
        var out = Array("{".utf8)
        for (i, d) in widget.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.writeString(d.name, into: &out)
            out += Array(":{\"sha256Hash\":\"\(hash(d.text))\",\"query\":".utf8)
            JSONValue.writeString(d.text, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        return String(decoding: out + Array("}\n".utf8), as: UTF8.self)
    }()
}
