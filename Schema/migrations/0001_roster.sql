-- 0001: connections, the rostered cache, and the bookkeeping of roster pulls.
--
-- Rostered rows are keyed by (connection_id, sourced_id) and refer to each other by
-- sourcedId, not by foreign key: an SIS sends collections in any order, deltas name records
-- the cache has not seen yet, and vendors leave references dangling. A foreign key would
-- refuse valid SIS data; queries join on the sourcedId indexes instead. Foreign keys guard
-- what Passback owns (connections, runs, and the LMS side in 0002).
-- Times are UTC ISO-8601 text of fixed width ("2026-08-01T00:00:00.000Z"), so text order is
-- time order; dates are "YYYY-MM-DD".

CREATE TABLE connection (
    id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64 AND id NOT GLOB '*[^a-z0-9_]*'),
    base_url TEXT NOT NULL,
    profile TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE roster_run (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('rest', 'csv')),
    mode TEXT NOT NULL CHECK (mode IN ('full', 'delta')),
    state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(counts)),
    error TEXT,
    CHECK ((state = 'running') = (finished_at IS NULL))
);
CREATE INDEX roster_run_by_connection ON roster_run(connection_id, id);

-- Per connection and collection: where an interrupted pull resumes, and the mark the next
-- delta starts from (the start of the last complete pull, less a safety overlap).
CREATE TABLE roster_cursor (
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    collection TEXT NOT NULL CHECK (collection IN ('orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'categories')),
    last_success_started_at TEXT,
    active_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    active_mode TEXT CHECK (active_mode IS NULL OR active_mode IN ('full', 'delta')),
    active_since TEXT,
    active_offset INTEGER NOT NULL DEFAULT 0 CHECK (active_offset >= 0),
    PRIMARY KEY (connection_id, collection)
) WITHOUT ROWID;

-- Rows an import could not take, with where they came from and why.
CREATE TABLE roster_reject (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES roster_run(id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    sourced_id TEXT,
    location TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX roster_reject_by_run ON roster_reject(run_id);

CREATE TABLE org (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    sourced_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'tobedeleted')),
    date_last_modified TEXT,
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    fingerprint TEXT NOT NULL,
    seen_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('district', 'school', 'department', 'local', 'state', 'national')),
    identifier TEXT,
    parent_sourced_id TEXT,
    UNIQUE (connection_id, sourced_id)
);
CREATE INDEX org_by_parent ON org(connection_id, parent_sourced_id);

CREATE TABLE academic_session (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    sourced_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'tobedeleted')),
    date_last_modified TEXT,
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    fingerprint TEXT NOT NULL,
    seen_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('schoolYear', 'term', 'semester', 'gradingPeriod')),
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    parent_sourced_id TEXT,
    school_year TEXT,
    UNIQUE (connection_id, sourced_id),
    CHECK (start_date <= end_date)
);
CREATE INDEX academic_session_by_parent ON academic_session(connection_id, parent_sourced_id, type);

CREATE TABLE course (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    sourced_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'tobedeleted')),
    date_last_modified TEXT,
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    fingerprint TEXT NOT NULL,
    seen_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    course_code TEXT,
    school_year_sourced_id TEXT,
    org_sourced_id TEXT NOT NULL,
    UNIQUE (connection_id, sourced_id)
);

CREATE TABLE class (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    sourced_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'tobedeleted')),
    date_last_modified TEXT,
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    fingerprint TEXT NOT NULL,
    seen_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    class_code TEXT,
    class_type TEXT CHECK (class_type IS NULL OR class_type IN ('homeroom', 'scheduled')),
    location TEXT,
    course_sourced_id TEXT NOT NULL,
    school_sourced_id TEXT NOT NULL,
    UNIQUE (connection_id, sourced_id)
);
CREATE INDEX class_by_school ON class(connection_id, school_sourced_id);

-- The terms a class runs in (1.1 allows several).
CREATE TABLE class_term (
    class_id INTEGER NOT NULL REFERENCES class(id) ON DELETE CASCADE,
    term_sourced_id TEXT NOT NULL,
    PRIMARY KEY (class_id, term_sourced_id)
) WITHOUT ROWID;

-- OneRoster's users. Not named "user": that word is reserved in PostgreSQL, the planned second store.
CREATE TABLE person (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    sourced_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'tobedeleted')),
    date_last_modified TEXT,
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    fingerprint TEXT NOT NULL,
    seen_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    username TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    middle_name TEXT,
    role TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative')),
    identifier TEXT,
    email TEXT,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    grades TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(grades)),
    UNIQUE (connection_id, sourced_id)
);

CREATE TABLE person_org (
    person_id INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    org_sourced_id TEXT NOT NULL,
    PRIMARY KEY (person_id, org_sourced_id)
) WITHOUT ROWID;

CREATE TABLE enrollment (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    sourced_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'tobedeleted')),
    date_last_modified TEXT,
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    fingerprint TEXT NOT NULL,
    seen_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    class_sourced_id TEXT NOT NULL,
    person_sourced_id TEXT NOT NULL,
    school_sourced_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative')),
    is_primary INTEGER CHECK (is_primary IS NULL OR is_primary IN (0, 1)),
    begin_date TEXT,
    end_date TEXT,
    UNIQUE (connection_id, sourced_id)
);
-- "Sections of a teacher" and "is this student enrolled in this section".
CREATE INDEX enrollment_by_person ON enrollment(connection_id, person_sourced_id, role, status);
CREATE INDEX enrollment_by_class ON enrollment(connection_id, class_sourced_id, role, status);

-- The SIS's gradebook categories (1.1 categories are global to the connection).
CREATE TABLE sis_category (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    sourced_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'tobedeleted')),
    date_last_modified TEXT,
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    fingerprint TEXT NOT NULL,
    seen_run_id INTEGER REFERENCES roster_run(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    UNIQUE (connection_id, sourced_id)
);
