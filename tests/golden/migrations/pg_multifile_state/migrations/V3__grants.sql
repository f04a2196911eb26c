GRANT SELECT ON customer_master TO PUBLIC;
REVOKE SELECT ON customer_master FROM PUBLIC;
GRANT SELECT ON TABLE customer_master TO teller;
-- a column grant that opens no graded column is fine
GRANT SELECT (id) ON customer_master TO auditor;
-- a grant on a table these migrations do not know is only a note
GRANT SELECT ON legacy_accounts TO PUBLIC;
