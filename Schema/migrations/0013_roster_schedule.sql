-- 0013: roster pulls on a schedule.
--
-- Each connection may set `rosterRefreshMinutes`; the serve process's roster runner queues a
-- pull of that connection here when its last pull started that long ago (sooner after a failed
-- one). `origin` tells a pull an admin asked for (`refreshRoster`) from one the schedule queued,
-- so an admin's list of roster runs shows a scheduled pull that stopped, and why.
ALTER TABLE roster_request ADD COLUMN origin TEXT NOT NULL DEFAULT 'requested' CHECK (origin IN ('requested', 'scheduled'));
