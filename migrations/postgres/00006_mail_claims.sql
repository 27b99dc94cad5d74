-- +goose Up
-- A claim of outbox messages carries a token, so that a sender renews,
-- records or gives back only the messages it still holds: once its lease
-- has run out another instance may have claimed them with a token of its
-- own. Empty: not claimed.
ALTER TABLE outbox ADD COLUMN claim_token TEXT NOT NULL DEFAULT '';

-- An operator's `admincenter mail retry --failed` brings a failed message
-- back; its maximum age (ADMINCENTER_MAIL_MAX_AGE) then counts from here
-- instead of from created_at.
ALTER TABLE outbox ADD COLUMN retried_at TIMESTAMPTZ;

-- Failed messages are counted on every /metrics scrape and brought back by
-- the retry command: an index of them alone stays small however large the
-- outbox of sent mail grows.
CREATE INDEX outbox_failed ON outbox (failed_at) WHERE failed_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_failed;
ALTER TABLE outbox DROP COLUMN retried_at;
ALTER TABLE outbox DROP COLUMN claim_token;
