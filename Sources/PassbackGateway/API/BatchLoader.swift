import Foundation

/// A per-request batch loader (API.md, convention 11). A list resolver hands each of its rows
/// the keys of all its siblings; the first row whose child field is resolved loads the
/// children of every sibling in one query, and the others find them cached. The batch is
/// known from the parent list, not guessed from timing, so the count of queries is exact:
/// one per child field per level.
///
/// A cached key is answered at once, under a lock, without a suspension: the planned executor
/// completes a list's rows one after another, and every row after the first finds its value
/// here, so a page costs no thread hop per row. The caller that finds a key missing fetches
/// in its own task (on the request's lane of the execution pool, where `executor` says);
/// callers that arrive meanwhile (GraphQLSwift runs siblings at once) wait for that fetch.
final class BatchLoader<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    typealias Fetch = @Sendable ([Key]) async throws -> [Key: Value]

    /// A loaded key: its value, or known to be missing.
    private enum Slot {
        case found(Value)
        case missing
    }

    /// A fetch under way, which callers that need one of its keys wait on.
    private final class Pending: @unchecked Sendable {
        private let lock = NSLock()
        private var finished: (any Error)??
        private var waiters: [CheckedContinuation<Void, any Error>] = []

        func wait() async throws {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let done: (any Error)?? = lock.withLock {
                    if finished == nil { waiters.append(continuation) }
                    return finished
                }
                switch done {
                case nil: break
                case .some(nil): continuation.resume()
                case .some(.some(let error)): continuation.resume(throwing: error)
                }
            }
        }

        func finish(_ error: (any Error)?) {
            let waiting = lock.withLock {
                finished = .some(error)
                defer { waiters = [] }
                return waiters
            }
            for w in waiting {
                if let error { w.resume(throwing: error) } else { w.resume() }
            }
        }
    }

    private enum Step {
        case answer(Value?)
        case wait(Pending)
        case fetch(Pending, [Key])
    }

    private let lock = NSLock()
    private var cache: [Key: Slot] = [:]
    private var inFlight: Pending?
    private let fetch: Fetch
    /// Where fetches run: the request's lane of the execution pool, so their SQLite reads stay
    /// off the cooperative pool whoever calls; nil for a short query run where it arrived.
    private let executor: (any TaskExecutor)?
    /// How many fetches ran (tests read it to prove there is no N+1).
    private var fetched = 0
    var fetches: Int { lock.withLock { fetched } }

    init(executor: (any TaskExecutor)? = nil, _ fetch: @escaping Fetch) {
        self.executor = executor
        self.fetch = fetch
    }

    /// The value of `key`, loading `key` and every uncached key of `batch` together.
    /// Values read with something else (a page's items' problems, read with the page): a later
    /// `load` of these keys answers from them without a fetch. Keys already loaded keep their value.
    func prime(_ values: [Key: Value]) {
        lock.withLock {
            for (key, value) in values where cache[key] == nil { cache[key] = .found(value) }
        }
    }

    func load(_ key: Key, batch: [Key] = []) async throws -> Value? {
        while true {
            let step: Step = lock.withLock {
                switch cache[key] {
                case .found(let value)?: return .answer(value)
                case .missing?: return .answer(nil)
                case nil: break
                }
                if let running = inFlight { return .wait(running) }
                var seen = Set<Key>()
                let keys = (batch.filter { cache[$0] == nil } + [key]).filter { seen.insert($0).inserted }
                let pending = Pending()
                inFlight = pending
                fetched += 1
                return .fetch(pending, keys)
            }
            switch step {
            case .answer(let value):
                return value
            case .wait(let pending):
                try await pending.wait()
            case .fetch(let pending, let keys):
                do {
                    let fetch = self.fetch
                    let got = try await withTaskExecutorPreference(executor) { try await fetch(keys) }
                    lock.withLock {
                        for k in keys { cache[k] = got[k].map(Slot.found) ?? .missing }
                        inFlight = nil
                    }
                    pending.finish(nil)
                } catch {
                    lock.withLock { inFlight = nil }
                    pending.finish(error)
                    throw error
                }
            }
        }
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
