import Foundation

/// How the manifest says a file is delivered.
public enum CSVFileMode: String, Sendable, Hashable, CaseIterable {
    /// The complete set of records; `status` and `dateLastModified` may be empty.
    case bulk
    /// Changes only; every row carries `status` and `dateLastModified`, deletes are
    /// `status=tobedeleted`.
    case delta
    /// Not delivered.
    case absent
}

/// `manifest.csv`: the version and, per file, whether it is bulk, delta or absent.
public struct OneRosterCSVManifest: Sendable, Equatable {
    /// `manifest.version`, `1.0` in 1.1 exports.
    public var manifestVersion: String?
    /// `oneroster.version`; always `1.1` once read, since other versions are refused.
    public var oneRosterVersion: String
    /// `file.<name>` entries by name, such as `"users": .bulk`.
    public var files: [String: CSVFileMode]
    /// `source.systemName`.
    public var sourceSystemName: String?
    /// `source.systemCode`.
    public var sourceSystemCode: String?
    /// Every property as written, the ones above included.
    public var properties: [String: String]

    /// A manifest with the given contents.
    public init(
        manifestVersion: String? = "1.0", oneRosterVersion: String = "1.1", files: [String: CSVFileMode] = [:],
        sourceSystemName: String? = nil, sourceSystemCode: String? = nil, properties: [String: String] = [:]
    ) {
        self.manifestVersion = manifestVersion
        self.oneRosterVersion = oneRosterVersion
        self.files = files
        self.sourceSystemName = sourceSystemName
        self.sourceSystemCode = sourceSystemCode
        self.properties = properties
    }

    /// The mode of a file by its manifest name (`users`); a file the manifest does not list is absent.
    public func mode(of file: String) -> CSVFileMode { files[file] ?? .absent }

    static let fileName = "manifest.csv"

    /// Reads the manifest from its parsed rows.
    static func read(_ rows: [CSVParser.Row]) throws(OneRosterCSVError) -> OneRosterCSVManifest {
        func fail(_ line: Int?, column: String? = nil, _ message: String) -> OneRosterCSVError {
            OneRosterCSVError(file: fileName, line: line, column: column, message: message)
        }
        guard let header = rows.first else { throw fail(nil, "is empty; expected the header propertyName,value") }
        guard header.fields.map({ $0.trimmingCharacters(in: .whitespaces) }) == ["propertyName", "value"] else {
            throw fail(
                header.line,
                "the header must be propertyName,value, found \(header.fields.joined(separator: ","))")
        }
        var properties: [String: String] = [:]
        var lineOf: [String: Int] = [:]
        var order: [String] = []
        for row in rows.dropFirst() {
            guard row.fields.count == 2 else {
                throw fail(row.line, "has \(row.fields.count) fields; each row must be propertyName,value")
            }
            let name = row.fields[0].trimmingCharacters(in: .whitespaces)
            let value = row.fields[1].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw fail(row.line, column: "propertyName", "the property name is empty") }
            if let first = lineOf[name] {
                throw fail(row.line, column: "propertyName", "\(name) is given twice (first on line \(first))")
            }
            lineOf[name] = row.line
            properties[name] = value
            order.append(name)
        }

        guard let version = properties["oneroster.version"], !version.isEmpty else {
            throw fail(nil, "has no oneroster.version; a OneRoster 1.1 export says oneroster.version,1.1")
        }
        guard version == "1.1" else {
            let hint = version.hasPrefix("1.2") ? " (this looks like OneRoster 1.2)" : ""
            throw fail(
                lineOf["oneroster.version"], column: "value",
                "oneroster.version is \(version)\(hint); only OneRoster 1.1 CSV is supported")
        }

        var files: [String: CSVFileMode] = [:]
        for name in order where name.hasPrefix("file.") {
            let value = properties[name] ?? ""
            let file = String(name.dropFirst("file.".count))
            guard let mode = CSVFileMode(rawValue: value.lowercased()) else {
                throw fail(
                    lineOf[name], column: "value",
                    "\(name) is \"\(value)\"; it must be bulk, delta or absent")
            }
            files[file] = mode
        }
        func optional(_ key: String) -> String? {
            guard let v = properties[key], !v.isEmpty else { return nil }
            return v
        }
        return OneRosterCSVManifest(
            manifestVersion: optional("manifest.version"), oneRosterVersion: version, files: files,
            sourceSystemName: optional("source.systemName"), sourceSystemCode: optional("source.systemCode"),
            properties: properties)
    }
}
