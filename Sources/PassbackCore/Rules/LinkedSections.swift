import Foundation

/// Which section of a linked LMS course a student's grade belongs to. An LMS course may feed
/// several SIS sections, often taught by different teachers in different schools, and grades
/// are recorded once per course; a section's plan, problems, history and error lists read
/// only the grades that belong to it, so no teacher or admin sees another section's student.
public enum LinkedSections {
    /// A student's enrollment in one of the course's linked sections.
    public struct Enrollment: Sendable, Hashable {
        public var sectionSourcedId: String
        /// `status = 'active'` in the roster (a dropped student's row stays `tobedeleted`).
        public var active: Bool

        public init(sectionSourcedId: String, active: Bool) {
            self.sectionSourcedId = sectionSourcedId
            self.active = active
        }
    }

    /// Whether a grade of a student with `enrollments` (their student enrollments in the
    /// course's linked sections, any status) belongs to `section`:
    /// - enrolled in some linked section: the sections that enroll them, only;
    /// - enrolled in none, but dropped from some: the sections they were dropped from
    ///   (whose teachers knew them, and see `STUDENT_NOT_ENROLLED`);
    /// - never in any linked section: every section reads it (nobody's student), and one of
    ///   them reports it as `STUDENT_NOT_ENROLLED` (`EngineStore.unenrolledReportedBy`).
    public static func grade(of enrollments: [Enrollment], belongsTo section: String) -> Bool {
        let active = enrollments.filter(\.active)
        if !active.isEmpty { return active.contains { $0.sectionSourcedId == section } }
        return enrollments.isEmpty || enrollments.contains { $0.sectionSourcedId == section }
    }
}
