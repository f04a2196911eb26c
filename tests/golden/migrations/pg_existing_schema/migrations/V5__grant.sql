GRANT SELECT ON customer TO PUBLIC;
ALTER TABLE customer ALTER COLUMN mobile_enc TYPE varchar(20);
GRANT SELECT ON customer_v TO reporting;
