import ArgumentParser
import Foundation
import PassbackGateway
import PassbackStore

/// `passback lti`: the LMSs (LTI 1.3 platforms) that may launch Passback, and its own key pair.
struct LTICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lti",
        abstract: "Register the LMSs that launch Passback (LTI 1.3), and rotate Passback's key pair.",
        subcommands: [Platform.self, Key.self])

    struct Platform: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register, list and remove LMS platforms.", subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Register a platform (or add deployments to one): a running server uses it at the next launch.")
            @OptionGroup var store: StoreOptions
            @Option(help: "The platform's issuer (iss), e.g. https://canvas.instructure.com.")
            var issuer: String
            @Option(help: "The client id the LMS gave Passback.")
            var clientId: String
            @Option(help: "A deployment id of Passback in the LMS (repeat for several).")
            var deploymentId: [String]
            @Option(help: "The platform's OIDC authorization URL.")
            var authUrl: String
            @Option(help: "The platform's public keys (JWKS) URL.")
            var jwksUrl: String
            @Option(help: "The platform's OAuth 2 token URL (for its services).")
            var tokenUrl: String?
            @Option(help: "The connection whose roster names the launching users (default: the only one).")
            var connection: String?
            @Option(help: "The org (district or school sourcedId) an Administrator's launch acts on.")
            var org: String?

            func run() async throws {
                let (_, database) = try await store.load()
                do {
                    let platform = try LTIStore(database).register(
                        LTIStore.Registration(
                            issuer: issuer, clientID: clientId, deploymentIDs: deploymentId, authURL: authUrl, jwksURL: jwksUrl, tokenURL: tokenUrl,
                            connectionID: connection, orgSourcedId: org), at: Date())
                    print(LTICommand.line(platform))
                } catch let refusal as LTIStore.Refusal {
                    throw CommandFailure(refusal.description)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the registered platforms.")
            @OptionGroup var store: StoreOptions

            func run() async throws {
                let (_, database) = try await store.load()
                for platform in try LTIStore(database).platforms() { print(LTICommand.line(platform)) }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a platform (by the id `list` shows), or one of its deployments.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The platform's id.")
            var id: Int64
            @Option(help: "Remove only this deployment.")
            var deploymentId: String?

            func run() async throws {
                let (_, database) = try await store.load()
                guard try LTIStore(database).remove(platform: id, deployment: deploymentId) else {
                    throw CommandFailure(deploymentId.map { "platform \(id) has no deployment '\($0)'" } ?? "no platform \(id); see passback lti platform list")
                }
            }
        }
    }

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Passback's LTI key pair.", subcommands: [Show.self, Rotate.self])

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print the key file's path and the ids of its keys (made if missing).")
            @OptionGroup var store: StoreOptions

            func run() async throws {
                let path = try await keyFile(store)
                print(path)
                for kid in try LTIKeyFile.keyIDs(path: path) { print(kid) }
            }
        }

        struct Rotate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make a new key; the previous one stays published until the next rotation.")
            @OptionGroup var store: StoreOptions

            func run() async throws {
                for kid in try LTIKeyFile.rotate(path: try await keyFile(store)) { print(kid) }
            }
        }

        static func keyFile(_ store: StoreOptions) async throws -> String {
            let (configuration, _) = try await store.load()
            return configuration.ltiKeyFile ?? LTIKeyFile.defaultPath(database: configuration.databasePath)
        }
    }

    static func line(_ p: LTIStore.Platform) -> String {
        "\(p.id)\t\(p.issuer)\tclient \(p.clientID)\tdeployments \(p.deploymentIDs.joined(separator: ","))\t\(p.connectionID)\(p.orgSourcedId.map { " org \($0)" } ?? "")\tauth \(p.authURL)\tjwks \(p.jwksURL)"
    }
}
