-- +goose Up
-- A session names its user in a column of its own, so that every page
-- reads the session, the signed-in person and their organization in one
-- statement. Sessions from before carry the user only in their data,
-- encoded the old way: they end here, and people sign in again once.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
-- Whether an organization has a domain in re-validation is asked on every
-- Admin Center page, for its banner.
CREATE INDEX domains_revalidating ON domains (organization_id) WHERE status = 'revalidating';

-- +goose Down
DROP INDEX domains_revalidating;
ALTER TABLE sessions DROP COLUMN user_id;
