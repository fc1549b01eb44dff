-- 0002: the LMS side (courses, linked sections, categories, category maps, materials,
-- grades) and the per material × section sync state the widget lists and filters.

CREATE TABLE lms_course (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    lms_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (connection_id, lms_id)
);

-- An LMS course may hold several SIS sections; a section belongs to one LMS course.
CREATE TABLE linked_section (
    lms_course_id INTEGER NOT NULL REFERENCES lms_course(id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES class(id) ON DELETE RESTRICT,
    PRIMARY KEY (lms_course_id, class_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX linked_section_by_class ON linked_section(class_id);

CREATE TABLE lms_category (
    id INTEGER PRIMARY KEY,
    lms_course_id INTEGER NOT NULL REFERENCES lms_course(id) ON DELETE CASCADE,
    lms_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created_by_teacher INTEGER NOT NULL DEFAULT 0 CHECK (created_by_teacher IN (0, 1)),
    UNIQUE (lms_course_id, lms_id)
);

-- A section's configuration was saved (SECTION_NOT_CONFIGURED until it is).
CREATE TABLE section_config (
    class_id INTEGER PRIMARY KEY REFERENCES class(id) ON DELETE CASCADE,
    saved_at TEXT NOT NULL,
    saved_by TEXT NOT NULL
);

-- Per section: LMS category -> SIS category. Several LMS categories may share one SIS
-- category; the primary key allows one SIS category per LMS category per section.
CREATE TABLE category_map (
    class_id INTEGER NOT NULL REFERENCES section_config(class_id) ON DELETE CASCADE,
    lms_category_id INTEGER NOT NULL REFERENCES lms_category(id) ON DELETE CASCADE,
    sis_category_id INTEGER NOT NULL REFERENCES sis_category(id) ON DELETE RESTRICT,
    PRIMARY KEY (class_id, lms_category_id)
) WITHOUT ROWID;

CREATE TABLE material (
    id INTEGER PRIMARY KEY,
    lms_course_id INTEGER NOT NULL REFERENCES lms_course(id) ON DELETE CASCADE,
    lms_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    due_at TEXT,
    lms_category_id INTEGER REFERENCES lms_category(id) ON DELETE SET NULL,
    max_points REAL CHECK (max_points IS NULL OR max_points >= 0),
    sync_to_sis INTEGER NOT NULL DEFAULT 1 CHECK (sync_to_sis IN (0, 1)),
    published INTEGER NOT NULL DEFAULT 1 CHECK (published IN (0, 1)),
    deleted_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (lms_course_id, lms_id)
);
-- The widget's sorts, each with the id tie-breaker its keyset pages use.
CREATE INDEX material_by_title ON material(lms_course_id, title COLLATE NOCASE, id);
CREATE INDEX material_by_due ON material(lms_course_id, due_at, id);

-- Title search: an FTS5 trigram index, so "quiz" finds "Pop-Quiz 3" (substring, any case),
-- as teachers type it; a token index would need whole words. Searches shorter than three
-- characters cannot use trigrams and fall back to LIKE inside the section's rows.
CREATE VIRTUAL TABLE material_title USING fts5(title, content = 'material', content_rowid = 'id', tokenize = 'trigram');
CREATE TRIGGER material_title_insert AFTER INSERT ON material BEGIN
    INSERT INTO material_title(rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER material_title_delete AFTER DELETE ON material BEGIN
    INSERT INTO material_title(material_title, rowid, title) VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER material_title_update AFTER UPDATE OF title ON material BEGIN
    INSERT INTO material_title(material_title, rowid, title) VALUES ('delete', old.id, old.title);
    INSERT INTO material_title(rowid, title) VALUES (new.id, new.title);
END;

-- A student's grade on a material. The student is named by sourcedId and not by foreign key:
-- the LMS may grade someone the roster does not list (STUDENT_NOT_ENROLLED), and that grade
-- must be kept to be reported.
CREATE TABLE grade (
    material_id INTEGER NOT NULL REFERENCES material(id) ON DELETE CASCADE,
    student_sourced_id TEXT NOT NULL,
    score REAL,
    exception TEXT CHECK (exception IS NULL OR exception IN ('excused', 'incomplete', 'missing')),
    comment TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (material_id, student_sourced_id)
) WITHOUT ROWID;

-- What the widget shows per material × section. The engine keeps `status` true in the same
-- transaction as every change that moves it; a material with no row here is NOT_SYNCED.
CREATE TABLE sync_item (
    material_id INTEGER NOT NULL REFERENCES material(id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES class(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('NOT_SYNCED', 'IN_PROGRESS', 'SUCCESSFUL', 'UPDATES_AVAILABLE', 'ERROR', 'OPT_OUT')),
    last_synced_at TEXT,
    accepted_fingerprint TEXT,
    error_code TEXT,
    error_message TEXT,
    error_field TEXT,
    error_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (material_id, class_id),
    CHECK ((status = 'ERROR') = (error_code IS NOT NULL AND error_at IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX sync_item_by_class ON sync_item(class_id, status);
CREATE INDEX sync_item_by_last_sync ON sync_item(class_id, last_synced_at);
-- Org-wide error lists, newest first.
CREATE INDEX sync_item_errors ON sync_item(error_at, error_code) WHERE status = 'ERROR';
