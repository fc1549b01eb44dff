import ArgumentParser
import Foundation
import Logging
import PassbackGateway
import PassbackStore
import PassbackSync

/// `passback serve`: the HTTP server, the outbox worker and the scheduler in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Serve Passback: HTTP (GraphQL at /graphql, live updates at /graphql/stream, /healthz, /metrics), the outbox worker and the scheduler, in one service group.",
        discussion: "SIGTERM or Ctrl-C stops the scheduler, lets writes in flight finish, releases the rest, then stops the server.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080
    @Option(help: "Seconds a connection may send nothing before it is closed (a response being written, such as a live stream, is never cut).")
    var idleTimeout = 60

    func validate() throws {
        guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be 1 second or more") }
    }

    func run() async throws {
        let (config, database) = try await store.load()
        let gateway = try Gateway(config, database: database, server: .init(host: host, port: port, idleTimeout: .seconds(idleTimeout)))
        let host = self.host, connections = config.connections.count
        let group = gateway.serviceGroup { port in
            FileHandle.standardOutput.write(
                Data(
                    "Passback is serving on http://\(host):\(port) (GraphQL at /graphql, live updates at /graphql/stream, /healthz, /metrics \(config.metricsToken == nil ? "off: no metricsToken" : "with the metrics token")); \(connections) connection(s)\n"
                        .utf8))
        }
        try await group.run()
    }
}
