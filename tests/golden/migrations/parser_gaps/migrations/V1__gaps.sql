CREATE TABLE customer (
  id bigint,
  email text,
  CONSTRAINT customer_id_not_null NOT NULL id
);
DROP INDEX idx_a, idx_b;
DROP FUNCTION IF EXISTS refresh (_tbl regclass);
CREATE TABLE scratch (id int, mobile text);
DROP TABLE scratch, other_unknown CASCADE;
-- privaudit:ignore migration_statement_not_analysed reason: PG 17 syntax the parser lacks, reviewed in SEC-9
CREATE TABLE audit (id int, at timestamptz) WITH (fillfactor = 70) TABLESPACE fast PARTITION BY RANGE (at) weird_clause;
GRANT SELECT ON scratch TO PUBLIC;
-- sqlglot reads this only as opaque text; its ADD COLUMN is read from the statement's words
ALTER TABLE customer
    ADD COLUMN phone varchar(20) UNIQUE REFERENCES phones ON UPDATE CASCADE ON DELETE CASCADE,
    DROP CONSTRAINT customer_check,
    ADD CHECK (num_nonnulls (phone, email) = 1);
ALTER TABLE customer RENAME CONSTRAINT customer_check TO customer_contact_check;
