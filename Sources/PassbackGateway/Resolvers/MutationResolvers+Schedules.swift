import Foundation
import GraphQL
import PassbackCore
import PassbackStore
import PassbackSync

/// `saveSyncSchedule` (a teacher) and `saveDefaultSyncSchedule` (an admin).
extension MutationResolvers {
    /// A weekly schedule from input, or a user error saying what to fix.
    static func schedule(_ arg: Map) -> Result<WeeklySchedule?, UserError> {
        guard !arg.isAbsent else { return .success(nil) }
        let path = ["input", "schedule"]
        guard let weekday = arg["weekday"].nonNullInt, (1...7).contains(weekday) else {
            return .failure(UserError(.invalid, "weekday must be 1 (Monday) to 7 (Sunday)", field: path + ["weekday"]))
        }
        let time = arg["startTime"].nonNullString ?? ""
        let parts = time.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h),
            (0..<60).contains(m)
        else {
            return .failure(UserError(.invalid, "startTime must be HH:MM on a 24-hour clock (got '\(time)')", field: path + ["startTime"]))
        }
        // No zone: the school's, resolved by the store when it saves (WeeklySchedule.schoolZone).
        let zone = arg["timeZone"].nonNullString ?? WeeklySchedule.schoolZone
        guard zone == WeeklySchedule.schoolZone || SchoolCalendar.isIANAName(zone) else {
            return .failure(
                UserError(
                    .invalid, "timeZone must be an IANA zone such as America/Chicago, or left out for the school's zone (got '\(zone)')",
                    field: path + ["timeZone"]))
        }
        return .success(WeeklySchedule(weekday: weekday, startMinute: h * 60 + m, timeZone: zone))
    }

    static func saveSchedule(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let weekly: WeeklySchedule?
        switch schedule(input["schedule"]) {
        case .success(let s): weekly = s
        case .failure(let e): return .failed(e)
        }
        let store = ScheduleStore(ctx.services.database)
        if input["allMyCourses"].nonNullBool == true {
            guard ctx.principal.role != .integration else { throw APIError.forbidden("the integration role cannot schedule syncs") }
            let ids = try store.saveTeacherScheduleForAllCourses(weekly, connection: ctx.connection, teacher: ctx.principal.userSourcedId, at: ctx.now)
            return Outcome(sections: ids)
        }
        guard !input["sectionId"].isAbsent else {
            return .failed(UserError(.invalid, "give a sectionId, or allMyCourses: true", field: ["input", "sectionId"]))
        }
        let section = try await taughtSection(input, ctx)
        try store.saveTeacherSchedule(weekly, classIDs: [section.id], teacher: ctx.principal.userSourcedId, at: ctx.now)
        return Outcome(sections: [section.id])
    }

    static func saveDefaultSchedule(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let org = try ctx.requireAdmin()
        switch schedule(input["schedule"]) {
        case .success(let weekly):
            try ScheduleStore(ctx.services.database).saveDefaultSchedule(
                weekly, connection: ctx.connection, org: org, savedBy: ctx.principal.userSourcedId,
                at: ctx.now)
            return Outcome(org: org)
        case .failure(let e):
            return .failed(e)
        }
    }
}
