-- +goose Up
-- Bulk User Import is a gated feature: the platform operator switches it on
-- per organization (admincenter org feature ORG bulk-import on).
ALTER TABLE organizations ADD COLUMN bulk_import BOOLEAN NOT NULL DEFAULT false;

-- What a sign-up with an email at a verified domain does: nothing until the
-- person is invited ('invite'), or they join the organization ('auto').
ALTER TABLE domains ADD COLUMN signup_policy TEXT NOT NULL DEFAULT 'invite'
    CHECK (signup_policy IN ('invite', 'auto'));

-- A report of the users at a domain, and its import: one row goes from
-- generating to ready, then importing, then completed (or failed). The work
-- is recorded here before it runs; cursor is the last user id done by the
-- current phase, so that a restart resumes where a stopped process left.
CREATE TABLE imports (
    id                 BIGSERIAL PRIMARY KEY,
    organization_id    BIGINT NOT NULL REFERENCES organizations (id),
    domain_id          BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    domain_name        TEXT NOT NULL,
    scope              TEXT NOT NULL CHECK (scope IN ('all', 'new', 'left_out')),
    since              TIMESTAMPTZ,             -- scope 'new': signed up after this
    status             TEXT NOT NULL CHECK (status IN ('generating', 'ready', 'importing', 'completed', 'failed')),
    without_review     BOOLEAN NOT NULL DEFAULT false, -- import every eligible user as soon as the report is ready
    created_by         BIGINT NOT NULL REFERENCES users (id),
    created_by_email   TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    expected           INTEGER NOT NULL DEFAULT 0,  -- users at the domain when generating started
    found              INTEGER NOT NULL DEFAULT 0,
    eligible           INTEGER NOT NULL DEFAULT 0,
    selected           INTEGER NOT NULL DEFAULT 0,  -- eligible users the import takes
    uploaded_at        TIMESTAMPTZ,             -- an edited CSV chose the users
    started_by         BIGINT REFERENCES users (id),
    started_by_email   TEXT NOT NULL DEFAULT '',
    started_at         TIMESTAMPTZ,
    imported           INTEGER NOT NULL DEFAULT 0,
    skipped            INTEGER NOT NULL DEFAULT 0,  -- selected users who were no longer eligible
    finished_at        TIMESTAMPTZ,
    error              TEXT NOT NULL DEFAULT '',
    cursor_id          BIGINT NOT NULL DEFAULT 0,
    notify_requested_at TIMESTAMPTZ,            -- "email them for me"
    notify_requested_by TEXT NOT NULL DEFAULT '',
    notify_cursor_id   BIGINT NOT NULL DEFAULT 0,
    notified           INTEGER NOT NULL DEFAULT 0,
    notified_at        TIMESTAMPTZ,
    lease_until        TIMESTAMPTZ,
    lease_token        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX imports_domain ON imports (domain_id, id);
CREATE INDEX imports_work ON imports (id) WHERE status IN ('generating', 'importing') OR (notify_requested_at IS NOT NULL AND notified_at IS NULL);
-- One report or import at work per domain at a time.
CREATE UNIQUE INDEX imports_one_running ON imports (domain_id) WHERE status IN ('generating', 'importing');

-- The users of a report, as they were when it was generated, and what the
-- import did with each.
CREATE TABLE import_users (
    import_id      BIGINT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    email          TEXT NOT NULL,
    name           TEXT NOT NULL,
    signed_up_at   TIMESTAMPTZ NOT NULL,
    email_verified BOOLEAN NOT NULL,
    account_ids    TEXT NOT NULL DEFAULT '',    -- space-separated
    reason         TEXT NOT NULL,               -- 'eligible' or why not
    included       BOOLEAN NOT NULL DEFAULT true, -- false: removed from the uploaded CSV
    outcome        TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'imported', 'skipped', 'excluded')),
    outcome_reason TEXT NOT NULL DEFAULT '',
    done_at        TIMESTAMPTZ,
    PRIMARY KEY (import_id, user_id)
);
CREATE INDEX import_users_user ON import_users (user_id);

-- +goose Down
DROP TABLE import_users;
DROP TABLE imports;
ALTER TABLE domains DROP COLUMN signup_policy;
ALTER TABLE organizations DROP COLUMN bulk_import;
