-- The floor the report's CSV download is measured against: psql copying
-- the report's columns to its standard output (COPY … TO STDOUT, what
-- \copy … to stdout runs, here with the import's id interpolated),
-- computed in SQL (the time in RFC 3339, the account count, the reason as
-- a phrase) and written by PostgreSQL's own CSV writer; written apart from
-- the product.
--
--   psql -v import=ID -f bench/floors/reportcsv/report.sql >report.csv
\set ON_ERROR_STOP on
COPY (SELECT user_id, email, name, to_char(signed_up_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS signed_up_at, email_verified::text AS email_verified, CASE account_ids WHEN '' THEN 0 ELSE length(account_ids) - length(replace(account_ids, ' ', '')) + 1 END AS accounts, account_ids, (reason = 'eligible')::text AS eligible, CASE reason WHEN 'eligible' THEN 'eligible' WHEN 'member' THEN 'already a member of this organization' WHEN 'owner_elsewhere' THEN 'owner of another organization' WHEN 'managed_elsewhere' THEN 'managed by another organization' WHEN 'deactivated' THEN 'account deactivated' WHEN 'email_not_verified' THEN 'email address not verified' ELSE reason END AS reason FROM import_users WHERE import_id = :import ORDER BY user_id) TO STDOUT WITH (FORMAT csv, HEADER);
