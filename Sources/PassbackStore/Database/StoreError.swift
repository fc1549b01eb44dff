/// A store failure a caller can act on, by code.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The database was written by a newer Passback.
        case newerSchema
        /// A migration failed; the database is left at the previous version.
        case migrationFailed
        /// A row named by the caller does not exist.
        case notFound
        /// The data breaks a rule the database enforces.
        case constraint
        /// A cursor that this store did not make, or made for another ordering.
        case badCursor
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
