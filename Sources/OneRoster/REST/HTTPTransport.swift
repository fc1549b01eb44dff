import Foundation

/// HTTP header fields in order, looked up without regard to case.
public struct HTTPFields: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var pairs: [Pair]

    /// One header line.
    public struct Pair: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public init(_ pairs: [(String, String)] = []) { self.pairs = pairs.map { Pair(name: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    /// The first value of a header.
    public subscript(name: String) -> String? {
        get { pairs.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
        set {
            pairs.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            if let newValue { pairs.append(Pair(name: name, value: newValue)) }
        }
    }

    /// Every value of a header (e.g. each `Set-Cookie`).
    public func values(_ name: String) -> [String] {
        pairs.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    public mutating func append(_ name: String, _ value: String) { pairs.append(Pair(name: name, value: value)) }
    public func makeIterator() -> IndexingIterator<[Pair]> { pairs.makeIterator() }
}

/// One HTTP request as the OneRoster client sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: HTTPFields
    public var body: Data?

    public init(method: String, url: URL, headers: HTTPFields = [:], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// One HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPFields
    public var body: Data

    public init(status: Int, headers: HTTPFields = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The small seam between the OneRoster client and the network: tests, benchmarks and other
/// HTTP stacks plug in here. Throwing means no HTTP answer arrived (refused, dropped, timed out).
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A failure below HTTP: the request may or may not have reached the server.
public struct TransportFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
