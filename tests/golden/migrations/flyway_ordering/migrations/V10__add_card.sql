ALTER TABLE t ADD COLUMN card_number varchar(19);
