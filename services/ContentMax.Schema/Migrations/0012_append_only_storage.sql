-- Storage that keeps up (docs/architecture.md, "Storage"). Raw points are now
-- appended with binary COPY instead of inserted with ON CONFLICT:
--
--   * Exactly-once is kept per broker message, not per point: the id of every
--     stored message is recorded in the same transaction as its points
--     (stored_messages), and a redelivered message is skipped whole.
--   * Points whose client chose the id are also kept at most once per id, in a
--     side table only they pay for (metric_ids).
--   * The per-point primary key (id, ts) and the B-tree on ts go. A BRIN index
--     serves time-range scans (points arrive roughly in time order); the
--     (name, ts) B-tree stays for per-name reads (exact percentiles, breakdowns,
--     alert selectors, the raw listing).
--   * A point may stand for many observations (a histogram from OpenTelemetry
--     or a client that aggregates): count, min, max and a sketch of its
--     buckets (sketch_keys, sketch_counts, as in the rollups); value is then
--     their sum. Rollups count how many observations
--     came from such points, because those can never be answered exactly.
--   * Cumulative counters and histograms (OpenTelemetry, Prometheus) become
--     deltas against the last point of their series (cumulative_series).
--
-- Everything already stored stays where it is and stays queryable: the old
-- rows simply have count 1.

ALTER TABLE metrics DROP CONSTRAINT metrics_pkey;
DROP INDEX metrics_ts;
CREATE INDEX metrics_ts_brin ON metrics USING brin (ts) WITH (pages_per_range = 32);
ALTER TABLE metrics DROP COLUMN received_at;
ALTER TABLE metrics
    ADD COLUMN count  bigint NOT NULL DEFAULT 1,
    ADD COLUMN min    double precision,
    ADD COLUMN max    double precision,
    ADD COLUMN sketch_keys   integer[],
    ADD COLUMN sketch_counts bigint[];

-- Broker messages already stored. Kept 8 days (Retention:Deduplication): longer
-- than any redelivery, and than any point's accepted age (MetricRules.MaxAge).
CREATE TABLE stored_messages (
    id        uuid        PRIMARY KEY,
    stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stored_messages_stored_at ON stored_messages USING brin (stored_at);

-- Client-chosen point ids already stored, kept as long as stored_messages.
CREATE TABLE metric_ids (
    id        uuid        PRIMARY KEY,
    stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metric_ids_stored_at ON metric_ids USING brin (stored_at);

-- Before this migration every point was unique on (id, ts). Which ids were the
-- clients' own is not recorded, so every id stored within the window is: a
-- client re-sending one of them after the upgrade still stores nothing.
INSERT INTO metric_ids (id)
SELECT DISTINCT id FROM metrics WHERE ts > now() - interval '8 days'
ON CONFLICT DO NOTHING;

-- The last point of each cumulative series: its start time, the time and the
-- running totals of the point, and (for histograms) its buckets.
CREATE TABLE cumulative_series (
    series        uuid             PRIMARY KEY,
    start_time    bigint           NOT NULL,
    last_ts       timestamptz      NOT NULL,
    value         double precision NOT NULL,
    count         bigint,
    min           double precision,
    max           double precision,
    bounds        double precision[],
    bucket_counts bigint[],
    updated_at    timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX cumulative_series_updated_at ON cumulative_series (updated_at);

ALTER TABLE metric_rollups_minute ADD COLUMN dist_count bigint NOT NULL DEFAULT 0;
ALTER TABLE metric_rollups_hour ADD COLUMN dist_count bigint NOT NULL DEFAULT 0;
ALTER TABLE metric_rollups_day ADD COLUMN dist_count bigint NOT NULL DEFAULT 0;

-- The value a sketch key stands for; the inverse of sketch_key, as
-- LogSketch.ValueOf.
CREATE FUNCTION sketch_value(k integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN k = 0 THEN 0
        WHEN k > 0 THEN 2 * power(1.005e0 / 0.995e0, k - 100000) / (1.005e0 / 0.995e0 + 1)
        ELSE -2 * power(1.005e0 / 0.995e0, -k - 100000) / (1.005e0 / 0.995e0 + 1)
    END
$$;

-- How many of a sketch's observations satisfy every comparison (ops[i] xs[i]):
-- alert selectors with value conditions over points that stand for many
-- observations. Judged by the value each bucket stands for, so within 0.5%.
CREATE FUNCTION sketch_count_where(keys integer[], counts bigint[], ops text[], xs double precision[]) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(c), 0)::bigint
    FROM unnest(keys, counts) AS u(k, c)
    WHERE NOT EXISTS (
        SELECT 1 FROM unnest(ops, xs) AS w(op, x)
        WHERE NOT CASE op
            WHEN '<' THEN sketch_value(k) < x
            WHEN '<=' THEN sketch_value(k) <= x
            WHEN '>' THEN sketch_value(k) > x
            WHEN '>=' THEN sketch_value(k) >= x
            WHEN '=' THEN sketch_value(k) = x
            WHEN '<>' THEN sketch_value(k) <> x
        END)
$$;

-- Rollup rows are rewritten on every upsert. Kept inline and uncompressed up
-- to a page, a rewrite does not compress and re-TOAST the sketch each time.
-- Partitions are created with the option from now on (maintain_partitions_of).
DO $$
DECLARE
    child record;
BEGIN
    FOR child IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent IN ('metric_rollups_minute'::regclass, 'metric_rollups_hour'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %I SET (toast_tuple_target = 8160)', child.relname);
    END LOOP;
END
$$;
ALTER TABLE metric_rollups_day SET (toast_tuple_target = 8160);

DROP FUNCTION maintain_partitions(interval, interval, interval, interval);
DROP FUNCTION maintain_partitions_of(text, boolean, interval, interval);

CREATE FUNCTION maintain_partitions_of(parent text, monthly boolean, keep interval, ahead interval, options text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    step    interval := CASE WHEN monthly THEN interval '1 month' ELSE interval '1 day' END;
    fmt     text := CASE WHEN monthly THEN 'YYYYMM' ELSE 'YYYYMMDD' END;
    today   timestamp := date_trunc(CASE WHEN monthly THEN 'month' ELSE 'day' END, now() AT TIME ZONE 'UTC');
    oldest  timestamp := date_trunc(CASE WHEN monthly THEN 'month' ELSE 'day' END, (now() - keep) AT TIME ZONE 'UTC');
    start   timestamp;
    child   record;
    part    text;
BEGIN
    start := oldest;
    WHILE start <= today + ahead LOOP
        part := parent || '_p' || to_char(start, fmt);
        IF to_regclass(part) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) %s',
                part, parent, start AT TIME ZONE 'UTC', (start + step) AT TIME ZONE 'UTC', options);
            RETURN NEXT 'created ' || part;
        END IF;
        start := start + step;
    END LOOP;

    FOR child IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent::regclass AND c.relname ~ ('^' || parent || '_p[0-9]+$')
    LOOP
        -- A partition goes once all of it is older than `keep`.
        IF to_date(substring(child.relname FROM '_p([0-9]+)$'), fmt)::timestamp + step <= oldest THEN
            EXECUTE format('DROP TABLE %I', child.relname);
            RETURN NEXT 'dropped ' || child.relname;
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION maintain_partitions(raw_keep interval, minute_keep interval, hour_keep interval, ahead interval DEFAULT interval '3 days')
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT * FROM maintain_partitions_of('metrics', false, raw_keep, ahead, '')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_minute', false, minute_keep, ahead, 'WITH (toast_tuple_target = 8160)')
    UNION ALL SELECT * FROM maintain_partitions_of('metric_rollups_hour', true, hour_keep, ahead, 'WITH (toast_tuple_target = 8160)')
$$;

-- build_day_rollups carries the new column.
CREATE OR REPLACE FUNCTION build_day_rollups(from_day timestamptz, to_day timestamptz)
RETURNS integer LANGUAGE sql AS $$
    WITH hours AS (
        SELECT date_trunc('day', bucket, 'UTC') AS day, name, count, sum, min, max, sketch, dist_count
        FROM metric_rollups_hour
        WHERE bucket >= from_day AND bucket < to_day
    ), totals AS (
        SELECT day, name, sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
               sum(dist_count)::bigint AS dist_count
        FROM hours
        GROUP BY day, name
    ), stale AS (
        SELECT t.* FROM totals t
        LEFT JOIN metric_rollups_day d ON d.bucket = t.day AND d.name = t.name
        WHERE d.count IS DISTINCT FROM t.count
    ), keys AS (
        SELECT h.day, h.name, k, sum(c)::bigint AS c
        FROM hours h
        JOIN stale s ON s.day = h.day AND s.name = h.name
        CROSS JOIN LATERAL unnest((h.sketch).keys, (h.sketch).counts) AS u(k, c)
        GROUP BY 1, 2, 3
    ), sketches AS (
        SELECT day, name, ROW(array_agg(k ORDER BY k), array_agg(c ORDER BY k))::sketch AS sketch
        FROM keys
        GROUP BY day, name
    ), written AS (
        INSERT INTO metric_rollups_day AS r (bucket, name, count, sum, min, max, sketch, dist_count)
        SELECT s.day, s.name, s.count, s.sum, s.min, s.max, k.sketch, s.dist_count
        FROM stale s JOIN sketches k ON k.day = s.day AND k.name = s.name
        ORDER BY s.day, s.name
        ON CONFLICT (bucket, name) DO UPDATE SET
            count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
            sketch = EXCLUDED.sketch, dist_count = EXCLUDED.dist_count
        RETURNING 1
    )
    SELECT count(*)::integer FROM written
$$;
