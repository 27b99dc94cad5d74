-- +goose Up
-- Re-validation: the proof of a verified domain went missing. The deadline
-- is set at the first definitive failure and never moves later.
ALTER TABLE domains ADD COLUMN revalidation_started_at DATETIME;
ALTER TABLE domains ADD COLUMN deadline_at DATETIME;
ALTER TABLE domains ADD COLUMN inconclusive_since DATETIME;   -- first of the current run of inconclusive checks
ALTER TABLE domains ADD COLUMN warned_first_at DATETIME;      -- the "7 days left" email was written
ALTER TABLE domains ADD COLUMN warned_last_at DATETIME;       -- the "1 day left" email was written
CREATE INDEX domains_deadline ON domains (deadline_at) WHERE status = 'revalidating';

-- An expiry: a domain left unvalidated past its deadline, deleted from its
-- organization, and the managed users it removed. Recorded before the work
-- starts, so that a restart finishes it.
CREATE TABLE domain_expiries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    domain_name     TEXT NOT NULL,      -- A-label
    unicode_name    TEXT NOT NULL,
    deadline_at     DATETIME NOT NULL,
    started_at      DATETIME NOT NULL,
    finished_at     DATETIME,
    lease_until     DATETIME
);
CREATE INDEX domain_expiries_open ON domain_expiries (started_at) WHERE finished_at IS NULL;
CREATE INDEX domain_expiries_name ON domain_expiries (organization_id, domain_name);

CREATE TABLE expiry_removals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    expiry_id   INTEGER NOT NULL REFERENCES domain_expiries (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    email       TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    accounts    TEXT NOT NULL DEFAULT '',  -- ids of the accounts handed to the Owner, comma-separated
    outcome     TEXT NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'removed', 'skipped')),
    detail      TEXT NOT NULL DEFAULT '',
    done_at     DATETIME,
    readded_at  DATETIME,
    UNIQUE (expiry_id, user_id)
);

-- +goose Down
DROP TABLE expiry_removals;
DROP TABLE domain_expiries;
DROP INDEX domains_deadline;
ALTER TABLE domains DROP COLUMN warned_last_at;
ALTER TABLE domains DROP COLUMN warned_first_at;
ALTER TABLE domains DROP COLUMN inconclusive_since;
ALTER TABLE domains DROP COLUMN deadline_at;
ALTER TABLE domains DROP COLUMN revalidation_started_at;
