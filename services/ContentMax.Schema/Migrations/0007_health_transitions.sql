-- Every status change of every health check, written by the health-probe.
CREATE TABLE health_transitions (
    id              bigserial   PRIMARY KEY,
    check_name      text        NOT NULL,
    check_group     text        NOT NULL,
    previous_status text        NOT NULL,
    status          text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    error           text
);

CREATE INDEX health_transitions_changed_at ON health_transitions (changed_at);
CREATE INDEX health_transitions_check ON health_transitions (check_name, changed_at);
