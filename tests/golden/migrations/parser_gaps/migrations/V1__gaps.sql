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
