-- The floor Bulk User Import is measured against: the same data movement
-- in plain SQL, written apart from the product, run by psql as one
-- PL/pgSQL block that commits after each batch. It records a report of
-- the users at the domain (2,000 users a transaction, each with their
-- accounts and whether they can be imported), then imports its eligible
-- users in transactions of 500: each batch locks its users, makes them
-- Standard members with their accounts, writes one audit entry and one
-- email per user (the product's texts), settles the report's rows and
-- records the progress; at the end the Owner gets the summary email.
-- Nothing the product must do is skipped here, and nothing else is done.
--
--   psql -v domain=acme.test -f bench/floors/import/import.sql
\set ON_ERROR_STOP on
SET floor.domain = :'domain';
DO $floor$
DECLARE
  dom      domains%ROWTYPE;
  org      organizations%ROWTYPE;
  owner    users%ROWTYPE;
  imp      bigint;
  last     bigint := 0;
  n        int;
  top      bigint;
  good     int;
  taken    int;
BEGIN
  SELECT * INTO STRICT dom FROM domains WHERE name = current_setting('floor.domain');
  SELECT * INTO STRICT org FROM organizations WHERE id = dom.organization_id;
  SELECT * INTO STRICT owner FROM users WHERE organization_id = org.id AND role = 'owner';
  INSERT INTO imports (organization_id, domain_id, domain_name, scope, status, without_review, created_by, created_by_email, created_at)
  VALUES (org.id, dom.id, dom.name, 'all', 'generating', true, owner.id, owner.email, clock_timestamp())
  RETURNING id INTO imp;
  COMMIT;

  -- The report.
  LOOP
    WITH added AS (
      INSERT INTO import_users (import_id, user_id, email, name, signed_up_at, email_verified, account_ids, reason)
      SELECT imp, u.id, u.email, u.name, u.created_at, u.email_verified_at IS NOT NULL,
             coalesce((SELECT string_agg(a.id, ' ' ORDER BY a.id) FROM accounts a WHERE a.owner_id = u.id), ''),
             CASE WHEN u.organization_id = org.id THEN 'member'
                  WHEN u.organization_id IS NOT NULL AND u.role = 'owner' THEN 'owner_elsewhere'
                  WHEN u.organization_id IS NOT NULL THEN 'managed_elsewhere'
                  WHEN u.deactivated_at IS NOT NULL THEN 'deactivated'
                  WHEN u.email_verified_at IS NULL THEN 'email_not_verified'
                  ELSE 'eligible' END
      FROM users u
      WHERE (u.email LIKE '%@' || dom.name OR u.email LIKE '%.' || dom.name) AND u.id > last
      ORDER BY u.id LIMIT 2000
      RETURNING user_id, reason)
    SELECT count(*), max(user_id), count(*) FILTER (WHERE reason = 'eligible') INTO n, top, good FROM added;
    EXIT WHEN n = 0;
    last := top;
    UPDATE imports SET found = imports.found + n, eligible = imports.eligible + good, cursor_id = last WHERE id = imp;
    COMMIT;
  END LOOP;
  ANALYZE import_users;
  INSERT INTO audit_log (organization_id, actor, action, target_type, target_id, target, details, created_at)
  SELECT org.id, 'system', 'import.report_ready', 'import', imp, format('report #%s of %s', imp, dom.name),
         format('%s users found, %s eligible', imports.found, imports.eligible), now()
  FROM imports WHERE id = imp;
  UPDATE import_users SET outcome = 'skipped', outcome_reason = reason, done_at = now()
  WHERE import_id = imp AND reason <> 'eligible';
  UPDATE imports SET status = 'importing', selected = imports.eligible, cursor_id = 0,
         started_by = owner.id, started_by_email = owner.email, started_at = clock_timestamp()
  WHERE id = imp;
  COMMIT;

  -- The import.
  last := 0;
  LOOP
    WITH batch AS (
      SELECT u.id, u.email, u.name,
             CASE WHEN u.organization_id = org.id THEN 'member'
                  WHEN u.organization_id IS NOT NULL AND u.role = 'owner' THEN 'owner_elsewhere'
                  WHEN u.organization_id IS NOT NULL THEN 'managed_elsewhere'
                  WHEN u.deactivated_at IS NOT NULL THEN 'deactivated'
                  WHEN u.email_verified_at IS NULL THEN 'email_not_verified'
                  WHEN NOT (u.email LIKE '%@' || dom.name OR u.email LIKE '%.' || dom.name) THEN 'address_changed'
                  ELSE 'eligible' END AS reason
      FROM import_users r JOIN users u ON u.id = r.user_id
      WHERE r.import_id = imp AND r.outcome = '' AND r.user_id > last AND u.id > last
      ORDER BY r.user_id LIMIT 500
      FOR NO KEY UPDATE OF u),
    joined AS (
      UPDATE users u SET organization_id = org.id, role = 'standard', joined_at = now()
      FROM batch b WHERE u.id = b.id AND b.reason = 'eligible'
      RETURNING u.id, u.email, u.name),
    moved AS (
      UPDATE accounts a SET organization_id = org.id FROM joined j WHERE a.owner_id = j.id
      RETURNING a.owner_id, a.id),
    person AS (
      SELECT j.id, j.email, j.name, count(m.id) AS accounts, string_agg(m.id, ', ' ORDER BY m.id) AS ids
      FROM joined j LEFT JOIN moved m ON m.owner_id = j.id GROUP BY j.id, j.email, j.name),
    audited AS (
      INSERT INTO audit_log (organization_id, actor_id, actor, action, target_type, target_id, target, details, created_at)
      SELECT org.id, owner.id, owner.email, 'user.imported', 'user', p.id, p.email,
             format('Bulk User Import #%s from %s', imp, dom.unicode_name) || coalesce(', with accounts ' || p.ids, ''), now()
      FROM person p),
    emailed AS (
      INSERT INTO outbox (recipient, subject, body, created_at, next_attempt_at)
      SELECT p.email, 'You are now managed by ' || org.name, format(E'Hello %s,\n\n'
               '%s verified that it owns %s and imported the people who signed up with %s addresses into the organization, you among them. %s now belong to %s; you are a Standard User.\n\n'
               'You sign in as before, with the same email and password. The organization''s Owner and Administrators can now see and manage your accounts, change your role, and remove you from the organization.\n\n'
               'If you have questions, ask %s.\n',
             p.name, org.name, dom.unicode_name, dom.unicode_name,
             CASE p.accounts WHEN 0 THEN 'Your login' WHEN 1 THEN 'Your login and your account'
                  ELSE format('Your login and your %s accounts', p.accounts) END,
             org.name, owner.email), now(), now()
      FROM person p),
    settled AS (
      UPDATE import_users r SET outcome = CASE b.reason WHEN 'eligible' THEN 'imported' ELSE 'skipped' END,
             outcome_reason = CASE b.reason WHEN 'eligible' THEN '' ELSE b.reason END, done_at = now()
      FROM batch b WHERE r.import_id = imp AND r.user_id = b.id)
    SELECT count(*), max(id), count(*) FILTER (WHERE reason = 'eligible') INTO n, top, taken FROM batch;
    EXIT WHEN n = 0;
    last := top;
    UPDATE imports SET imported = imports.imported + taken, skipped = imports.skipped + n - taken, cursor_id = last WHERE id = imp;
    COMMIT;
  END LOOP;

  UPDATE imports SET status = 'completed', finished_at = clock_timestamp() WHERE id = imp;
  INSERT INTO audit_log (organization_id, actor, action, target_type, target_id, target, details, created_at)
  SELECT org.id, 'system', 'import.completed', 'import', imp, format('report #%s of %s', imp, dom.name),
         format('%s users imported, %s not imported', imports.imported, imports.found - imports.imported), now()
  FROM imports WHERE id = imp;
  INSERT INTO outbox (recipient, subject, body, created_at, next_attempt_at)
  SELECT owner.email, format('Import from %s finished: %s imported', dom.unicode_name, imports.imported),
         format(E'Hello %s,\n\nThe import of the users of %s into %s is finished: %s imported, %s not imported.\n\n'
                'The summary, with the reason for each user who was not imported:\n\n%s\n',
                owner.name, dom.unicode_name, org.name, imports.imported, imports.found - imports.imported,
                format('http://localhost/admin/domains/%s/imports/%s', dom.id, imp)), now(), now()
  FROM imports WHERE id = imp;
  COMMIT;
END
$floor$;
