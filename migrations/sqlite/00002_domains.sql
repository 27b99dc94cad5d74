-- +goose Up
-- A domain entry of one organization. The same name may be pending in
-- several organizations, but verified (or in re-validation) in one only.
CREATE TABLE domains (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id   INTEGER NOT NULL REFERENCES organizations (id),
    name              TEXT NOT NULL,            -- A-label
    unicode_name      TEXT NOT NULL,            -- U-label, for display
    -- token and file_name are random (128 and 64 bits): unique by
    -- construction. They carry no index, since every daily re-check
    -- rewrites the row and would rewrite such indexes too.
    token             TEXT NOT NULL,            -- twilio-domain-verification=<32 hex>
    file_name         TEXT NOT NULL,            -- the HTML file to serve at https://<name>/<file_name>
    method            TEXT NOT NULL DEFAULT 'dns' CHECK (method IN ('dns', 'https')),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'revalidating', 'failed')),
    verified_at       DATETIME,
    verified_method   TEXT NOT NULL DEFAULT '' CHECK (verified_method IN ('', 'dns', 'https')),
    last_checked_at   DATETIME,
    next_check_at     DATETIME,              -- the next automatic check; NULL: none planned
    window_ends_at    DATETIME,              -- end of the propagation window of a pending domain
    window_step       INTEGER NOT NULL DEFAULT 0,
    lease_until       DATETIME,              -- a claimed check runs until then, or is taken over
    created_by        INTEGER REFERENCES users (id),
    created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX domains_organization_name ON domains (organization_id, name);
CREATE UNIQUE INDEX domains_verified_once ON domains (name) WHERE status IN ('verified', 'revalidating');
CREATE INDEX domains_due ON domains (next_check_at) WHERE next_check_at IS NOT NULL;

-- Every check of a domain, for its history and diagnostics.
CREATE TABLE domain_checks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id   INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    checked_at  DATETIME NOT NULL,
    method      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    automatic   BOOLEAN NOT NULL,
    summary     TEXT NOT NULL,
    diagnostics TEXT NOT NULL                  -- the checker's full report, JSON
);
CREATE INDEX domain_checks_domain ON domain_checks (domain_id, id);

CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'standard')),
    token_hash      TEXT NOT NULL UNIQUE,
    invited_by      INTEGER NOT NULL REFERENCES users (id),
    created_at      DATETIME NOT NULL,
    sent_at         DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    accepted_at     DATETIME,
    accepted_by     INTEGER REFERENCES users (id),
    cancelled_at    DATETIME
);
CREATE UNIQUE INDEX invitations_open ON invitations (organization_id, email) WHERE accepted_at IS NULL AND cancelled_at IS NULL;

-- +goose Down
DROP TABLE invitations;
DROP TABLE domain_checks;
DROP TABLE domains;
