import Foundation
import GraphQL
import PassbackCore
import PassbackStore

// The Swift values behind the API's object types. A value made by a list carries the keys of
// its siblings (`batch`), so its child fields load for the whole list at once.

struct SectionValue: NodeValue {
    static let typeName = "Section"
    var row: SectionSummary
    var batch: [Int64]
    /// Whether it is configured, when read with the section (`Query.section`); else loaded.
    var configured: Bool? = nil
    var id: String { GlobalID.make(Self.typeName, row.id) }
}

struct MaterialValue: NodeValue {
    static let typeName = "Material"
    var row: SectionMaterial
    var classID: Int64
    var batch: [MaterialKey]
    /// The LMS categories of the siblings, loaded together.
    var categoryBatch: [Int64] = []
    var key: MaterialKey { MaterialKey(materialID: row.id, classID: classID) }
}

struct OrgValue: NodeValue {
    static let typeName = "Org"
    var row: OrgRecord
}

/// A person the viewer may see: made only by `APIContext.users`, which decides whether the
/// email is shown too.
struct UserValue: NodeValue {
    static let typeName = "User"
    var row: PersonRecord
    var showsEmail: Bool
}

struct SessionValue: NodeValue {
    static let typeName = "AcademicSession"
    var row: SessionRecord
}

struct SISCategoryValue: NodeValue {
    static let typeName = "SisCategory"
    var row: SISCategoryRecord
}

struct LMSCourseValue: NodeValue {
    static let typeName = "LmsCourse"
    var row: LMSCourseRecord
    var batch: [Int64]
}

struct LMSCategoryValue: NodeValue {
    static let typeName = "LmsCategory"
    var row: LMSCategoryRecord
}

struct GradeValue: NodeValue {
    static let typeName = "Grade"
    var row: GradeRecord
    var batch: [String]
}

struct SyncRunValue: NodeValue {
    static let typeName = "SyncRun"
    var row: SyncRunRecord
    var batch: [Int64]
    /// The sections of the siblings.
    var sectionBatch: [Int64] = []
    /// Who started the siblings (user sourcedIds), read together.
    var startedByBatch: [String] = []
}

struct RosterRunValue: NodeValue {
    static let typeName = "RosterRun"
    var row: RosterRequest
}

struct SyncJobValue: NodeValue {
    static let typeName = "SyncJob"
    var row: JobRecord
}

struct AttemptValue: Sendable {
    var row: AuditRecord
}

struct SyncErrorValue: Sendable {
    var row: SyncErrorRow
    var batch: [MaterialKey]
    var schoolBatch: [String]
}

struct ViewerValue: Sendable {}

/// A page of any connection type: `edges`, `nodes`, `pageInfo`, `totalCount`.
struct PageValue: Sendable {
    var nodes: [any Sendable]
    /// The cursor of the `i`th node, made only when asked for: most pages are read for their
    /// `nodes` and `totalCount` alone, and `pageInfo` wants the first and last cursor only.
    let cursorAt: @Sendable (Int) -> String
    var hasNextPage: Bool
    var hasPreviousPage: Bool
    var totalCount: Int

    /// Every node's cursor (`edges`).
    var cursors: [String] { nodes.indices.map(cursorAt) }
    var startCursor: String? { nodes.isEmpty ? nil : cursorAt(0) }
    var endCursor: String? { nodes.isEmpty ? nil : cursorAt(nodes.count - 1) }

    init<Item>(_ page: KeysetPage<Item>, total: Int, after: String?, map: ([Item]) -> [any Sendable]) {
        nodes = map(page.items)
        cursorAt = page.cursor
        hasNextPage = page.hasNextPage
        hasPreviousPage = after != nil
        totalCount = total
    }

    /// The first page of an empty list.
    static let empty = PageValue(nodes: [], cursorAt: { _ in "" }, hasNextPage: false, hasPreviousPage: false, totalCount: 0)

    private init(nodes: [any Sendable], cursorAt: @escaping @Sendable (Int) -> String, hasNextPage: Bool, hasPreviousPage: Bool, totalCount: Int) {
        self.nodes = nodes
        self.cursorAt = cursorAt
        self.hasNextPage = hasNextPage
        self.hasPreviousPage = hasPreviousPage
        self.totalCount = totalCount
    }

    /// A page of a list paged in memory, its cursors made from its items' keys when asked for.
    init<Item>(_ slice: ListSlice<Item>, after: String?, map: ([Item]) -> [any Sendable]) {
        nodes = map(slice.items)
        let (keys, ordering) = (slice.keys, slice.ordering)
        cursorAt = { ListSlice<Item>.cursor(ordering: ordering, key: keys[$0]) }
        hasNextPage = slice.hasNextPage
        hasPreviousPage = after != nil
        totalCount = slice.total
    }
}

extension PageValue {
    /// A connection over a list a loader reads whole (short by nature: a section's teachers or
    /// categories, a material's problems, a plan's items), paged here by `first` and `after` on
    /// `key`, so an answer holds at most `first` items and costs what it was priced at.
    static func list<Item: Sendable>(
        _ items: [Item], _ args: Map, ordering: String, defaultFirst: Int = QueryLimits().defaultFirst,
        key: (Item) -> ListKey, map: ([Item]) -> [any Sendable]
    ) throws -> PageValue {
        let first = try pageSize(args, default: defaultFirst)
        let after = args.argument("after").nonNullString
        // Most lists of this kind are empty or hold one item (an item's problems): nothing to
        // sort (`first` is at least 1, so one item is a whole page).
        if items.isEmpty, after == nil { return .empty }
        if items.count == 1, after == nil {
            let only = key(items[0])
            return PageValue(
                nodes: map(items), cursorAt: { _ in ListSlice<Item>.cursor(ordering: ordering, key: only) }, hasNextPage: false,
                hasPreviousPage: false, totalCount: 1)
        }
        do {
            return PageValue(try ListSlice(items, first: first, after: after, ordering: ordering, key: key), after: after, map: map)
        } catch let e as StoreError where e.code == .badCursor {
            throw APIError.badInput(e.message)
        }
    }

    /// A list of problems as a connection: errors first, then by code, student and field.
    static func problems(_ problems: [Problem], _ args: Map, ordering: String) throws -> PageValue {
        try list(
            problems, args, ordering: ordering, defaultFirst: QueryLimits.smallerPages["problems"] ?? QueryLimits().defaultFirst,
            key: { p in
                ListKey([p.severity == .error ? "0" : "1", p.code.rawValue, p.studentSourcedId ?? "", p.field ?? ""].joined(separator: "\u{0}"), p.message)
            }
        ) { problemValues($0) }
    }
}

/// An item of a list a payload holds whole, with the key its connection pages it by.
struct Keyed: Sendable {
    var key: ListKey
    var value: any Sendable

    init(_ key: ListKey, _ value: any Sendable) {
        self.key = key
        self.value = value
    }
}

struct EdgeValue: Sendable {
    var cursor: String
    var node: any Sendable
}

/// The API's view of a problem.
/// Problems as the API shows them; each carries the students its siblings name (`batch`), so their
/// people load in one query, not one per problem.
func problemValues(_ problems: [Problem]) -> [[String: any Sendable]] {
    let students = Array(Set(problems.compactMap(\.studentSourcedId)))
    return problems.map {
        var value = problemValue($0)
        value["batch"] = students
        return value
    }
}

func problemValue(_ p: Problem) -> [String: any Sendable] {
    [
        "code": p.code.rawValue, "severity": p.severity == .error ? "ERROR" : "WARNING", "message": p.message, "field": p.field,
        "studentSourcedId": p.studentSourcedId
    ]
}

func userErrorValue(_ e: UserError) -> [String: any Sendable] {
    ["field": e.field, "message": e.message, "code": e.code.rawValue]
}

/// Reading arguments.
extension Map {
    /// The argument `name` of an arguments object: what `self[name]` gives (`.null` when absent),
    /// without the index path that subscript builds for each read (a page's every item pages its
    /// problems by `first` and `after`).
    func argument(_ name: String) -> Map {
        if case .dictionary(let arguments) = self { return arguments[name] ?? .null }
        return .null
    }

    var nonNullString: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var nonNullInt: Int? {
        switch self {
        case .number(let n): return n.intValue
        default: return nil
        }
    }

    var nonNullBool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var nonNullDouble: Double? {
        if case .number(let n) = self { return n.doubleValue }
        return nil
    }

    var list: [Map]? {
        if case .array(let a) = self { return a }
        return nil
    }

    var isAbsent: Bool { isNull || isUndefined }
}

/// `first` between 1 and 100 (API.md, convention 3).
func pageSize(_ args: Map, default value: Int = 50) throws -> Int {
    let first = args.argument("first").nonNullInt ?? value
    guard (1...100).contains(first) else { throw APIError.badInput("first must be between 1 and 100 (got \(first))") }
    return first
}
