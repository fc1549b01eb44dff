import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `passbackctl`: Passback from scripts, over the GraphQL API only.
@main
struct Passbackctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passbackctl",
        abstract: "Script Passback over its GraphQL API: category maps, status, syncs, plans, errors and runs.",
        discussion: """
            The gateway and token come from --url/--token or PASSBACK_URL/PASSBACK_TOKEN. Sections are given by \
            their SIS sourcedId or their API id. Exit status: 0 done, 1 refused or failed (the message says why), \
            2 bad usage, 3 not signed in, 4 a waited-for run did not fully succeed.
            """,
        subcommands: [
            Mappings.self, Status.self, Sync.self, Plan.self, Errors.self, Runs.self, Jobs.self, Retry.self, Discard.self, DefaultSchedule.self, RosterRuns.self
        ])
}

struct Connection: ParsableArguments {
    @Option(help: "The gateway (default: $PASSBACK_URL, else http://127.0.0.1:8080).")
    var url: String?
    @Option(help: "A Passback token (default: $PASSBACK_TOKEN).")
    var token: String?
    @Option(help: "Output: table, json or csv.")
    var format: Format = .table

    func api() throws -> API {
        let env = ProcessInfo.processInfo.environment
        let base = url ?? env["PASSBACK_URL"] ?? "http://127.0.0.1:8080"
        guard let u = URL(string: base), u.scheme == "http" || u.scheme == "https" else {
            throw ValidationError("--url must be an http(s) URL (got '\(base)')")
        }
        guard let t = token ?? env["PASSBACK_TOKEN"], !t.isEmpty else {
            // Not signed in (exit 3, as the discussion above says), not a usage mistake.
            throw CLIError("not signed in: give a token with --token or PASSBACK_TOKEN (create one with `passback token create`)", status: 3)
        }
        return API(url: u, token: t)
    }
}

extension Format: ExpressibleByArgument {}

/// Runs a command body, printing a CLIError and exiting with its status.
func perform(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as CLIError {
        FileHandle.standardError.write(Data("passbackctl: \(e.description)\n".utf8))
        throw ExitCode(e.status)
    }
}

func emit(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

// MARK: mappings

struct Mappings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Export or import a section's category map as CSV.", subcommands: [Export.self, Import.self])

    static let header = ["lms_category_id", "lms_category", "sis_category_id", "sis_category"]

    /// A section's title, LMS categories, SIS categories and saved map, each list every page of it.
    struct Section {
        var title: String
        var lms: [[String: Any]]
        var sis: [[String: Any]]
        var map: [[String: Any]]

        init(_ api: API, id: String) async throws {
            func list(_ document: String, _ field: String) async throws -> [[String: Any]] {
                try await api.all(document, ["id": id], path: ["section", field])
            }
            title = string(((try await api.run("SectionTitle", ["id": id]))["section"] as? [String: Any])?["title"])
            lms = try await list("SectionLmsCategories", "lmsCategories")
            sis = try await list("SectionSisCategories", "sisCategories")
            map = try await list("SectionCategoryMap", "categoryMap")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the map as CSV: one row per LMS category (an empty SIS category is unmapped).")
        @OptionGroup var connection: Connection
        @Option(help: "The section.") var section: String
        @Argument(help: "File to write (default: standard output).") var file: String?

        func run() async throws {
            try await perform {
                let api = try connection.api()
                let s = try await Section(api, id: try await api.sectionID(section))
                // Pages read one after another can repeat an item renamed in between: the first one read stands.
                let sis = Dictionary(s.sis.map { (string($0["id"]), $0) }, uniquingKeysWith: { first, _ in first })
                let mapped = Dictionary(
                    s.map.map {
                        (string(($0["lmsCategory"] as? [String: Any])?["id"]), string(($0["sisCategory"] as? [String: Any])?["id"]))
                    }, uniquingKeysWith: { first, _ in first })
                let rows = s.lms.map { c -> [String] in
                    let target = mapped[string(c["id"])].flatMap { sis[$0] }
                    return [string(c["id"]), string(c["title"]), target.map { string($0["id"]) } ?? "", target.map { string($0["title"]) } ?? ""]
                }
                let csv = Table(columns: Mappings.header, rows: rows).render(.csv)
                if let file {
                    try Data(csv.utf8).write(to: URL(fileURLWithPath: file))
                    FileHandle.standardError.write(Data("wrote \(rows.count) categories to \(file)\n".utf8))
                } else {
                    emit(csv)
                }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save the map from CSV. Every row is checked first: one bad row names its line and nothing is saved.",
            discussion: """
                Columns: lms_category_id or lms_category (title), and sis_category_id or sis_category (title or sourcedId); an empty SIS \
                category unmaps that LMS category. LMS categories the file does not list keep their mapping, unless --replace.
                """)
        @OptionGroup var connection: Connection
        @Option(help: "The section.") var section: String
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Unmap the LMS categories the file does not list (the file is then the whole map).") var replace = false

        func run() async throws {
            try await perform {
                let api = try connection.api()
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("cannot read \(file) as UTF-8 text") }
                let rows = try CSV.parse(text)
                guard let header = rows.first?.fields.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else { throw CLIError("\(file) is empty") }
                let lmsByID = header.firstIndex(of: "lms_category_id"), lmsByTitle = header.firstIndex(of: "lms_category")
                let sisByID = header.firstIndex(of: "sis_category_id"), sisByTitle = header.firstIndex(of: "sis_category")
                guard lmsByID != nil || lmsByTitle != nil, sisByID != nil || sisByTitle != nil else {
                    throw CLIError(
                        "line 1: the header needs lms_category_id or lms_category, and sis_category_id or sis_category (got \(header.joined(separator: ",")))")
                }
                let sectionID = try await api.sectionID(section)
                let s = try await Section(api, id: sectionID)
                let lms = s.lms, sis = s.sis
                var map: [[String: String]] = []
                var problems: [String] = []
                var seen: [String: Int] = [:]
                for (line, fields) in rows.dropFirst() {
                    func cell(_ i: Int?) -> String { i.flatMap { $0 < fields.count ? fields[$0].trimmingCharacters(in: .whitespaces) : nil } ?? "" }
                    let lmsKey = cell(lmsByID).isEmpty ? cell(lmsByTitle) : cell(lmsByID)
                    guard let category = lms.first(where: { string($0["id"]) == lmsKey || string($0["title"]).caseInsensitiveCompare(lmsKey) == .orderedSame })
                    else {
                        problems.append("line \(line): no LMS category '\(lmsKey)' in this section's course")
                        continue
                    }
                    let id = string(category["id"])
                    if let earlier = seen[id] {
                        problems.append("line \(line): LMS category '\(string(category["title"]))' is already mapped on line \(earlier)")
                        continue
                    }
                    seen[id] = line
                    let sisKey = cell(sisByID).isEmpty ? cell(sisByTitle) : cell(sisByID)
                    if sisKey.isEmpty { continue }
                    guard
                        let target = sis.first(where: {
                            string($0["id"]) == sisKey || string($0["sourcedId"]) == sisKey
                                || string($0["title"]).caseInsensitiveCompare(sisKey) == .orderedSame
                        })
                    else {
                        problems.append("line \(line): no SIS category '\(sisKey)' in this section's SIS")
                        continue
                    }
                    map.append(["lmsCategoryId": id, "sisCategoryId": string(target["id"])])
                }
                guard problems.isEmpty else { throw CLIError(problems.joined(separator: "\n") + "\nnothing was saved") }
                // A file that lists some categories changes those; the others keep what they had.
                var kept = 0
                if !replace {
                    for entry in s.map {
                        let lmsID = string((entry["lmsCategory"] as? [String: Any])?["id"]), sisID = string((entry["sisCategory"] as? [String: Any])?["id"])
                        guard !lmsID.isEmpty, !sisID.isEmpty, seen[lmsID] == nil else { continue }
                        map.append(["lmsCategoryId": lmsID, "sisCategoryId": sisID])
                        kept += 1
                    }
                }
                let data = try await api.run("SaveCategoryMap", ["i": ["sectionId": sectionID, "map": map]])
                _ = try API.check(data["saveCategoryMap"])
                emit(
                    "saved the category map of \(s.title): \(map.count) of \(lms.count) LMS categories mapped"
                        + (kept > 0 ? " (\(kept) not in the file kept their mapping; --replace unmaps them)" : "") + "\n")
            }
        }
    }
}

// MARK: status, sync, plan

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every material of a section with its sync status and problems.")
    @OptionGroup var connection: Connection
    @Option(help: "The section.") var section: String
    @Option(help: "Only these statuses (comma-separated, e.g. ERROR,UPDATES_AVAILABLE).") var status: String?

    /// The statuses `--status` takes (the API's `SyncStatus`).
    static let statuses = ["NOT_SYNCED", "IN_PROGRESS", "SUCCESSFUL", "UPDATES_AVAILABLE", "ERROR", "OPT_OUT"]

    func validate() throws {
        guard let status else { return }
        for given in status.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).uppercased() })
        where !Self.statuses.contains(given.replacingOccurrences(of: " ", with: "_")) {
            throw ValidationError("--status: '\(given)' is not a status; use one or more of \(Self.statuses.joined(separator: ", ")), comma-separated")
        }
    }

    func run() async throws {
        try await perform {
            let api = try connection.api()
            var filter: [String: Any] = [:]
            if let status {
                filter["status"] = status.split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: " ", with: "_")
                }
            }
            let nodes = try await api.all(
                "Materials", ["id": try await api.sectionID(section), "filter": filter], path: ["section", "materials"])
            let rows = nodes.map { m in
                [string(m["lmsId"]), string(m["title"]), string(m["dueDate"]), string(m["syncStatus"]), string(m["lastSyncedAt"]), problemText(m["problems"])]
            }
            emit(Table(columns: ["lms_id", "title", "due", "status", "last_synced", "problems"], rows: rows).render(connection.format, json: nodes))
        }
    }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sync a section's changes, or one material; --wait follows the run to its end.")
    @OptionGroup var connection: Connection
    @Option(help: "The section.") var section: String
    @Option(help: "Only this material (its LMS id).") var material: String?
    @Flag(help: "Wait until the run finishes; exit 4 unless it fully succeeded.") var wait = false

    func run() async throws {
        try await perform {
            let api = try connection.api()
            let sectionID = try await api.sectionID(section)
            var run: [String: Any]
            if let material {
                let nodes = try await api.all(
                    "MaterialIDs", ["id": sectionID], path: ["section", "materials"])
                guard let id = nodes.first(where: { string($0["lmsId"]) == material || string($0["id"]) == material })?["id"] else {
                    throw CLIError("no material '\(material)' in this section")
                }
                let data = try await api.run(
                    "SyncMaterial",
                    ["i": ["materialId": id]])
                run = try API.check(data["syncMaterial"])["run"] as? [String: Any] ?? [:]
            } else {
                let data = try await api.run(
                    "SyncChanges",
                    ["i": ["sectionId": sectionID]])
                run = try API.check(data["syncChanges"])["run"] as? [String: Any] ?? [:]
            }
            if wait {
                let deadline = Date().addingTimeInterval(600)
                while run["finishedAt"] == nil || run["finishedAt"] is NSNull {
                    guard Date() < deadline else { throw CLIError("the run is still going after 10 minutes; check it with `passbackctl runs`") }
                    try await Task.sleep(for: .milliseconds(300))
                    let data = try await api.run("SyncRun", ["id": string(run["id"])])
                    run = data["node"] as? [String: Any] ?? run
                }
            }
            let columns = ["run", "state", "items_sent", "items_failed", "items_skipped", "writes", "writes_ok", "writes_failed", "cause"]
            let row = [
                string(run["id"]), string(run["state"]), string(run["itemsSent"]), string(run["itemsFailed"]), string(run["itemsSkipped"]),
                string(run["jobsTotal"]), string(run["jobsSucceeded"]), string(run["jobsFailed"]), string(run["cause"])
            ]
            emit(Table(columns: columns, rows: [row]).render(connection.format, json: run))
            if wait, string(run["state"]) != "SUCCEEDED" { throw CLIError("the run ended \(string(run["state"])); see `passbackctl status`", status: 4) }
        }
    }
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "What syncing a section's changes would send, and which rules fail. Nothing is sent.")
    @OptionGroup var connection: Connection
    @Option(help: "The section.") var section: String

    func run() async throws {
        try await perform {
            let api = try connection.api()
            // The plan's items a page at a time (the dry run is worked out again for each page; it writes nothing).
            let input = ["sectionId": try await api.sectionID(section)]
            var plan: [String: Any] = [:], items: [[String: Any]] = [], after: Any = NSNull()
            while true {
                let data = try await api.run(
                    "PlanSync", ["i": input, "after": after])
                plan = try API.check(data["planSync"])
                let page = plan["items"] as? [String: Any] ?? [:]
                items += nodes(page)
                let info = page["pageInfo"] as? [String: Any]
                guard info?["hasNextPage"] as? Bool == true, let cursor = info?["endCursor"] as? String else { break }
                after = cursor
            }
            plan["items"] = items
            let rows = items.map { i in
                [
                    string((i["material"] as? [String: Any])?["lmsId"]), string((i["material"] as? [String: Any])?["title"]), string(i["decision"]),
                    string((i["writes"] as? [String: Any])?["totalCount"] ?? 0), problemText(i["problems"])
                ]
            }
            emit(Table(columns: ["lms_id", "title", "decision", "writes", "problems"], rows: rows).render(connection.format, json: plan))
            if connection.format == .table { emit("\(string(plan["writeCount"])) write(s) would go to the SIS; nothing was sent.\n") }
        }
    }
}

// MARK: errors, runs

struct Errors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Admins: items in error across your org, or counts grouped by code, school or teacher.")
    @OptionGroup var connection: Connection
    @Option(help: "Only this school (its SIS sourcedId or API id).") var org: String?
    @Option(help: "Group counts by code, school or teacher.") var groupBy: String?

    func run() async throws {
        try await perform {
            let api = try connection.api()
            var filter: [String: Any] = [:]
            if let org {
                let data = try await api.run("OrgBySourcedId", ["s": org])
                filter["schoolId"] = ((data["orgBySourcedId"] as? [String: Any])?["id"] as? String) ?? org
            }
            if let groupBy {
                guard ["code", "school", "teacher"].contains(groupBy.lowercased()) else {
                    throw CLIError("--group-by must be code, school or teacher", status: 2)
                }
                let groups = try await api.all(
                    "SyncErrorSummary", ["f": filter, "g": groupBy.uppercased()], path: ["syncErrorSummary"])
                emit(
                    Table(columns: [groupBy.lowercased(), "name", "errors"], rows: groups.map { [string($0["key"]), string($0["label"]), string($0["count"])] })
                        .render(connection.format, json: groups))
                return
            }
            let nodes = try await api.all(
                "SyncErrors", ["f": filter], path: ["syncErrors"])
            let rows = nodes.map { e in
                [
                    string(e["at"]), string((e["school"] as? [String: Any])?["name"]), string((e["section"] as? [String: Any])?["sourcedId"]),
                    string((e["material"] as? [String: Any])?["title"]), string(e["code"]), string(e["message"])
                ]
            }
            emit(Table(columns: ["at", "school", "section", "material", "code", "message"], rows: rows).render(connection.format, json: nodes))
        }
    }
}

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sync runs you may read, newest first.")
    @OptionGroup var connection: Connection
    @Option(help: "Only this section.") var section: String?
    @Option(help: "How many runs.") var limit = 20

    func run() async throws {
        try await perform {
            let api = try connection.api()
            var filter: [String: Any] = [:]
            if let section { filter["sectionId"] = try await api.sectionID(section) }
            let data = try await api.run(
                "SyncRuns", ["f": filter, "n": max(1, min(limit, 100))])
            let runs = (data["syncRuns"] as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
            let rows = runs.map { r in
                [
                    string(r["id"]), string(r["startedAt"]), string((r["section"] as? [String: Any])?["sourcedId"]), string(r["trigger"]),
                    string(r["startedBy"]), string(r["state"]),
                    "\(string(r["itemsSent"]))/\(string(r["itemsFailed"]))/\(string(r["itemsSkipped"]))",
                    "\(string(r["jobsSucceeded"]))/\(string(r["jobsFailed"]))"
                ]
            }
            emit(
                Table(columns: ["id", "started", "section", "trigger", "by", "state", "items sent/failed/skipped", "writes ok/failed"], rows: rows)
                    .render(connection.format, json: runs))
        }
    }
}
