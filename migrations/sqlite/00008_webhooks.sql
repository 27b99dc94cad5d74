-- +goose Up
-- Webhook endpoints: HTTPS addresses that receive the organization's
-- events, signed with the endpoint's secret (Standard Webhooks). The
-- secret is kept as it is: signing needs the key itself.
CREATE TABLE webhook_endpoints (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id   INTEGER NOT NULL REFERENCES organizations (id),
    url               TEXT NOT NULL,
    events            TEXT NOT NULL,               -- '*' for every type, or the types separated by spaces
    secret            TEXT NOT NULL,               -- 'whsec_' and the base64 of 32 random bytes
    secret_rotated_at DATETIME,
    enabled           BOOLEAN NOT NULL DEFAULT true,
    disabled_reason   TEXT NOT NULL DEFAULT '',    -- why the sender disabled it
    failing_since     DATETIME,                 -- first failure of the current run of failures
    created_by        INTEGER REFERENCES users (id),
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id, id);

-- An event as sent: the body is signed afresh at each attempt, the same
-- bytes each time, under the same public id (the webhook-id header).
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id       TEXT NOT NULL UNIQUE,          -- 'evt_' and 26 base32 characters
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    type            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      DATETIME NOT NULL
);

-- The outbox of webhooks: one row per event and endpoint, written in the
-- transaction of the change, claimed by a sender with a token and a
-- lease (next_attempt_at while claimed), retried until delivered or given up.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        INTEGER NOT NULL REFERENCES webhook_events (id),
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    claim_token     TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    delivered_at    DATETIME,
    failed_at       DATETIME
);
-- The claim reads the due deliveries in this order; the index holds the
-- pending ones only, however long the log of delivered ones grows.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Each request of a delivery and its answer, for the delivery log.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    at          DATETIME NOT NULL,
    duration_ms INTEGER NOT NULL,
    http_status INTEGER NOT NULL DEFAULT 0,         -- 0: no answer
    response    TEXT NOT NULL DEFAULT '',           -- the start of the body, escaped and cut
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- The domain an expiry deleted, as it was, for the event sent once its
-- users are removed.
ALTER TABLE domain_expiries ADD COLUMN snapshot TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE domain_expiries DROP COLUMN snapshot;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
