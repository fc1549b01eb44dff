import Foundation

/// A per-request batch loader (API.md, convention 11). A list resolver hands each of its rows
/// the keys of all its siblings; the first row whose child field is resolved loads the
/// children of every sibling in one query, and the others find them cached. The batch is
/// known from the parent list, not guessed from timing, so the count of queries is exact:
/// one per child field per level.
actor BatchLoader<Key: Hashable & Sendable, Value: Sendable> {
    typealias Fetch = @Sendable ([Key]) async throws -> [Key: Value]

    /// A loaded key: its value, or known to be missing.
    private enum Slot {
        case found(Value)
        case missing
    }

    private var cache: [Key: Slot] = [:]
    /// The fetch under way, if any: every caller that waits on it stores its answer, so no
    /// caller depends on another being scheduled first.
    private var inFlight: (id: Int, keys: [Key], task: Task<[Key: Value], any Error>)?
    private let fetch: Fetch
    /// Where fetches run: the request's lane of the execution pool, so their SQLite reads stay
    /// off the cooperative pool (an unstructured task does not inherit a task executor preference).
    private let executor: (any TaskExecutor)?
    /// How many fetches ran (tests read it to prove there is no N+1).
    private(set) var fetches = 0

    init(executor: (any TaskExecutor)? = nil, _ fetch: @escaping Fetch) {
        self.executor = executor
        self.fetch = fetch
    }

    /// The value of `key`, loading `key` and every uncached key of `batch` together.
    func load(_ key: Key, batch: [Key] = []) async throws -> Value? {
        while true {
            switch cache[key] {
            case .found(let value)?: return value
            case .missing?: return nil
            case nil: break
            }
            if let running = inFlight {
                let got = try await running.task.value
                absorb(running.id, running.keys, got)
                continue
            }
            var seen = Set<Key>()
            let keys = (batch.filter { cache[$0] == nil } + [key]).filter { seen.insert($0).inserted }
            let fetch = self.fetch
            let task = Task<[Key: Value], any Error>(executorPreference: executor) { @Sendable [fetch, keys] in try await fetch(keys) }
            fetches += 1
            let id = fetches
            inFlight = (id, keys, task)
            do {
                absorb(id, keys, try await task.value)
            } catch {
                if inFlight?.id == id { inFlight = nil }
                throw error
            }
        }
    }

    private func absorb(_ id: Int, _ keys: [Key], _ got: [Key: Value]) {
        guard inFlight?.id == id else { return }
        for k in keys { cache[k] = got[k].map(Slot.found) ?? .missing }
        inFlight = nil
    }
}

/// The loaders of one request, made on first use by name.
final class LoaderRegistry: @unchecked Sendable {
    private let lock = NSLock()
    let executor: (any TaskExecutor)?

    init(executor: (any TaskExecutor)? = nil) { self.executor = executor }

    private var loaders: [String: any Sendable] = [:]

    func loader<Key: Hashable & Sendable, Value: Sendable>(_ name: String, _ fetch: @escaping BatchLoader<Key, Value>.Fetch) -> BatchLoader<Key, Value> {
        lock.lock()
        defer { lock.unlock() }
        if let existing = loaders[name] as? BatchLoader<Key, Value> { return existing }
        let made = BatchLoader<Key, Value>(executor: executor, fetch)
        loaders[name] = made
        return made
    }

    /// Drops every loader and what it loaded, so the next read fetches afresh (a subscription's
    /// context serves one event after another; each must see the database as it is then).
    func forgetLoaded() { lock.withLock { loaders.removeAll() } }

    /// Fetches made by all loaders so far.
    func totalFetches() async -> Int {
        let all: [any Sendable] = lock.withLock { Array(loaders.values) }
        var n = 0
        for l in all {
            if let counted = l as? any FetchCounting { n += await counted.fetchCount() }
        }
        return n
    }
}

protocol FetchCounting: Sendable {
    func fetchCount() async -> Int
}

extension BatchLoader: FetchCounting {
    func fetchCount() async -> Int { fetches }
}
