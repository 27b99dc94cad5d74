-- +goose Up
-- Organization API keys. The secret is shown once and kept only as its
-- SHA-256: it is 256 random bits, so a fast hash is as safe as a slow one
-- and lets every request be checked by an index lookup. prefix is the start
-- of the secret, shown so that people can tell their keys apart. A key acts
-- with the rights of its creator: it is refused once they are no longer an
-- Owner or Administrator of the organization.
CREATE TABLE api_keys (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    scope            TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    prefix           TEXT NOT NULL,
    secret_hash      TEXT NOT NULL UNIQUE,
    created_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_by_email TEXT NOT NULL,
    created_at       DATETIME NOT NULL,
    expires_at       DATETIME,
    last_used_at     DATETIME,
    last_used_ip     TEXT NOT NULL DEFAULT '',
    revoked_at       DATETIME,
    revoked_by_email TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_organization ON api_keys (organization_id, id);

-- +goose Down
DROP TABLE api_keys;
