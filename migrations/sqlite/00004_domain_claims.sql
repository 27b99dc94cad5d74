-- +goose Up
-- Claims take due domains in (next_check_at, id) order: the index gives
-- them in that order, so a claim reads its batch instead of sorting every
-- due row. (PostgreSQL also gets a fill factor; SQLite has none.)
DROP INDEX domains_due;
CREATE INDEX domains_due ON domains (next_check_at, id) WHERE next_check_at IS NOT NULL;

-- +goose Down
DROP INDEX domains_due;
CREATE INDEX domains_due ON domains (next_check_at) WHERE next_check_at IS NOT NULL;
