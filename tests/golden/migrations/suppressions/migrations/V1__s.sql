-- privaudit:ignore migration_plaintext_pii_column reason: values are tokenized by the vault before insert (SEC-42)
CREATE TABLE wallet (id bigint, card_no varchar(19));

CREATE TABLE wallet2 (
  id bigint,
  mobile varchar(20)  -- privaudit:ignore migration_plaintext_pii_column reason: masked at source, DPO-9
);

-- privaudit:ignore migration_plaintext_pii_column
CREATE TABLE wallet3 (id bigint, email text);

-- privaudit:ignore migration_grant_pii_to_public, migration_view_exposes_pii_wider reason: demo schema only
GRANT SELECT ON wallet TO PUBLIC;

/* privaudit:ignore migration_grant_pii_to_public reason: C-style comment works too */
GRANT SELECT ON wallet2 TO PUBLIC;

-- privaudit:ignore migration_no_such_rule reason: typo in the rule name
GRANT SELECT ON wallet3 TO PUBLIC;
