-- How many observations each SLO minute's metrics had in the minute rollups
-- when the minute was counted from raw points. A recount reads the raw points
-- of a minute again only when that number has changed: points are only ever
-- added, and the rollups are written in the same transaction as the points,
-- so an unchanged number means unchanged points. NULL (counted by a backfill,
-- or before this column existed): counted again at the next recount.
ALTER TABLE slo_minutes ADD COLUMN IF NOT EXISTS source_count bigint;
