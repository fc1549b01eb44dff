import Foundation

/// A OneRoster 1.1 REST client: paged reads of every collection, single reads, and the
/// gradebook writes, over any `HTTPTransport`, with OAuth 1.0a or OAuth 2.
///
/// It never retries on its own except once after a 401 with a refreshable token: retry,
/// backoff and rate limiting are the sync worker's decisions, made from `OneRosterError.kind`.
public struct OneRosterClient: Sendable {
    /// Where the SIS is and how to page it.
    public struct Configuration: Sendable {
        /// The OneRoster root, e.g. `https://sis.example.org/ims/oneroster/v1p1` (vendors put
        /// their own prefix in front, so it is configuration, never derived).
        public var baseURL: URL
        /// `limit` sent when a query does not set one.
        public var pageSize: Int
        public var userAgent: String

        public init(baseURL: URL, pageSize: Int = 100, userAgent: String = "Passback OneRoster client") {
            self.baseURL = baseURL
            self.pageSize = pageSize
            self.userAgent = userAgent
        }
    }

    public let configuration: Configuration
    let transport: any HTTPTransport
    let authorizer: (any RequestAuthorizer)?

    public init(configuration: Configuration, transport: any HTTPTransport, authorizer: (any RequestAuthorizer)?) {
        self.configuration = configuration
        self.transport = transport
        self.authorizer = authorizer
    }

    /// The outcome of a successful PUT.
    public enum PutOutcome: Sendable, Hashable {
        /// 201: the SIS created the record.
        case created
        /// 200 or 204: the SIS replaced it.
        case replaced
    }

    /// Every page of a collection, fetched lazily as the loop asks.
    public func pages<T>(_ collection: CollectionPath<T>, query: ListQuery = ListQuery()) -> PageSequence<T> {
        PageSequence(client: self, collection: collection, query: query)
    }

    /// Every record of a collection; a record that does not fit the model fails the call
    /// (`pages` reports such records instead and goes on).
    public func list<T>(_ collection: CollectionPath<T>, query: ListQuery = ListQuery()) async throws -> [T] {
        var all: [T] = []
        for try await page in pages(collection, query: query) {
            if let bad = page.rejected.first {
                throw OneRosterError(
                    kind: .malformedResponse, operation: "GET \(collection.path)",
                    bodyExcerpt: "record at offset \(bad.offset): \(bad.reason)")
            }
            all.append(contentsOf: page.items)
        }
        return all
    }

    /// One record by `sourcedId`.
    public func get<T>(_ collection: CollectionPath<T>, id: String) async throws -> T {
        let path = collection.record(id)
        let response = try await send("GET", path: path, query: [])
        let operation = "GET \(path)"
        let object = try Self.unwrapSingle(response.body, key: T.singularKey, operation: operation)
        do { return try T(json: object) } catch {
            throw OneRosterError(kind: .malformedResponse, operation: operation, httpStatus: response.status, bodyExcerpt: error.description)
        }
    }

    /// Creates or replaces a category, line item or result under its `sourcedId`.
    @discardableResult
    public func put<T: GradebookWritable>(_ record: T) async throws -> PutOutcome {
        try await put(T.self, sourcedId: record.sourcedId, json: record.json)
    }

    /// The same, from the record's JSON as it was stored (the outbox keeps what it planned to
    /// send, and sends exactly that, without a round trip through the model).
    @discardableResult
    public func put<T: GradebookWritable>(_ type: T.Type, sourcedId: String, json: JSONObject) async throws -> PutOutcome {
        let body = JSONValue.object([T.singularKey: .object(json)]).serialized()
        let response = try await send("PUT", path: T.writePath.record(sourcedId), query: [], body: body)
        return response.status == 201 ? .created : .replaced
    }

    /// Deletes a category, line item or result. A 404 is reported as `.notFound`, so the
    /// caller decides whether "already gone" is success.
    public func delete<T: GradebookWritable>(_ type: T.Type, id: String) async throws {
        _ = try await send("DELETE", path: T.writePath.record(id), query: [])
    }

    /// Sends one request with credentials; retries once after a 401 if the authorizer can
    /// get fresh ones. Any non-2xx answer becomes a classified `OneRosterError`.
    func send(_ method: String, path: String, query: [(String, String)], body: Data? = nil) async throws -> HTTPResponse {
        var components = URLComponents(url: configuration.baseURL, resolvingAgainstBaseURL: false)!
        let basePath = components.percentEncodedPath.hasSuffix("/") ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath
        components.percentEncodedPath = basePath + "/" + path
        if !query.isEmpty { components.percentEncodedQuery = PercentEncoding.query(query) }
        guard let url = components.url else {
            throw OneRosterError(kind: .invalidData, operation: "\(method) \(path)", bodyExcerpt: "cannot build a URL")
        }
        let operation = "\(method) \(path)"
        var headers: HTTPFields = ["Accept": "application/json", "User-Agent": configuration.userAgent]
        if body != nil { headers["Content-Type"] = "application/json" }
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPRequest(method: method, url: url, headers: headers, body: body)
            try await authorizer?.authorize(&request)
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let e as OneRosterError {
                throw e
            } catch {
                throw OneRosterError(kind: .retryable, operation: operation, bodyExcerpt: "\(error)")
            }
            if (200..<300).contains(response.status) { return response }
            if response.status == 401, attempt == 1, let authorizer, await authorizer.credentialsRejected(request) { continue }
            throw OneRosterError(operation: operation, response: response)
        }
    }

    static func unwrapSingle(_ data: Data, key: String, operation: String) throws -> JSONObject {
        guard case .object(let root)? = try? JSONValue.parse(data) else {
            throw OneRosterError(kind: .malformedResponse, operation: operation, bodyExcerpt: ErrorBody.excerpt(data))
        }
        if case .object(let o)? = root[key] { return o }
        // Lenient: a single object under another key, or the bare object.
        let objects = root.values.compactMap(\.objectValue)
        if objects.count == 1, root.count == 1 { return objects[0] }
        if root["sourcedId"] != nil { return root }
        throw OneRosterError(kind: .malformedResponse, operation: operation, bodyExcerpt: "no \"\(key)\" object in the answer")
    }

    static func unwrapCollection(_ data: Data, key: String, operation: String) throws -> [JSONValue] {
        guard case .object(let root)? = try? JSONValue.parse(data) else {
            throw OneRosterError(kind: .malformedResponse, operation: operation, bodyExcerpt: ErrorBody.excerpt(data))
        }
        if case .array(let a)? = root[key] { return a }
        // Lenient: servers that wrap under another plural key (e.g. `users` for `/students`).
        let arrays = root.filter { $0.key != "statusInfoSet" }.values.compactMap(\.arrayValue)
        if arrays.count == 1 { return arrays[0] }
        if root.isEmpty || arrays.isEmpty { return [] }
        throw OneRosterError(kind: .malformedResponse, operation: operation, bodyExcerpt: "no \"\(key)\" list in the answer")
    }
}

/// A record of a page that does not fit the 1.1 model: the rest of the page is still read.
public struct RejectedRecord: Sendable, Hashable {
    /// Its position in the collection.
    public var offset: Int
    public var sourcedId: String?
    /// Which field is wrong and how.
    public var reason: String
}

/// One page of a collection.
public struct Page<Item: OneRosterObject>: Sendable {
    public var items: [Item]
    /// Records the server sent that could not be read; they are not in `items`.
    public var rejected: [RejectedRecord]
    /// Offset of the first item.
    public var offset: Int
    /// `X-Total-Count`, when the server sent it.
    public var totalCount: Int?
    /// Warnings the server put in the answer (a bad `sort` or `fields` comes back as 200 with one).
    public var warnings: [ErrorBody]
    /// The offset to resume from after this page.
    public var nextOffset: Int { offset + items.count + rejected.count }
}

/// The pages of a collection. Paging stops on an empty page, on reaching `X-Total-Count`, or
/// on a short page when the server gives neither a count nor a `next` link; it advances by
/// what actually arrived, so a server that caps `limit` below the request is still read whole.
public struct PageSequence<Item: OneRosterObject>: AsyncSequence, Sendable {
    public typealias Element = Page<Item>
    let client: OneRosterClient
    let collection: CollectionPath<Item>
    let query: ListQuery

    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, collection: collection, query: query, offset: query.startOffset)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let client: OneRosterClient
        let collection: CollectionPath<Item>
        let query: ListQuery
        var offset: Int
        var finished = false

        public mutating func next() async throws -> Page<Item>? {
            guard !finished else { return nil }
            let limit = query.pageSize ?? client.configuration.pageSize
            let operation = "GET \(collection.path)"
            let response = try await client.send("GET", path: collection.path, query: query.queryItems(limit: limit, offset: offset))
            let raw = try OneRosterClient.unwrapCollection(response.body, key: Item.pluralKey, operation: operation)
            var items: [Item] = []
            var rejected: [RejectedRecord] = []
            items.reserveCapacity(raw.count)
            for (i, value) in raw.enumerated() {
                guard case .object(let o) = value else {
                    rejected.append(RejectedRecord(offset: offset + i, sourcedId: nil, reason: "not a JSON object"))
                    continue
                }
                do { items.append(try Item(json: o)) } catch {
                    rejected.append(RejectedRecord(offset: offset + i, sourcedId: o["sourcedId"]?.stringValue, reason: error.description))
                }
            }
            let total = response.headers["X-Total-Count"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let hasNext = LinkHeader.parse(response.headers["Link"] ?? "").contains { $0.rel == "next" }
            let page = Page(items: items, rejected: rejected, offset: offset, totalCount: total, warnings: Self.warnings(response.body))
            let received = raw.count
            offset += received
            if received == 0 {
                finished = true
                return page.offset == query.startOffset ? page : nil
            }
            if let total {
                finished = offset >= total
            } else if !hasNext {
                finished = received < limit
            }
            return page
        }

        static func warnings(_ body: Data) -> [ErrorBody] {
            guard case .object(let root)? = try? JSONValue.parse(body), case .array(let infos)? = root["statusInfoSet"] else {
                return []
            }
            return infos.compactMap(ErrorBody.fromJSON)
        }
    }
}

/// RFC 8288 `Link` headers: `<url>; rel="next", <url>; rel="last"`.
public enum LinkHeader {
    /// One link.
    public struct Link: Sendable, Hashable {
        public var url: String
        public var rel: String
        public init(url: String, rel: String) {
            self.url = url
            self.rel = rel
        }
    }

    public static func parse(_ header: String) -> [Link] {
        var links: [Link] = []
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let url = String(rest[rest.index(after: open)..<close])
            let afterURL = rest[rest.index(after: close)...]
            let end = afterURL.firstIndex(of: "<") ?? afterURL.endIndex
            let params = afterURL[..<end]
            for p in params.split(separator: ";") {
                let kv = p.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2, kv[0].lowercased() == "rel" {
                    // The comma that separates links belongs to neither link.
                    let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: ", \t")).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    for rel in value.split(separator: " ") {
                        links.append(Link(url: url, rel: rel.lowercased()))
                    }
                }
            }
            rest = afterURL[end...]
        }
        return links
    }

    /// Formats links.
    public static func format(_ links: [Link]) -> String {
        links.map { "<\($0.url)>; rel=\"\($0.rel)\"" }.joined(separator: ", ")
    }
}
