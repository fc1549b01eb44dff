import Foundation
import PassbackCore
import PassbackStore

/// The request's loaders, one per kind of child, by name (arguments are part of the name).
extension APIContext {
    var sections: BatchLoader<Int64, SectionSummary> {
        loaders.loader("sections") { [reads] ids in try reads.sections(ids: ids) }
    }

    var orgs: BatchLoader<String, OrgRecord> {
        loaders.loader("orgs") { [reads, connection] ids in try reads.orgs(connection: connection, sourcedIds: ids) }
    }

    var people: BatchLoader<String, PersonRecord> {
        loaders.loader("people") { [reads, connection] ids in try reads.people(connection: connection, sourcedIds: ids) }
    }

    /// How much of each person the viewer may see (absent: nothing). Every `User` the API
    /// answers passes through it, whatever the path (`APIContext.users`).
    var personVisibility: BatchLoader<String, PersonVisibility> {
        loaders.loader("personVisibility") { [reads, connection, principal] ids in
            guard principal.role != .integration else { return [:] }
            return try reads.visiblePeople(
                ids, connection: connection, viewer: principal.userSourcedId,
                adminOf: principal.role == .admin ? principal.orgSourcedId ?? "" : nil)
        }
    }

    /// The people of `rows` the viewer may see, in order, each with its email only if the viewer
    /// may see that too; `batch` is every sourcedId the sibling fields will ask about.
    func users(_ rows: [PersonRecord], batch: [String]) async throws -> [UserValue] {
        var out: [UserValue] = []
        for row in rows {
            guard let visibility = try await personVisibility.load(row.sourcedId, batch: batch) else { continue }
            out.append(UserValue(row: row, showsEmail: visibility == .full))
        }
        return out
    }

    /// The person of `sourcedId` if it exists and the viewer may see it.
    func user(_ sourcedId: String, batch: [String] = []) async throws -> UserValue? {
        guard let row = try await people.load(sourcedId, batch: batch) else { return nil }
        return try await users([row], batch: batch).first
    }

    var sessions: BatchLoader<String, SessionRecord> {
        loaders.loader("sessions") { [reads, connection] ids in try reads.sessions(connection: connection, sourcedIds: ids) }
    }

    var terms: BatchLoader<Int64, SessionRecord> {
        loaders.loader("terms") { [reads] ids in try reads.terms(classIDs: ids) }
    }

    var teachers: BatchLoader<String, [PersonRecord]> {
        loaders.loader("teachers") { [reads, connection] ids in try reads.teachers(connection: connection, classSourcedIds: ids) }
    }

    var gradingPeriods: BatchLoader<Int64, [SessionRecord]> {
        loaders.loader("gradingPeriods") { [reads] ids in try reads.gradingPeriods(classIDs: ids) }
    }

    /// Each section's school time zone (and the connection's limit overrides).
    var sectionCalendars: BatchLoader<Int64, SectionCalendar> {
        loaders.loader("sectionCalendars") { [reads] ids in try reads.sectionCalendars(classIDs: ids) }
    }

    /// Since when each connection's SIS has not answered (absent while it answers).
    var unreachableSince: BatchLoader<String, Date> {
        loaders.loader("unreachableSince") { [services] ids in
            let store = EngineStore(services.database)
            var out: [String: Date] = [:]
            for id in ids { out[id] = try store.health(connection: id)?.unreachableSince }
            return out
        }
    }

    var courseOfSection: BatchLoader<Int64, LMSCourseRecord> {
        loaders.loader("courseOfSection") { [reads] ids in try reads.lmsCourses(classIDs: ids) }
    }

    var courses: BatchLoader<Int64, LMSCourseRecord> {
        loaders.loader("courses") { [reads] ids in try reads.lmsCourses(ids: ids) }
    }

    var linkedSections: BatchLoader<Int64, [Int64]> {
        loaders.loader("linkedSections") { [reads] ids in try reads.linkedSections(courseIDs: ids) }
    }

    var categoriesOfCourse: BatchLoader<Int64, [LMSCategoryRecord]> {
        loaders.loader("categoriesOfCourse") { [reads] ids in try reads.lmsCategories(courseIDs: ids) }
    }

    var lmsCategories: BatchLoader<Int64, LMSCategoryRecord> {
        loaders.loader("lmsCategories") { [reads] ids in try reads.lmsCategories(ids: ids) }
    }

    var sisCategories: BatchLoader<String, [SISCategoryRecord]> {
        loaders.loader("sisCategories") { [reads] connections in
            var out: [String: [SISCategoryRecord]] = [:]
            for c in connections { out[c] = try reads.sisCategories(connection: c) }
            return out
        }
    }

    var categoryMaps: BatchLoader<Int64, [CategoryMapEntry]> {
        loaders.loader("categoryMaps") { [reads] ids in
            try reads.categoryMaps(classIDs: ids).mapValues { $0.map { CategoryMapEntry(lmsCategoryID: $0.lmsCategoryID, sis: $0.sis) } }
        }
    }

    var schedules: BatchLoader<Int64, ScheduleStore.ScheduledSection> {
        loaders.loader("schedules") { [services] ids in
            var out: [Int64: ScheduleStore.ScheduledSection] = [:]
            for s in try ScheduleStore(services.database).scheduledSections(classIDs: ids) { out[s.classID] = s }
            return out
        }
    }

    var materials: BatchLoader<MaterialKey, SectionMaterial> {
        loaders.loader("materials") { [reads] keys in try reads.materials(keys.map { ($0.materialID, $0.classID) }) }
    }

    var problems: BatchLoader<MaterialKey, [Problem]> {
        loaders.loader("problems") { [reads] keys in try reads.problems(keys) }
    }

    /// Grades of a section's students only (a linked LMS course holds other sections' students too).
    func grades(section: Int64, first: Int, after: String?) -> BatchLoader<Int64, GradePage> {
        loaders.loader("grades|\(section)|\(first)|\(after ?? "")") { [reads] ids in
            do {
                return try reads.grades(materialIDs: ids, section: section, first: first, after: after).mapValues { GradePage(page: $0.page, total: $0.total) }
            } catch let e as StoreError where e.code == .badCursor {
                throw APIError.badInput(e.message)
            }
        }
    }

    func history(first: Int, after: String?) -> BatchLoader<MaterialKey, HistoryPage> {
        loaders.loader("history|\(first)|\(after ?? "")") { [reads] keys in
            do {
                return try reads.history(keys, first: first, after: after).mapValues { HistoryPage(page: $0.page, total: $0.total) }
            } catch let e as StoreError where e.code == .badCursor {
                throw APIError.badInput(e.message)
            }
        }
    }

    var runs: BatchLoader<Int64, SyncRunRecord> {
        loaders.loader("runs") { [reads] ids in try reads.runs(ids: ids) }
    }

    func jobsOfRun(first: Int, after: String?, states: [JobState] = []) -> BatchLoader<Int64, JobPage> {
        loaders.loader("jobsOfRun|\(first)|\(after ?? "")|\(states.map(\.rawValue).joined(separator: ","))") { [reads] ids in
            do {
                return try reads.jobs(runIDs: ids, first: first, after: after, states: states).mapValues { JobPage(page: $0.page, total: $0.total) }
            } catch let e as StoreError where e.code == .badCursor {
                throw APIError.badInput(e.message)
            }
        }
    }

    var jobs: BatchLoader<Int64, JobRecord> {
        loaders.loader("jobs") { [reads] ids in try reads.jobs(ids: ids) }
    }
}

struct CategoryMapEntry: Sendable {
    var lmsCategoryID: Int64
    var sis: SISCategoryRecord
}

struct GradePage: Sendable {
    var page: KeysetPage<GradeRecord>
    var total: Int
}

struct JobPage: Sendable {
    var page: KeysetPage<JobRecord>
    var total: Int
}

struct HistoryPage: Sendable {
    var page: KeysetPage<AuditRecord>
    var total: Int
}
