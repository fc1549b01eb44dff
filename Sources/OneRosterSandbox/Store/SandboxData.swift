import Foundation
import OneRoster
import Synchronization

/// Every record the sandbox SIS holds, as JSON objects (what it serves), with the indexes its
/// nested endpoints need. Thread-safe; each change bumps a version that invalidates cached
/// query answers.
public final class SandboxData: Sendable {
    struct Table {
        var order: [String] = []
        var records: [String: JSONObject] = [:]

        mutating func upsert(_ id: String, _ record: JSONObject) -> Bool {
            let isNew = records.updateValue(record, forKey: id) == nil
            if isNew { order.append(id) }
            return isNew
        }

        mutating func remove(_ id: String) -> Bool {
            guard records.removeValue(forKey: id) != nil else { return false }
            order.removeAll { $0 == id }
            return true
        }

        var all: [JSONObject] { order.compactMap { records[$0] } }
    }

    struct State {
        var tables: [RecordKind: Table] = [:]
        var version = 0
        /// Bumped only when enrollments change, so gradebook writes keep the roster index.
        var enrollmentsVersion = 0
        var cache: [String: (version: Int, records: [JSONObject])] = [:]
        /// class sourcedId → (user sourcedId, role) of active enrollments.
        var rosterIndex: (version: Int, byClass: [String: [(user: String, role: String)]], byUser: [String: [String]])?
        var stats = WriteStats()
    }

    /// Counts of gradebook writes the sandbox accepted, for tests that check "exactly once".
    public struct WriteStats: Sendable, Equatable {
        public var created: [RecordKind: Int] = [:]
        public var replaced: [RecordKind: Int] = [:]
        public var deleted: [RecordKind: Int] = [:]
        /// PUTs accepted per (kind, sourcedId), as `lineItems/ID`.
        public var putsByRecord: [String: Int] = [:]
        /// Every PUT request that reached the gradebook, accepted or refused, per `kind/sourcedId`:
        /// what a client actually sent (a refused write costs the SIS a request too).
        public var putRequestsByRecord: [String: Int] = [:]
    }

    /// Counts a PUT request to `kind/id` before it is validated (`WriteStats.putRequestsByRecord`).
    public func countPutRequest(_ kind: RecordKind, _ id: String) {
        state.withLock { $0.stats.putRequestsByRecord["\(kind.rawValue)/\(id)", default: 0] += 1 }
    }

    private let state = Mutex(State())
    let clock: any WallClock

    public init(clock: any WallClock) { self.clock = clock }

    /// Loads a generated district (replacing nothing that is already there under other ids).
    public func load(_ district: District) {
        state.withLock { s in
            func put<T: OneRosterObject>(_ kind: RecordKind, _ items: [T]) {
                var t = s.tables[kind] ?? Table()
                t.order.reserveCapacity(t.order.count + items.count)
                t.records.reserveCapacity(t.records.count + items.count)
                for item in items { _ = t.upsert(item.sourcedId, item.json) }
                s.tables[kind] = t
            }
            put(.orgs, district.orgs)
            put(.academicSessions, district.academicSessions)
            put(.courses, district.courses)
            put(.classes, district.classes)
            put(.users, district.users)
            put(.enrollments, district.enrollments)
            put(.demographics, district.demographics)
            put(.categories, district.categories)
            s.version += 1
            s.enrollmentsVersion += 1
        }
    }

    /// One record.
    public func record(_ kind: RecordKind, _ id: String) -> JSONObject? {
        state.withLock { $0.tables[kind]?.records[id] }
    }

    /// One record decoded as its model.
    public func get<T: OneRosterObject>(_ type: T.Type, _ kind: RecordKind, _ id: String) -> T? {
        record(kind, id).flatMap { try? T(json: $0) }
    }

    /// Every record of a kind, in insertion order.
    public func all(_ kind: RecordKind) -> [JSONObject] {
        state.withLock { $0.tables[kind]?.all ?? [] }
    }

    /// How many records of a kind.
    public func count(_ kind: RecordKind) -> Int {
        state.withLock { $0.tables[kind]?.records.count ?? 0 }
    }

    /// Writes a record as the SIS would on a PUT: stamps `dateLastModified`, reports whether it
    /// was created.
    @discardableResult
    public func upsert(_ kind: RecordKind, _ record: JSONObject, countAsWrite: Bool = true) -> Bool {
        var record = record
        record["dateLastModified"] = .string(DateTime.format(clock.now))
        if record["status"] == nil { record["status"] = "active" }
        let id = record["sourcedId"]?.stringValue ?? ""
        return state.withLock { s in
            let isNew = s.tables[kind, default: Table()].upsert(id, record)
            s.version += 1
            if kind == .enrollments { s.enrollmentsVersion += 1 }
            if countAsWrite {
                if isNew { s.stats.created[kind, default: 0] += 1 } else { s.stats.replaced[kind, default: 0] += 1 }
                s.stats.putsByRecord["\(kind.rawValue)/\(id)", default: 0] += 1
            }
            return isNew
        }
    }

    /// Removes a record (DELETE); `false` if it was not there.
    @discardableResult
    public func delete(_ kind: RecordKind, _ id: String) -> Bool {
        state.withLock { s in
            let removed = s.tables[kind, default: Table()].remove(id)
            if removed {
                s.version += 1
                if kind == .enrollments { s.enrollmentsVersion += 1 }
                s.stats.deleted[kind, default: 0] += 1
            }
            return removed
        }
    }

    /// Changes a rostered record as an SIS user would, stamping `dateLastModified` now, so
    /// delta rostering has something to find.
    public func modify(_ kind: RecordKind, _ id: String, _ change: (inout JSONObject) -> Void) {
        guard var r = record(kind, id) else { return }
        change(&r)
        upsert(kind, r, countAsWrite: false)
    }

    /// Serves `record` in place of the record `id`, exactly as given, at the same position:
    /// a malformed record (a bad date, no sourcedId, an unknown status) of the kind a real SIS
    /// sometimes sends, for testing how a client takes it. Nothing is stamped or defaulted.
    public func inject(_ kind: RecordKind, replacing id: String, with record: JSONObject) {
        state.withLock { s in
            guard s.tables[kind]?.records[id] != nil else { return }
            s.tables[kind]?.records[id] = record
            s.version += 1
            if kind == .enrollments { s.enrollmentsVersion += 1 }
        }
    }

    /// Marks a record `tobedeleted`, as SIS products do instead of removing rostered data.
    public func markDeleted(_ kind: RecordKind, _ id: String) {
        modify(kind, id) { $0["status"] = "tobedeleted" }
    }

    /// Gradebook write counts so far.
    public var writeStats: WriteStats { state.withLock { $0.stats } }

    /// Active enrollments of a class: user id and role.
    func roster(ofClass id: String) -> [(user: String, role: String)] {
        withRosterIndex { $0.byClass[id] ?? [] }
    }

    /// Classes a user is actively enrolled in.
    func classes(ofUser id: String) -> [String] {
        withRosterIndex { $0.byUser[id] ?? [] }
    }

    private func withRosterIndex<R>(_ body: ((version: Int, byClass: [String: [(user: String, role: String)]], byUser: [String: [String]])) -> R) -> R {
        state.withLock { s in
            if let idx = s.rosterIndex, idx.version == s.enrollmentsVersion { return body(idx) }
            var byClass: [String: [(user: String, role: String)]] = [:]
            var byUser: [String: [String]] = [:]
            for e in s.tables[.enrollments]?.all ?? [] where e["status"]?.stringValue != "tobedeleted" {
                guard let c = e["class"]?.objectValue?["sourcedId"]?.stringValue,
                    let u = e["user"]?.objectValue?["sourcedId"]?.stringValue
                else { continue }
                byClass[c, default: []].append((u, e["role"]?.stringValue ?? ""))
                byUser[u, default: []].append(c)
            }
            let idx = (version: s.enrollmentsVersion, byClass: byClass, byUser: byUser)
            s.rosterIndex = idx
            return body(idx)
        }
    }

    /// The records of `kind` selected by `scope`, filtered and sorted, cached under `cacheKey`
    /// until the data changes (so paging a large collection does not rescan it per page).
    func query(kind: RecordKind, cacheKey: String, scope: (JSONObject) -> Bool, filter: Filter?, sort: (field: String, descending: Bool)?) -> [JSONObject] {
        let (version, cached): (Int, [JSONObject]?) = state.withLock { s in
            if let c = s.cache[cacheKey], c.version == s.version { return (s.version, c.records) }
            return (s.version, nil)
        }
        if let cached { return cached }
        var rows = all(kind).filter(scope)
        if let filter { rows = rows.filter { RecordQuery.matches($0, filter) } }
        if let sort { rows = RecordQuery.sort(rows, by: sort.field, descending: sort.descending) }
        state.withLock { s in
            if s.cache.count > 64 { s.cache.removeAll() }
            s.cache[cacheKey] = (version, rows)
        }
        return rows
    }
}

extension SandboxData {
    /// Marks a result as typed by hand in the SIS: later API writes to it get 409, as some SIS do.
    public func lockResult(_ id: String) {
        modify(.results, id) { r in
            var m = r["metadata"]?.objectValue ?? [:]
            m["lockedBySIS"] = true
            r["metadata"] = .object(m)
        }
    }
}
