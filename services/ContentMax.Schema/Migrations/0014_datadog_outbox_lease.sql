-- The Datadog forwarder claims outbox rows with a lease and commits at once,
-- rather than holding a transaction with FOR UPDATE across HTTP retries: a
-- row whose lease ran out (its forwarder died or gave up) is claimed again.
ALTER TABLE datadog_outbox ADD COLUMN IF NOT EXISTS leased_until timestamptz;
