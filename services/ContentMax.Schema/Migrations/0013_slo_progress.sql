-- How far each SLO's minute counts (slo_minutes) are complete. The first count
-- of an SLO backfills its whole window (30 days of raw points) in bounded
-- chunks, one transaction each, and records here how far it got: an
-- evaluation cycle that runs out of time resumes where the last one stopped.
CREATE TABLE IF NOT EXISTS slo_progress (
    slo_id     text PRIMARY KEY,
    counted_to timestamptz NOT NULL
);

-- SLOs counted before this table existed are complete up to their last minute.
INSERT INTO slo_progress (slo_id, counted_to)
SELECT slo_id, max(bucket) + interval '1 minute' FROM slo_minutes GROUP BY slo_id
ON CONFLICT (slo_id) DO NOTHING;
