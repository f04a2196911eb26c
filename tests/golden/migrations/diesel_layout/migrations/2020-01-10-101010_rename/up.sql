ALTER TABLE person RENAME preferred_username TO display_name;
ALTER TABLE person ADD COLUMN email text;
