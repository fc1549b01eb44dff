-- 0010: what the SIS last accepted, per SIS object; statuses stored for every material × section.
--
-- Until now one fingerprint covered a whole item (its lineItem and every result), so a regrade
-- of one student resent the lineItem and all results, and an item in ERROR resent everything on
-- each Sync Changes. From here each object Passback writes (a generic category, a lineItem, a
-- result) has its own row: the content the SIS last accepted, and the last write of it that
-- failed. Sync Changes sends an object only when its content differs from what was accepted,
-- and never again the very content the SIS refused (`failure_resend = 0`).
CREATE TABLE sis_object (
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('category', 'line_item', 'result')),
    sourced_id TEXT NOT NULL,
    -- The item it belongs to (NULL for a generic category, shared by a connection).
    material_id INTEGER REFERENCES material(id) ON DELETE SET NULL,
    class_id INTEGER REFERENCES class(id) ON DELETE SET NULL,
    accepted_fingerprint TEXT,
    accepted_at TEXT,
    failed_fingerprint TEXT,
    failure_code TEXT CHECK (failure_code IS NULL OR failure_code IN ('SIS_REJECTED', 'SIS_AUTH_FAILED', 'SIS_UNAVAILABLE')),
    failure_message TEXT,
    failure_resend INTEGER CHECK (failure_resend IS NULL OR failure_resend IN (0, 1)),
    failed_at TEXT,
    CHECK ((accepted_fingerprint IS NULL) = (accepted_at IS NULL)),
    CHECK ((failed_fingerprint IS NULL) = (failure_code IS NULL)
           AND (failed_fingerprint IS NULL) = (failure_message IS NULL)
           AND (failed_fingerprint IS NULL) = (failure_resend IS NULL)
           AND (failed_fingerprint IS NULL) = (failed_at IS NULL)),
    PRIMARY KEY (connection_id, kind, sourced_id)
) WITHOUT ROWID;
-- Status computation reads an item's objects.
CREATE INDEX sis_object_by_item ON sis_object(class_id, material_id);

-- Whether a run has looked at the item: before that, a failing rule is only the dry run's news.
ALTER TABLE sync_item ADD COLUMN attempted INTEGER NOT NULL DEFAULT 0 CHECK (attempted IN (0, 1));
UPDATE sync_item SET attempted = 1 WHERE sync_run_id IS NOT NULL OR last_attempt IS NOT NULL;

-- Every material × linked section has its row (its status is stored, not derived at read time).
INSERT INTO sync_item (material_id, class_id, status, updated_at)
SELECT m.id, ls.class_id,
       CASE WHEN m.sync_to_sis = 0 OR EXISTS (SELECT 1 FROM material_opt_out oo WHERE oo.material_id = m.id AND oo.class_id = ls.class_id)
            THEN 'OPT_OUT' ELSE 'NOT_SYNCED' END,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM material m JOIN linked_section ls ON ls.lms_course_id = m.lms_course_id
WHERE NOT EXISTS (SELECT 1 FROM sync_item si WHERE si.material_id = m.id AND si.class_id = ls.class_id);
UPDATE sync_item SET status = 'OPT_OUT', error_code = NULL, error_message = NULL, error_field = NULL, error_at = NULL
WHERE EXISTS (SELECT 1 FROM material m WHERE m.id = sync_item.material_id AND (m.sync_to_sis = 0 OR EXISTS (
    SELECT 1 FROM material_opt_out oo WHERE oo.material_id = m.id AND oo.class_id = sync_item.class_id)));

-- What older versions sent and the SIS accepted, by the latest completed write of each object.
-- Their fingerprints digest the payload text, not the content fields used from here, so each
-- such object shows as changed once and the next Sync Changes sends it again (a PUT of the same
-- content under the same sourcedId: harmless), after which it is tracked per object.
INSERT INTO sis_object (connection_id, kind, sourced_id, material_id, class_id, accepted_fingerprint, accepted_at)
SELECT connection_id, CASE kind WHEN 'put_category' THEN 'category' WHEN 'put_line_item' THEN 'line_item' ELSE 'result' END,
       target_sourced_id, material_id, class_id, fingerprint, max(finalized_at)
FROM outbox_job WHERE state = 'completed' AND kind != 'delete_line_item'
GROUP BY connection_id, kind, target_sourced_id;
