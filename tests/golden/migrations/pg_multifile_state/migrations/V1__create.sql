-- privaudit:ignore migration_plaintext_pii_column reason: legacy table, tokenization tracked in SEC-101
CREATE TABLE cust (
  id bigint PRIMARY KEY,
  sfz varchar(18),
  branch_code varchar(10)
);
