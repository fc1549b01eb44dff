import GRDB
import GRDBSQLite

/// A statement prepared for one batch of rows and run once per row, its values bound straight
/// to SQLite. `StatementArguments` boxes every value of every row, which cost a large import
/// more than SQLite's own work; GRDB still runs the statement (``execute()``), so its errors
/// (a constraint's code and message) and its bookkeeping are those of any statement.
///
/// The statement is the batch's own (not from GRDB's cache, which other code reuses with
/// arguments of its own).
struct BatchStatement {
    private let statement: Statement
    private var index: CInt = 0

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        // Marks the arguments as given, so `execute()` runs with the values bound here.
        let count = Int(sqlite3_bind_parameter_count(statement.sqliteStatement))
        statement.setUncheckedArguments(StatementArguments(Array(repeating: DatabaseValue.null, count: count)))
    }

    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Starts the next row: its values are bound in order by the `bind` calls that follow.
    mutating func begin() {
        sqlite3_reset(statement.sqliteStatement)
        index = 0
    }

    mutating func bind(_ text: String?) {
        index += 1
        guard var text else {
            sqlite3_bind_null(statement.sqliteStatement, index)
            return
        }
        text.withUTF8 { bytes in
            // An empty string's buffer may have no address; SQLite reads NULL as a null value.
            let code = bytes.isEmpty
                ? sqlite3_bind_text(statement.sqliteStatement, index, "", 0, Self.transient)
                : sqlite3_bind_text(statement.sqliteStatement, index, bytes.baseAddress, CInt(bytes.count), Self.transient)
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
