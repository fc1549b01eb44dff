import Foundation
import GraphQL

/// Parsed documents are immutable after parsing; these boxes let the cache share them.
struct DocumentBox: @unchecked Sendable {
    var value: Document
}

/// Parse and validation results by document text, least recently used out first.
final class DocumentCache: @unchecked Sendable {
    struct Entry {
        var document: DocumentBox?
        var errors: [GraphQLError]
        var parseFailed = false
    }

    private let lock = NSLock()
    private var entries: [String: (entry: Entry, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Whether `key` is held, without counting a hit or a miss.
    func contains(_ key: String) -> Bool { lock.withLock { entries[key] != nil } }

    func get(_ key: String) -> Entry? {
        lock.withLock {
            clock += 1
            guard var hit = entries[key] else {
                misses += 1
                return nil
            }
            hits += 1
            hit.used = clock
            entries[key] = hit
            return hit.entry
        }
    }

    func put(_ key: String, _ entry: Entry) {
        lock.withLock {
            clock += 1
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key { entries[oldest] = nil }
            entries[key] = (entry, clock)
        }
    }

    var stats: (hits: Int, misses: Int) { lock.withLock { (hits, misses) } }
}
