-- +goose Up
CREATE TABLE organizations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- A user is managed by at most one organization: the membership lives on
-- the user row. Exactly one Owner per organization is enforced below.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    email                TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    email_verified_at    DATETIME,
    deactivated_at       DATETIME,
    sessions_valid_after DATETIME NOT NULL,
    organization_id      INTEGER REFERENCES organizations (id),
    role                 TEXT CHECK (role IN ('owner', 'admin', 'standard')),
    joined_at            DATETIME,
    created_at           DATETIME NOT NULL,
    CHECK ((organization_id IS NULL) = (role IS NULL))
);
CREATE UNIQUE INDEX users_one_owner ON users (organization_id) WHERE role = 'owner';
CREATE INDEX users_organization ON users (organization_id, id);

-- Accounts are projects a user owns; a managed user's accounts belong to
-- the organization too.
CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    owner_id        INTEGER NOT NULL REFERENCES users (id),
    organization_id INTEGER REFERENCES organizations (id),
    created_at      DATETIME NOT NULL
);
CREATE INDEX accounts_owner ON accounts (owner_id);
CREATE INDEX accounts_organization ON accounts (organization_id);

-- One-time links (email verification, password reset). Only a hash of the
-- token is stored.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

CREATE TABLE login_failures (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, created_at);
CREATE INDEX login_failures_ip ON login_failures (ip, created_at);

-- Every email is written here in the transaction of the change that causes
-- it; a sender delivers it later.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    sent_at         DATETIME,
    failed_at       DATETIME,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER REFERENCES organizations (id),
    actor_id        INTEGER,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    target          TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
CREATE INDEX audit_log_organization ON audit_log (organization_id, id);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- Sessions of internal/sessionstore: values on the server, a signed id in the cookie.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE sessions;
DROP TABLE audit_log;
DROP TABLE outbox;
DROP TABLE login_failures;
DROP TABLE user_tokens;
DROP TABLE accounts;
DROP TABLE users;
DROP TABLE organizations;
