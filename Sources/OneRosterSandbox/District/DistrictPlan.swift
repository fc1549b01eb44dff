import OneRoster

/// How big a generated district is. The numbers are explicit so a test or benchmark can ask
/// for exactly the shape it needs.
public struct DistrictPlan: Sendable, Hashable {
    public var schools: Int
    public var students: Int
    public var classes: Int
    public var studentsPerClass: Int
    public var classesPerTeacher: Int
    /// The school year ending in this year (`2027` is 2026–27).
    public var schoolYear: Int

    public init(schools: Int, students: Int, classes: Int, studentsPerClass: Int = 30, classesPerTeacher: Int = 5, schoolYear: Int = 2027) {
        self.schools = max(1, schools)
        self.students = max(1, students)
        self.classes = max(1, classes)
        self.studentsPerClass = max(1, studentsPerClass)
        self.classesPerTeacher = max(1, classesPerTeacher)
        self.schoolYear = schoolYear
    }

    /// Two schools, eight classes of 25, four teachers: for demos and quick tests.
    public static let small = DistrictPlan(schools: 2, students: 200, classes: 8, studentsPerClass: 25, classesPerTeacher: 2)

    /// A large district: 50,000 students in 2,500 sections over 20 schools.
    public static let district = DistrictPlan(schools: 20, students: 50_000, classes: 2_500, studentsPerClass: 30)

    /// A large secondary district: 50,000 students, each in four of 8,000 sections of 25, over
    /// 20 schools (1,600 teachers of five sections each).
    public static let secondary = DistrictPlan(schools: 20, students: 50_000, classes: 8_000, studentsPerClass: 25)

    /// A district scaled to `students`: one school per 2,500 students, one section per 20.
    public static func scaled(students: Int) -> DistrictPlan {
        DistrictPlan(schools: max(1, students / 2_500), students: students, classes: max(2, students / 20))
    }

    /// The sizes `init(size:)` reads, for help and refusals.
    public static let sizeNames = "small, district, secondary, or a number of students"

    /// Parses `small`, `district`, `secondary` or a number of students.
    public init?(size: String) {
        switch size.lowercased() {
        case "small": self = .small
        case "district", "large": self = .district
        case "secondary": self = .secondary
        default:
            guard let n = Int(size), n > 0 else { return nil }
            self = .scaled(students: n)
        }
    }

    public var teachers: Int { max(1, (classes + classesPerTeacher - 1) / classesPerTeacher) }
}
