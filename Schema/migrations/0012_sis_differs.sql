-- 0012: what the SIS was found to hold instead of what Passback wrote.
--
-- With `verifyWrites` each accepted write is read back, and a drift check re-reads a section's
-- objects. When the SIS holds other values in fields Passback owns (a PUT answered 200 but kept
-- some fields, or a hand edit in the SIS), the object's accepted fingerprint becomes that of
-- what the SIS holds (so it differs from the content and Sync Changes writes it again), and
-- `differs` keeps the problem shown with the item (JSON `Problem`, code SIS_DIFFERS) naming each
-- field, sent vs held. The next accepted write clears it.
ALTER TABLE sis_object ADD COLUMN differs TEXT;
