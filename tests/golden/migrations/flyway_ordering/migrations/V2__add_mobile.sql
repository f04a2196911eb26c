ALTER TABLE t ADD COLUMN mobile varchar(20);
