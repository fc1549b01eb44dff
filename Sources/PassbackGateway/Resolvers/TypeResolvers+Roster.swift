import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// The roster's objects (`Org`, `User`, `AcademicSession`, `SisCategory`, `SyncProblem`) and the
/// LMS side (`LmsCourse`, `LmsCategory`).
extension TypeResolvers {
    static func roster(_ t: inout ResolverTable) {
        t.object("Org", OrgValue.self) { f in
            f.value("id") { GlobalID.make("Org", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("name") { $0.row.name }
            f.value("type") { $0.row.type }
            f.resolve("parent") { o, _, ctx in
                guard let p = o.row.parentSourcedId else { return nil }
                return try await ctx.orgs.load(p).map(OrgValue.init)
            }
            f.resolve("defaultSyncSchedule") { o, _, ctx in
                try ScheduleStore(ctx.services.database).defaultSchedule(connection: ctx.connection, org: o.row.sourcedId).map {
                    scheduleValue($0, isDefault: true)
                }
            }
        }
        // A problem names its student by name where the viewer may see them (a teacher the students
        // of their sections), and by sourcedId only otherwise.
        t.object("SyncProblem", [String: any Sendable].self) { f in
            for key in ["code", "severity", "field", "studentSourcedId"] { f.value(key) { $0[key] } }
            f.resolve("student") { p, _, ctx in
                guard let id = p["studentSourcedId"] as? String else { return nil }
                return try await ctx.user(id, batch: p["batch"] as? [String] ?? [])
            }
            f.resolve("message") { p, _, ctx in
                let message = p["message"] as? String ?? ""
                // The messages write "student <sourcedId> " (a space after): a sourcedId that begins another is left alone.
                guard let id = p["studentSourcedId"] as? String, message.contains("student \(id) "),
                    let user = try await ctx.user(id, batch: p["batch"] as? [String] ?? [])
                else { return message }
                return message.replacingOccurrences(of: "student \(id) ", with: "\(user.row.givenName) \(user.row.familyName) (\(id)) ")
            }
        }
        t.object("User", UserValue.self) { f in
            f.value("id") { GlobalID.make("User", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("givenName") { $0.row.givenName }
            f.value("familyName") { $0.row.familyName }
            f.value("email") { $0.showsEmail ? $0.row.email : nil }
            f.value("role") { $0.row.role }
        }
        t.object("AcademicSession", SessionValue.self) { f in
            f.value("id") { GlobalID.make("AcademicSession", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("title") { $0.row.title }
            f.value("type") { $0.row.type }
            f.value("startDate") { $0.row.startDate }
            f.value("endDate") { $0.row.endDate }
        }
        t.object("SisCategory", SISCategoryValue.self) { f in
            f.value("id") { GlobalID.make("SisCategory", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("title") { $0.row.title }
        }
    }

    static func lms(_ t: inout ResolverTable) {
        t.object("LmsCourse", LMSCourseValue.self) { f in
            f.value("id") { GlobalID.make("LmsCourse", $0.row.id) }
            f.value("lmsId") { $0.row.lmsID }
            f.value("title") { $0.row.title }
            f.resolve("sections") { c, args, ctx in
                let ids = try await ctx.visible(try await ctx.linkedSections.load(c.row.id, batch: c.batch) ?? [])
                var rows: [SectionSummary] = []
                for id in ids { if let r = try await ctx.sections.load(id, batch: ids) { rows.append(r) } }
                return try sectionPage(rows, args)
            }
        }
        t.object("LmsCategory", LMSCategoryValue.self) { f in
            f.value("id") { GlobalID.make("LmsCategory", $0.row.id) }
            f.value("lmsId") { $0.row.lmsID }
            f.value("title") { $0.row.title }
            f.value("createdByTeacher") { $0.row.createdByTeacher }
        }
    }
}
