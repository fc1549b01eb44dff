import ArgumentParser
import Foundation
import Logging
import OneRoster
import OneRosterSandbox
import ServiceLifecycle

/// `passback sandbox`: a OneRoster 1.1 SIS with a generated district, for trying the whole
/// flow before touching a real SIS.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the built-in OneRoster 1.1 sandbox SIS on loopback.",
        discussion: """
            Serves a deterministic generated district (orgs, terms, grading periods, courses, classes, \
            people, enrollments, SIS categories) with every OneRoster 1.1 rostering and gradebook endpoint.

            Faults: --faults 429=0.1,403=0.05,500=0.05,503=0.05,slow=0.1:200,drop=0.02,retry-after=2
            Quirks: --quirks \(SandboxQuirks.names.joined(separator: ","))
            """
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8085

    @Option(help: "Address to bind. Keep it on loopback unless you mean to expose it.")
    var host = "127.0.0.1"

    @Option(
        help:
            "District size: small, district (50,000 students, 2,500 sections), secondary (50,000 students in 8,000 sections, four each), or a number of students."
    )
    var size = "small"

    @Option(help: "Seed of the generated district: the same seed gives the same records.")
    var seed: UInt64 = 1

    @Option(help: "Authentication: oauth2, oauth1 or none.")
    var auth = "oauth2"

    @Option(help: "Client id (OAuth 2) or consumer key (OAuth 1.0a).")
    var clientId = "passback-sandbox"

    @Option(help: "Client secret (OAuth 2) or consumer secret (OAuth 1.0a).")
    var clientSecret = "sandbox-secret"

    @Option(help: "Seconds an OAuth 2 token lives.")
    var tokenLifetime = 3600

    @Option(help: "Most records per page, whatever limit asks.")
    var maxPageSize = 1000

    @Option(help: "Fractions of requests to fail, e.g. 429=0.1,500=0.05,drop=0.02.")
    var faults = ""

    @Option(help: "Vendor quirks, e.g. title-limit=50,due-date-in-grading-period,no-delete.")
    var quirks = ""

    @Option(help: "Write the generated district to this OneRoster 1.1 CSV zip (bulk) and exit instead of serving.")
    var exportCsv: String?

    func run() async throws {
        guard let plan = DistrictPlan(size: size) else {
            throw ValidationError("--size must be \(DistrictPlan.sizeNames) (got '\(size)')")
        }
        guard let mode = SandboxAuthMode(rawValue: auth.lowercased()) else {
            throw ValidationError("--auth must be oauth2, oauth1 or none (got '\(auth)')")
        }
        let faultRates: FaultRates
        let quirkSet: SandboxQuirks
        do {
            faultRates = try FaultRates(parsing: faults)
            quirkSet = try SandboxQuirks(parsing: quirks)
        } catch {
            throw ValidationError(error.description)
        }
        if exportCsv == nil, port != 0, let problem = PortCheck.problem(host: host, port: port) {
            throw CommandFailure("\(host):\(port) cannot be used (\(problem)): stop what holds it, or pass --port with another port (0 picks a free one)")
        }
        let started = Date()
        let sandbox = Sandbox(
            configuration: SandboxConfiguration(
                host: host, port: port, plan: plan, seed: seed,
                auth: SandboxAuthConfiguration(mode: mode, clientID: clientId, clientSecret: clientSecret, tokenLifetime: TimeInterval(tokenLifetime)),
                quirks: quirkSet, faults: faultRates, maxPageSize: maxPageSize))
        let generated = Date().timeIntervalSince(started)
        if let exportCsv {
            try export(sandbox.data, to: exportCsv)
            FileHandle.standardOutput.write(
                Data(
                    "wrote \(exportCsv): \(sandbox.data.count(.users)) users, \(sandbox.data.count(.classes)) classes, \(sandbox.data.count(.enrollments)) enrollments\n"
                        .utf8))
            return
        }
        let basePath = sandbox.configuration.basePath
        let app = sandbox.makeApplication { port in
            let base = "http://\(host):\(port)\(basePath)"
            var lines = [
                "Passback sandbox SIS (OneRoster 1.1) is running.",
                "  district:   \(sandbox.data.count(.users)) users, \(sandbox.data.count(.classes)) classes, "
                    + "\(sandbox.data.count(.enrollments)) enrollments (seed \(seed), generated in \(String(format: "%.2f", generated)) s)",
                "  base URL:   \(base)",
                "  auth:       \(mode.rawValue)"
            ]
            switch mode {
            case .oauth2:
                lines += ["  token URL:  \(base)/token", "  client id:  \(clientId)", "  secret:     \(clientSecret)"]
            case .oauth1:
                lines += ["  consumer key:    \(clientId)", "  consumer secret: \(clientSecret)", "  signature:       HMAC-SHA256 (or HMAC-SHA1)"]
            case .none:
                break
            }
            if !faults.isEmpty { lines.append("  faults:     \(faults)") }
            if !quirks.isEmpty { lines.append("  quirks:     \(quirks)") }
            lines.append("Press Ctrl-C to stop.")
            // Written straight to the descriptor so a script reading a pipe sees it at once.
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "passback.sandbox")))
        try await group.run()
    }
}

extension SandboxCommand {
    func export(_ data: SandboxData, to path: String) throws {
        func all<T: OneRosterObject>(_ kind: RecordKind, _ type: T.Type) -> [T] { data.all(kind).compactMap { try? T(json: $0) } }
        try OneRosterCSVWriter.write(
            OneRosterCSVExport(
                orgs: all(.orgs, Org.self), academicSessions: all(.academicSessions, AcademicSession.self), courses: all(.courses, Course.self),
                classes: all(.classes, Class.self), users: all(.users, User.self), enrollments: all(.enrollments, Enrollment.self),
                demographics: all(.demographics, Demographics.self), categories: all(.categories, OneRoster.Category.self),
                sourceSystemName: "Passback sandbox", sourceSystemCode: "seed-\(seed)"), mode: .bulk, to: URL(fileURLWithPath: path))
    }
}
