import GRDB
import GRDBSQLite

/// A statement prepared for one batch of rows and run once per row, its values bound straight
/// to SQLite. `StatementArguments` boxes every value of every row, which cost a large import
/// more than SQLite's own work; GRDB still runs the statement (``execute()``), so its errors
/// (a constraint's code and message) and its bookkeeping are those of any statement.
///
/// The statement is the batch's own (not from GRDB's cache, which other code reuses with
/// arguments of its own). Text values are copied into the statement's own buffer and bound
/// from there without SQLite copying them again (`SQLITE_STATIC`): a copy by SQLite is an
/// allocation per value, under its allocator's lock.
struct BatchStatement {
    /// The statement and the buffer its text values are bound from, released together: the
    /// bindings are cleared before the buffer is freed.
    private final class Storage {
        let statement: Statement
        let buffer: UnsafeMutablePointer<CChar>
        let capacity = 64 * 1024

        init(_ statement: Statement) {
            self.statement = statement
            buffer = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        }

        deinit {
            sqlite3_clear_bindings(statement.sqliteStatement)
            buffer.deallocate()
        }
    }

    private let storage: Storage
    private var statement: Statement { storage.statement }
    private var index: CInt = 0
    /// Bytes of `storage.buffer` holding values bound since ``begin()``.
    private var used = 0

    init(_ db: Database, sql: String) throws {
        storage = Storage(try db.makeStatement(sql: sql))
        // Marks the arguments as given, so `execute()` runs with the values bound here.
        let count = Int(sqlite3_bind_parameter_count(statement.sqliteStatement))
        statement.setUncheckedArguments(StatementArguments(Array(repeating: DatabaseValue.null, count: count)))
    }

    /// An import's statements, kept across its batches (a statement of 64 rows' values takes
    /// a while to prepare). Used inside one transaction, on its connection.
    final class Cache {
        var statements: [String: BatchStatement] = [:]
    }

    /// The cache's statement for `sql`, made if it has none.
    static func cached(_ db: Database, sql: String, in cache: Cache?) throws -> BatchStatement {
        if let statement = cache?.statements[sql] { return statement }
        return try fresh(db, sql: sql, in: cache)
    }

    /// A new statement for `sql`, replacing the cache's (after a failed step, which a reused
    /// statement would report again).
    static func fresh(_ db: Database, sql: String, in cache: Cache?) throws -> BatchStatement {
        let statement = try BatchStatement(db, sql: sql)
        cache?.statements[sql] = statement
        return statement
    }

    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Starts the next row: its values are bound in order by the `bind` calls that follow (the
    /// buffer's earlier contents are no longer bound once every parameter is bound again).
    mutating func begin() {
        sqlite3_reset(statement.sqliteStatement)
        index = 0
        used = 0
    }

    mutating func bind(_ text: String?) {
        index += 1
        guard var text else {
            sqlite3_bind_null(statement.sqliteStatement, index)
            return
        }
        text.withUTF8 { bytes in
            let code: CInt
            if bytes.count <= storage.capacity - used {
                // Stays put until the parameter is bound again, after the statement has run.
                let target = storage.buffer + used
                if let source = bytes.baseAddress, !bytes.isEmpty { UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: bytes.count) }
                used += bytes.count
                code = sqlite3_bind_text(statement.sqliteStatement, index, target, CInt(bytes.count), nil)
            } else {
                // A row longer than the buffer: SQLite copies the rest.
                code = sqlite3_bind_text(statement.sqliteStatement, index, bytes.baseAddress, CInt(bytes.count), Self.transient)
            }
            precondition(code == SQLITE_OK, "binding a text value failed (\(code))")
        }
    }

    mutating func bind(_ number: Int64?) {
        index += 1
        guard let number else {
            sqlite3_bind_null(statement.sqliteStatement, index)
            return
        }
        sqlite3_bind_int64(statement.sqliteStatement, index, number)
    }

    mutating func bind(_ number: Double?) {
        index += 1
        guard let number else {
            sqlite3_bind_null(statement.sqliteStatement, index)
            return
        }
        sqlite3_bind_double(statement.sqliteStatement, index, number)
    }

    mutating func bind(_ value: ColumnValue?) {
        switch value {
        case .text(let v)?: bind(v)
        case .integer(let v)?: bind(v)
        case .real(let v)?: bind(v)
        case nil: bind(nil as String?)
        }
    }

    /// Runs the statement with the values bound since ``begin()``.
    func execute() throws {
        precondition(Int(index) == Int(sqlite3_bind_parameter_count(statement.sqliteStatement)), "every parameter must be bound")
        try statement.execute()
    }

    /// Rows the last run changed (`Database.changesCount`, read without GRDB's checks per row).
    var changes: Int { Int(sqlite3_changes(sqlite3_db_handle(statement.sqliteStatement))) }

    /// The rowid the last insert made (`Database.lastInsertedRowID`).
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(sqlite3_db_handle(statement.sqliteStatement)) }

    /// Runs the statement (a query) with the values bound since ``begin()``: its first row.
    func fetchOne() throws -> Row? {
        precondition(Int(index) == Int(sqlite3_bind_parameter_count(statement.sqliteStatement)), "every parameter must be bound")
        return try Row.fetchOne(statement)
    }
}
