import Foundation
import OneRoster

/// A generated district: every rostering collection plus the SIS grading categories.
public struct District: Sendable {
    public var orgs: [Org]
    public var academicSessions: [AcademicSession]
    public var courses: [Course]
    public var classes: [Class]
    public var users: [User]
    public var enrollments: [Enrollment]
    public var demographics: [Demographics]
    public var categories: [Category]

    /// The district's sourcedId prefix (`d<seed>`), so districts with different seeds never share ids.
    public var idPrefix: String

    /// Generates a district deterministically: the same plan and seed give the same records,
    /// byte for byte, on any machine.
    public static func generate(_ plan: DistrictPlan, seed: UInt64) -> District {
        var g = DistrictGenerator(plan: plan, seed: seed)
        return g.run()
    }
}

struct DistrictGenerator {
    let plan: DistrictPlan
    var rng: SeededRandom
    let prefix: String
    let modified: Date

    init(plan: DistrictPlan, seed: UInt64) {
        self.plan = plan
        rng = SeededRandom(seed: seed)
        prefix = "d\(seed)"
        // Everything a fresh district holds was last modified at the start of the year's roster.
        modified = CalendarDate(year: plan.schoolYear - 1, month: 8, day: 1)!.startOfDayUTC
    }

    static let givenNames = [
        "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Aisha", "Mateo", "Chloe", "Kenji", "Priya", "Omar", "Lucia",
        "Jonas", "Amara", "Diego", "Hana", "Felix", "Nia", "Arjun", "Sofia", "Malik", "Elena", "Theo", "Imani", "Ravi",
        "Grace", "Yusuf", "Ines", "Caleb", "Mei", "Samuel"
    ]
    static let familyNames = [
        "Garcia", "Okafor", "Nguyen", "Smith", "Kowalski", "Haddad", "Johansson", "Patel", "Rossi", "Kim", "Mensah",
        "Novak", "Silva", "Brown", "Cohen", "Tanaka", "Murphy", "Ibrahim", "Schmidt", "Lopez", "Walker", "Chen",
        "Dubois", "Ali", "Hughes", "Moreau", "Sato", "Adeyemi"
    ]
    static let subjects: [(title: String, code: String, subject: String)] = [
        ("Algebra I", "ALG1", "Mathematics"), ("Geometry", "GEOM", "Mathematics"), ("Biology", "BIO", "Science"),
        ("Chemistry", "CHEM", "Science"), ("English 9", "ENG9", "English Language Arts"),
        ("English 10", "ENG10", "English Language Arts"), ("World History", "WHIS", "Social Studies"),
        ("US Government", "USGOV", "Social Studies"), ("Spanish I", "SPAN1", "World Languages"), ("Art I", "ART1", "Fine Arts"),
        ("Physical Education", "PE", "Physical Education"), ("Computer Science", "CS", "Technology")
    ]
    static let categoryTitles = ["Homework", "Classwork", "Quizzes", "Tests", "Projects", "Participation"]

    func id(_ kind: String, _ n: Int, width: Int) -> String {
        let s = String(n)
        return "\(prefix)-\(kind)-" + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    mutating func run() -> District {
        let y = plan.schoolYear
        let districtID = "\(prefix)-district"
        let schoolIDs = (1...plan.schools).map { id("sch", $0, width: 3) }
        var orgs = [
            Org(
                sourcedId: districtID, dateLastModified: modified, name: "Passback Demo District \(prefix.uppercased())",
                type: .district, identifier: prefix.uppercased(), children: schoolIDs.map { Reference($0, type: .org) })
        ]
        for (i, sid) in schoolIDs.enumerated() {
            let kind = i % 3 == 0 ? "High School" : i % 3 == 1 ? "Middle School" : "Academy"
            orgs.append(
                Org(
                    sourcedId: sid, dateLastModified: modified, name: "\(Self.familyNames[i % Self.familyNames.count]) \(kind)",
                    type: .school, identifier: "SCH\(i + 1)", parent: Reference(districtID, type: .org)))
        }

        // One school year, two semesters, four quarters. The gaps between quarters are real
        // (weekends), so a due date can fall outside every grading period.
        let d = { (yy: Int, m: Int, dd: Int) in CalendarDate(year: yy, month: m, day: dd)! }
        let syID = "\(prefix)-sy-\(y)"
        let s1 = "\(prefix)-term-\(y)-s1", s2 = "\(prefix)-term-\(y)-s2"
        let gp = (1...4).map { "\(prefix)-gp-\(y)-q\($0)" }
        let syRef = Reference(syID, type: .academicSession)
        let sessions: [AcademicSession] = [
            AcademicSession(
                sourcedId: syID, dateLastModified: modified, title: "\(y - 1)-\(y)", type: .schoolYear,
                startDate: d(y - 1, 8, 17), endDate: d(y, 6, 11),
                children: [Reference(s1, type: .academicSession), Reference(s2, type: .academicSession)], schoolYear: "\(y)"),
            AcademicSession(
                sourcedId: s1, dateLastModified: modified, title: "Semester 1", type: .term, startDate: d(y - 1, 8, 17),
                endDate: d(y, 1, 15), parent: syRef, children: [Reference(gp[0], type: .academicSession), Reference(gp[1], type: .academicSession)],
                schoolYear: "\(y)"),
            AcademicSession(
                sourcedId: s2, dateLastModified: modified, title: "Semester 2", type: .term, startDate: d(y, 1, 19),
                endDate: d(y, 6, 11), parent: syRef, children: [Reference(gp[2], type: .academicSession), Reference(gp[3], type: .academicSession)],
                schoolYear: "\(y)"),
            AcademicSession(
                sourcedId: gp[0], dateLastModified: modified, title: "Quarter 1", type: .gradingPeriod, startDate: d(y - 1, 8, 17),
                endDate: d(y - 1, 10, 16), parent: Reference(s1, type: .academicSession), schoolYear: "\(y)"),
            AcademicSession(
                sourcedId: gp[1], dateLastModified: modified, title: "Quarter 2", type: .gradingPeriod, startDate: d(y - 1, 10, 19),
                endDate: d(y, 1, 15), parent: Reference(s1, type: .academicSession), schoolYear: "\(y)"),
            AcademicSession(
                sourcedId: gp[2], dateLastModified: modified, title: "Quarter 3", type: .gradingPeriod, startDate: d(y, 1, 19),
                endDate: d(y, 3, 26), parent: Reference(s2, type: .academicSession), schoolYear: "\(y)"),
            AcademicSession(
                sourcedId: gp[3], dateLastModified: modified, title: "Quarter 4", type: .gradingPeriod, startDate: d(y, 3, 29),
                endDate: d(y, 6, 11), parent: Reference(s2, type: .academicSession), schoolYear: "\(y)")
        ]

        var courses: [Course] = []
        var coursesBySchool: [[Int]] = Array(repeating: [], count: plan.schools)
        for (si, sid) in schoolIDs.enumerated() {
            for (ci, subject) in Self.subjects.enumerated() {
                coursesBySchool[si].append(courses.count)
                courses.append(
                    Course(
                        sourcedId: id("crs", si * Self.subjects.count + ci + 1, width: 4), dateLastModified: modified,
                        title: subject.title, schoolYear: syRef, courseCode: subject.code, grades: ["09", "10", "11", "12"],
                        subjects: [subject.subject], org: Reference(sid, type: .org)))
            }
        }

        // Students are spread evenly over schools; each class draws its students from its school.
        var users: [User] = []
        users.reserveCapacity(plan.students + plan.teachers + plan.schools + 1)
        var studentsBySchool: [[Int]] = Array(repeating: [], count: plan.schools)
        var demographics: [Demographics] = []
        demographics.reserveCapacity(plan.students)
        for n in 1...plan.students {
            let school = (n - 1) % plan.schools
            let sid = id("stu", n, width: 6)
            let given = rng.pick(Self.givenNames), family = rng.pick(Self.familyNames)
            let grade = String(9 + Int(rng.next() % 4))
            studentsBySchool[school].append(users.count)
            users.append(
                User(
                    sourcedId: sid, dateLastModified: modified, username: "\(given.lowercased()).\(family.lowercased())\(n)",
                    userIds: [User.UserID(type: "SIS", identifier: "S\(n)")], givenName: given, familyName: family, role: .student,
                    identifier: "S\(n)", email: "\(given.lowercased()).\(family.lowercased())\(n)@students.example.org",
                    orgs: [Reference(schoolIDs[school], type: .org)], grades: [grade.count == 1 ? "0" + grade : grade]))
            demographics.append(
                Demographics(
                    sourcedId: sid, dateLastModified: modified,
                    birthDate: CalendarDate(year: plan.schoolYear - 14 - Int(grade)! + 9, month: 1 + Int(rng.next() % 12), day: 1 + Int(rng.next() % 28)),
                    sex: rng.next() % 2 == 0 ? "female" : "male"))
        }
        var teacherIDs: [String] = []
        var teacherSchool: [Int] = []
        for n in 1...plan.teachers {
            let school = (n - 1) % plan.schools
            let given = rng.pick(Self.givenNames), family = rng.pick(Self.familyNames)
            let tid = id("tch", n, width: 5)
            teacherIDs.append(tid)
            teacherSchool.append(school)
            users.append(
                User(
                    sourcedId: tid, dateLastModified: modified, username: "\(given.lowercased()).\(family.lowercased()).t\(n)",
                    userIds: [User.UserID(type: "SIS", identifier: "T\(n)")], givenName: given, familyName: family, role: .teacher,
                    identifier: "T\(n)", email: "\(given.lowercased()).\(family.lowercased()).t\(n)@example.org",
                    orgs: [Reference(schoolIDs[school], type: .org)]))
        }
        users.append(
            User(
                sourcedId: "\(prefix)-adm-district", dateLastModified: modified, username: "district.admin",
                givenName: "Dana", familyName: "Reyes", role: .administrator, email: "district.admin@example.org",
                orgs: [Reference(districtID, type: .org)]))
        for (si, sid) in schoolIDs.enumerated() {
            users.append(
                User(
                    sourcedId: id("adm", si + 1, width: 3), dateLastModified: modified, username: "admin.sch\(si + 1)",
                    givenName: "Sam", familyName: "Principal \(si + 1)", role: .administrator,
                    email: "admin.sch\(si + 1)@example.org", orgs: [Reference(sid, type: .org)]))
        }

        // Classes: teachers teach `classesPerTeacher` sections at their own school; half the
        // classes run all year (both semesters), the rest one semester.
        var classes: [Class] = []
        var enrollments: [Enrollment] = []
        enrollments.reserveCapacity(plan.classes * (plan.studentsPerClass + 1))
        var cursorBySchool = Array(repeating: 0, count: plan.schools)
        for n in 1...plan.classes {
            let teacherIndex = (n - 1) / plan.classesPerTeacher
            let school = teacherSchool[min(teacherIndex, teacherSchool.count - 1)]
            let courseIndex = rng.pick(coursesBySchool[school])
            let course = courses[courseIndex]
            let period = 1 + Int(rng.next() % 7)
            let termChoice = rng.next() % 4
            let terms: [String] = termChoice < 2 ? [s1, s2] : termChoice == 2 ? [s1] : [s2]
            let begin = terms.first == s1 ? d(y - 1, 8, 17) : d(y, 1, 19)
            let end = terms.last == s2 ? d(y, 6, 11) : d(y, 1, 15)
            let cid = id("cls", n, width: 5)
            classes.append(
                Class(
                    sourcedId: cid, dateLastModified: modified, title: "\(course.title) - Period \(period)",
                    classCode: "\(course.courseCode ?? "CLS")-\(n)", classType: .scheduled, location: "Room \(100 + Int(rng.next() % 200))",
                    grades: course.grades, subjects: course.subjects, course: Reference(course.sourcedId, type: .course),
                    school: Reference(schoolIDs[school], type: .org), terms: terms.map { Reference($0, type: .term) },
                    periods: [String(period)]))
            let schoolRef = Reference(schoolIDs[school], type: .org)
            let classRef = Reference(cid, type: .class)
            enrollments.append(
                Enrollment(
                    sourcedId: "\(cid)-\(teacherIDs[min(teacherIndex, teacherIDs.count - 1)])", dateLastModified: modified,
                    user: Reference(teacherIDs[min(teacherIndex, teacherIDs.count - 1)], type: .user), class: classRef,
                    school: schoolRef, role: .teacher, primary: true, beginDate: begin, endDate: end))
            let pool = studentsBySchool[school]
            guard !pool.isEmpty else { continue }
            for _ in 0..<min(plan.studentsPerClass, pool.count) {
                let student = users[pool[cursorBySchool[school] % pool.count]]
                cursorBySchool[school] += 1
                enrollments.append(
                    Enrollment(
                        sourcedId: "\(cid)-\(student.sourcedId)", dateLastModified: modified,
                        user: Reference(student.sourcedId, type: .user), class: classRef, school: schoolRef,
                        role: .student, primary: false, beginDate: begin, endDate: end))
            }
        }

        let categories = Self.categoryTitles.map { title in
            Category(sourcedId: "\(prefix)-cat-\(title.lowercased())", dateLastModified: modified, title: title)
        }
        return District(
            orgs: orgs, academicSessions: sessions, courses: courses, classes: classes, users: users,
            enrollments: enrollments, demographics: demographics, categories: categories, idPrefix: prefix)
    }
}
