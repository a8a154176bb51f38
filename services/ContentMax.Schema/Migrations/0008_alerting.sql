-- Alert rules, SLOs, their evaluation state and the notifications they send.
-- Written by aggregation's alert evaluator (one replica at a time, under an
-- advisory lock) and its admin API.

-- Rules and SLOs as JSON documents (the API's shape); `source` says whether a
-- row came from the seed file (and may be refreshed from it) or from the API.
CREATE TABLE alert_rules (
    id         text        PRIMARY KEY,
    definition jsonb       NOT NULL,
    source     text        NOT NULL CHECK (source IN ('seed', 'api')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE slos (
    id         text        PRIMARY KEY,
    definition jsonb       NOT NULL,
    source     text        NOT NULL CHECK (source IN ('seed', 'api')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Where each rule is in its life (inactive, pending, firing, resolved). Rules
-- generated from SLOs have ids such as "slo:api-availability:1h-5m" and no row
-- in alert_rules, so there is no foreign key.
CREATE TABLE alert_states (
    rule_id          text             PRIMARY KEY,
    state            text             NOT NULL,
    active_since     timestamptz,
    last_true_at     timestamptz,
    last_notified_at timestamptz,
    firing_notified  boolean          NOT NULL DEFAULT false,
    value            double precision,
    error            text,
    evaluated_at     timestamptz      NOT NULL
);

CREATE TABLE alert_history (
    id         bigserial        PRIMARY KEY,
    rule_id    text             NOT NULL,
    from_state text             NOT NULL,
    to_state   text             NOT NULL,
    value      double precision,
    at         timestamptz      NOT NULL
);

CREATE INDEX alert_history_at ON alert_history (at DESC);
CREATE INDEX alert_history_rule ON alert_history (rule_id, at DESC);

CREATE TABLE alert_silences (
    id         uuid        PRIMARY KEY,
    matchers   jsonb       NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    comment    text        NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

CREATE INDEX alert_silences_ends_at ON alert_silences (ends_at);

-- An outbox of webhook deliveries: written with the state change that caused
-- them, sent (and retried) by whichever replica picks them up first.
CREATE TABLE alert_notifications (
    id              bigserial   PRIMARY KEY,
    rule_id         text        NOT NULL,
    receiver        text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('firing', 'repeat', 'resolved')),
    alert           jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);

CREATE INDEX alert_notifications_pending ON alert_notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_notifications_created ON alert_notifications (created_at DESC);

-- The latest status of every health check, fed by HealthStatusChanged.
CREATE TABLE health_check_status (
    check_name  text        PRIMARY KEY,
    check_group text        NOT NULL,
    status      text        NOT NULL,
    since       timestamptz NOT NULL,
    error       text
);

-- Good and total events per SLO and minute, recomputed for recent minutes on
-- every evaluation, so burn rates over days are sums of a few thousand rows.
CREATE TABLE slo_minutes (
    slo_id text        NOT NULL,
    bucket timestamptz NOT NULL,
    good   bigint      NOT NULL,
    total  bigint      NOT NULL,
    PRIMARY KEY (slo_id, bucket)
);

-- Which replica evaluates: the holder of the advisory lock writes itself here
-- on every cycle.
CREATE TABLE alert_evaluator (
    id              smallint    PRIMARY KEY CHECK (id = 1),
    holder          text        NOT NULL,
    acquired_at     timestamptz NOT NULL,
    last_cycle_at   timestamptz NOT NULL,
    cycles          bigint      NOT NULL DEFAULT 0
);
