-- 0006: a teacher's "sync to SIS" toggle is theirs, per material × section.
--
-- Until now `setMaterialSyncToSIS` wrote `material.sync_to_sis`, so one teacher's opt-out
-- stopped every section of a linked LMS course, another teacher's (and another school's) too.
-- From here `material.sync_to_sis` is only what the LMS feed says, and a teacher's opt-out is a
-- row here, for one section. A material goes to a section's SIS gradebook only when both say
-- yes: the feed's off holds in every section, a teacher's off in theirs (README, "Opting out").
CREATE TABLE material_opt_out (
    material_id INTEGER NOT NULL REFERENCES material(id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES class(id) ON DELETE CASCADE,
    -- Who turned it off: a user sourcedId, or 'migration 0006' for the rows made below.
    opted_out_by TEXT NOT NULL CHECK (length(opted_out_by) > 0),
    opted_out_at TEXT NOT NULL,
    PRIMARY KEY (material_id, class_id)
) WITHOUT ROWID;
-- Cascades from a deleted section.
CREATE INDEX material_opt_out_by_class ON material_opt_out(class_id);

-- Existing data: the old column mixed the feed's value and teachers' toggles, and which one
-- wrote it is not recorded. Keep what every section shows today (OPT_OUT stays OPT_OUT in
-- each linked section), but as per-section opt-outs that each teacher can now turn back on
-- for their own sections; the feed's own value comes back with its next upsert of the material.
INSERT INTO material_opt_out (material_id, class_id, opted_out_by, opted_out_at)
SELECT m.id, ls.class_id, 'migration 0006', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM material m JOIN linked_section ls ON ls.lms_course_id = m.lms_course_id
WHERE m.sync_to_sis = 0;
UPDATE material SET sync_to_sis = 1 WHERE sync_to_sis = 0;
