-- Points waiting to be forwarded to Datadog, written by the consumer in the
-- same statement that stores them (only rows that were new, so a redelivery
-- forwards nothing twice). One row per stored batch keeps the outbox cheap.
CREATE TABLE datadog_outbox (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    points     jsonb       NOT NULL
);
