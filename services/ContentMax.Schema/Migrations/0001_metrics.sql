-- Raw metrics as received. The id is client-chosen or generated at ingestion;
-- its primary key makes every redelivery or re-send a no-op.
CREATE TABLE metrics (
    id          uuid             PRIMARY KEY,
    name        text             NOT NULL,
    value       double precision NOT NULL,
    ts          timestamptz      NOT NULL,
    url         text,
    user_agent  text,
    tags        jsonb,
    received_at timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX metrics_name_ts ON metrics (name, ts);
CREATE INDEX metrics_ts ON metrics (ts);
