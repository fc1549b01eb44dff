-- 0009: each connection's time zone (and its schools' own), and the district's overrides of
-- its vendor profile's limits, as the configuration last said.
--
-- The configuration file is the source; these columns are its copy, written whenever a command
-- loads it, so that every reader of the store (the planner, the API, the scheduler) places due
-- dates by the same zone and checks the same limits without being handed the file.
ALTER TABLE connection ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) > 0);
-- Org sourcedId → IANA zone, a JSON object; a school takes the nearest of itself and its parents listed.
ALTER TABLE connection ADD COLUMN org_time_zones TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(org_time_zones) AND json_type(org_time_zones) = 'object');
-- `ProfileLimits` as JSON: only the fields the district set.
ALTER TABLE connection ADD COLUMN profile_limits TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(profile_limits) AND json_type(profile_limits) = 'object');
