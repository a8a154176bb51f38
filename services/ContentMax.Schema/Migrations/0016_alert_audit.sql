-- Who changed alerting through the admin API, and what: rules, silences and
-- SLOs. Each row is written in the transaction of the change it records, so a
-- change that failed left no row and every row's change happened. `actor` is
-- the calling API key's configured name (never the key). Kept a year, like
-- alert_history (Storage/PartitionMaintenance.cs).
CREATE TABLE IF NOT EXISTS alert_audit (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    actor  text        NOT NULL,
    action text        NOT NULL,
    target text        NOT NULL,
    detail jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS alert_audit_at ON alert_audit (at DESC, id DESC);
