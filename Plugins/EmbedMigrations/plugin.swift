import Foundation
import PackagePlugin

/// Embeds the files under `Schema/` that a target reads at run time, so those files stay the
/// one source (ARCHITECTURE.md: `migrations/*.sql` is the store's contract, `schema.graphql`
/// the API's) and the binary needs no resource bundle beside it: the migrations into
/// `PassbackStore` as `EmbeddedMigrations`; the schema and the widget (`Clients/widget`) into
/// `PassbackGateway` as `EmbeddedSchema` and `EmbeddedWidget`; the GraphQL documents the widget
/// and `passbackctl` send (`Clients/*/documents/`) into `PassbackGateway` (the documents it
/// trusts) as `EmbeddedWidgetDocuments` and `EmbeddedCLIDocuments`, and `passbackctl`'s into
/// `passbackctl` as `EmbeddedDocuments`.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let schema = root.appending(path: "Schema")
        let widgetDocuments = try files(root.appending(path: "Clients/widget/documents"), extensions: ["graphql"])
        let cliDocuments = try files(root.appending(path: "Clients/cli/documents"), extensions: ["graphql"])
        if target.name == "passbackctl" {
            return [try command(context, name: "EmbeddedDocuments", files: cliDocuments)]
        }
        if target.name == "PassbackGateway" {
            let widget = root.appending(path: "Clients").appending(path: "widget")
            let widgetFiles = try FileManager.default.contentsOfDirectory(at: widget, includingPropertiesForKeys: nil)
                .filter { ["html", "css", "js", "svg"].contains($0.pathExtension) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            return [
                try command(context, name: "EmbeddedSchema", files: [schema.appending(path: "schema.graphql")]),
                try command(context, name: "EmbeddedWidget", files: widgetFiles),
                try command(context, name: "EmbeddedWidgetDocuments", files: widgetDocuments),
                try command(context, name: "EmbeddedCLIDocuments", files: cliDocuments)
            ]
        }
        let migrations = try FileManager.default.contentsOfDirectory(at: schema.appending(path: "migrations"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return [try command(context, name: "EmbeddedMigrations", files: migrations)]
    }

    /// A directory's files with one of `extensions`, by name.
    func files(_ directory: URL, extensions: Set<String>) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { extensions.contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func command(_ context: PluginContext, name: String, files: [URL]) throws -> Command {
        let output = context.pluginWorkDirectoryURL.appending(path: name + ".swift")
        return .buildCommand(
            displayName: "Embedding \(files.count) file(s) as \(name)",
            executable: try context.tool(named: "passback-embed-sql").url,
            arguments: [output.path, name] + files.map(\.path),
            inputFiles: files,
            outputFiles: [output]
        )
    }
}
