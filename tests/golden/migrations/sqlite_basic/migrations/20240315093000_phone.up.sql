ALTER TABLE users ADD COLUMN shouji TEXT;
ALTER TABLE users RENAME TO app_users;
ALTER TABLE app_users RENAME COLUMN email TO email_address;
ALTER TABLE app_users DROP COLUMN birthday;
ALTER TABLE app_users ADD COLUMN signup_year INTEGER;
CREATE TABLE app_users_copy AS SELECT id, email_address FROM app_users;
