import Foundation
import PackagePlugin

/// Embeds the files under `Schema/` that a target reads at run time, so those files stay the
/// one source (ARCHITECTURE.md: `migrations/*.sql` is the store's contract, `schema.graphql`
/// the API's) and the binary needs no resource bundle beside it: the migrations into
/// `PassbackStore` as `EmbeddedMigrations`, the schema into `PassbackGateway` as `EmbeddedSchema`.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let schema = context.package.directoryURL.appending(path: "Schema")
        let name: String
        let files: [URL]
        if target.name == "PassbackGateway" {
            name = "EmbeddedSchema"
            files = [schema.appending(path: "schema.graphql")]
        } else {
            name = "EmbeddedMigrations"
            let folder = schema.appending(path: "migrations")
            files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: name + ".swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) file(s) as \(name)",
                executable: try context.tool(named: "passback-embed-sql").url,
                arguments: [output.path, name] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}
