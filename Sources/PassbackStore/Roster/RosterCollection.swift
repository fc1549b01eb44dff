/// The OneRoster collections an import reads: the ones the cache holds (``cached``), in the
/// order a pull takes them (parents first, so a first full pull rarely holds a dangling
/// reference), and `demographics`, which a CSV zip may carry: read and checked so its bad rows
/// are reported under their own name, never stored.
public enum RosterCollection: String, Sendable, CaseIterable, Hashable, Codable {
    case orgs, academicSessions, courses, classes, users, enrollments, categories, demographics

    /// The collections the cache holds, in pull order.
    public static let cached: [RosterCollection] = [.orgs, .academicSessions, .courses, .classes, .users, .enrollments, .categories]

    /// Whether the cache has a table for it.
    public var isCached: Bool { self != .demographics }

    /// The table holding it (`demographics` has none: a query on it fails with "no such table").
    public var table: String {
        switch self {
        case .orgs: "org"
        case .academicSessions: "academic_session"
        case .courses: "course"
        case .classes: "class"
        case .users: "person"
        case .enrollments: "enrollment"
        case .categories: "sis_category"
        case .demographics: "demographics"
        }
    }

    /// The table listing a multi-valued reference (a class's terms, a person's orgs).
    var childTable: (table: String, parentColumn: String, valueColumn: String)? {
        switch self {
        case .classes: ("class_term", "class_id", "term_sourced_id")
        case .users: ("person_org", "person_id", "org_sourced_id")
        default: nil
        }
    }
}

/// `status` of a rostered row.
public enum RosterStatus: String, Sendable, Hashable, Codable {
    case active
    case toBeDeleted = "tobedeleted"
}

/// What every rostered row carries.
public struct RosterHeader: Sendable, Hashable {
    public var sourcedId: String
    public var status: RosterStatus
    public var dateLastModified: String?
    /// The SIS's `metadata` object as JSON text.
    public var metadata: String?
    /// Digest of the record's content as the SIS sent it.
    public var fingerprint: String

    public init(sourcedId: String, status: RosterStatus, dateLastModified: String?, metadata: String?, fingerprint: String) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.fingerprint = fingerprint
    }
}

/// A value for a table-specific column.
public enum ColumnValue: Sendable, Hashable {
    case text(String?)
    case integer(Int64?)
    case real(Double?)
}

/// One rostered record ready to store: its header, its own columns, and its multi-valued
/// references. Built by the roster importer from OneRoster records, so the store knows
/// nothing of the wire.
///
/// The columns are kept as two parallel arrays in name order (``names``, ``values``), so a row
/// is stored, compared and fingerprinted without hashing its column names; ``columns`` gives
/// them as a dictionary.
public struct RosterRow: Sendable, Hashable {
    public var collection: RosterCollection
    public var header: RosterHeader
    /// Names of the table-specific columns, in ascending order.
    public private(set) var names: [String]
    /// Their values, in the order of ``names``.
    public private(set) var values: [ColumnValue]
    /// Values of the child table (term sourcedIds of a class, org sourcedIds of a person).
    public var children: [String]

    public init(collection: RosterCollection, header: RosterHeader, columns: [String: ColumnValue], children: [String] = []) {
        self.collection = collection
        self.header = header
        self.children = children
        names = []
        values = []
        self.columns = columns
    }

    /// A row whose columns are given in name order: `names` ascending (as
    /// `columns.keys.sorted()` gives them), `values` parallel. A mapping that builds many rows
    /// of one table shares one `names` array among them.
    public init(collection: RosterCollection, header: RosterHeader, names: [String], values: [ColumnValue], children: [String] = []) {
        precondition(names.count == values.count, "values must be parallel to names")
        assert(zip(names, names.dropFirst()).allSatisfy { $0 < $1 }, "names must be in ascending order")
        self.collection = collection
        self.header = header
        self.names = names
        self.values = values
        self.children = children
    }

    /// Table-specific columns, by name.
    public var columns: [String: ColumnValue] {
        get { Dictionary(uniqueKeysWithValues: zip(names, values)) }
        set {
            let sorted = newValue.sorted { $0.key < $1.key }
            names = sorted.map(\.key)
            values = sorted.map(\.value)
        }
    }

    /// The value of one column, if the row has it.
    public subscript(column name: String) -> ColumnValue? {
        for i in names.indices where names[i] == name { return values[i] }
        return nil
    }
}

/// What applying rows did.
public struct RosterCounts: Sendable, Hashable, Codable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var deleted = 0
    public var rejected = 0

    public init() {}

    public static func + (a: RosterCounts, b: RosterCounts) -> RosterCounts {
        var c = a
        c.created += b.created
        c.updated += b.updated
        c.unchanged += b.unchanged
        c.deleted += b.deleted
        c.rejected += b.rejected
        return c
    }
}

/// A row an import could not take.
public struct RosterReject: Sendable, Hashable, Codable {
    public var collection: RosterCollection
    public var sourcedId: String?
    /// Where it came from: `users.csv line 12, column role`, or `GET users offset 340`.
    public var location: String
    public var reason: String

    public init(collection: RosterCollection, sourcedId: String?, location: String, reason: String) {
        self.collection = collection
        self.sourcedId = sourcedId
        self.location = location
        self.reason = reason
    }
}
