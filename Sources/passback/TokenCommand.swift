import ArgumentParser
import Foundation
import PassbackCore
import PassbackStore

/// `passback token`: API tokens for teachers, admins and the LMS feed.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens (shown once, stored only as a hash).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The connection the user belongs to.")
        var connection: String
        @Option(help: "The user's sourcedId (a rostered teacher or admin; any name for integration).")
        var user: String
        @Option(help: "teacher, admin or integration.")
        var role: String
        @Option(help: "Admins: the org (district or school) whose subtree the token may read.")
        var org: String?
        @Option(help: "When it stops working: a number of days (30d) or a date (2027-06-30).")
        var expires: String?
        @Option(help: "A note to recognise the token by.")
        var label: String?

        func run() async throws {
            guard let role = Principal.Role(rawValue: role) else { throw ValidationError("--role must be teacher, admin or integration") }
            let (_, database) = try await store.load()
            let now = Date()
            var expiresAt: Date?
            if let expires {
                if expires.hasSuffix("d"), let days = Int(expires.dropLast()), days > 0 {
                    expiresAt = now.addingTimeInterval(Double(days) * 86_400)
                } else if let day = Timestamp.date(expires + "T00:00:00.000Z") {
                    expiresAt = day
                } else {
                    throw ValidationError("--expires must be a number of days such as 30d, or a date such as 2027-06-30")
                }
            }
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do {
                let (id, token) = try TokenStore(database).create(
                    connection: connection, user: user, role: role, org: org, expiresAt: expiresAt,
                    label: label, randomBytes: bytes, at: now)
                print(token)
                FileHandle.standardError.write(Data("token \(id) for \(role.rawValue) \(user) created; it is shown only now, keep it secret\n".utf8))
            } catch let refusal as TokenStore.Refusal {
                throw CommandFailure(refusal.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (_, database) = try await store.load()
            for t in try TokenStore(database).list() {
                let state =
                    t.revokedAt != nil ? "revoked" : t.expiresAt.map { $0 <= Date() ? "expired" : "expires \(Timestamp.text($0).prefix(10))" } ?? "active"
                print(
                    "\(t.id)\t\(t.prefix)…\t\(t.role.rawValue)\t\(t.connectionID)/\(t.userSourcedId)\(t.orgSourcedId.map { " org \($0)" } ?? "")\t\(state)\t\(t.origin == "lti" ? "lti " : "")\(t.label ?? "")"
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id or by the prefix shown in the list.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's id or prefix.")
        var token: String

        func run() async throws {
            let (_, database) = try await store.load()
            let n = try TokenStore(database).revoke(token, at: Date())
            guard n > 0 else { throw CommandFailure("no active token with id or prefix '\(token)'") }
            print("revoked \(n) token\(n == 1 ? "" : "s")")
        }
    }
}
