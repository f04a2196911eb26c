ALTER TABLE person RENAME display_name TO preferred_username;
ALTER TABLE person DROP COLUMN email;
