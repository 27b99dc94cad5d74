-- +goose Up
CREATE TABLE organizations (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- A user is managed by at most one organization: the membership lives on
-- the user row. Exactly one Owner per organization is enforced below.
CREATE TABLE users (
    id                   BIGSERIAL PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    email_verified_at    TIMESTAMPTZ,
    deactivated_at       TIMESTAMPTZ,
    sessions_valid_after TIMESTAMPTZ NOT NULL,
    organization_id      BIGINT REFERENCES organizations (id),
    role                 TEXT CHECK (role IN ('owner', 'admin', 'standard')),
    joined_at            TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    CHECK ((organization_id IS NULL) = (role IS NULL))
);
CREATE UNIQUE INDEX users_one_owner ON users (organization_id) WHERE role = 'owner';
CREATE INDEX users_organization ON users (organization_id, id);

-- Accounts are projects a user owns; a managed user's accounts belong to
-- the organization too.
CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    owner_id        BIGINT NOT NULL REFERENCES users (id),
    organization_id BIGINT REFERENCES organizations (id),
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX accounts_owner ON accounts (owner_id);
CREATE INDEX accounts_organization ON accounts (organization_id);

-- One-time links (email verification, password reset). Only a hash of the
-- token is stored.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

CREATE TABLE login_failures (
    id         BIGSERIAL PRIMARY KEY,
    email      TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, created_at);
CREATE INDEX login_failures_ip ON login_failures (ip, created_at);

-- Every email is written here in the transaction of the change that causes
-- it; a sender delivers it later.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    failed_at       TIMESTAMPTZ,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE audit_log (
    id              BIGSERIAL PRIMARY KEY,
    organization_id BIGINT REFERENCES organizations (id),
    actor_id        BIGINT,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    target          TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_organization ON audit_log (organization_id, id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Sessions of internal/sessionstore: values on the server, a signed id in the cookie.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
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
DROP FUNCTION audit_log_append_only;
DROP TABLE outbox;
DROP TABLE login_failures;
DROP TABLE user_tokens;
DROP TABLE accounts;
DROP TABLE users;
DROP TABLE organizations;
