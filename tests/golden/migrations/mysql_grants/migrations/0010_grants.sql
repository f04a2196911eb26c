GRANT SELECT ON bank.bank_customer TO 'report'@'%';
GRANT SELECT ON bank.* TO 'etl'@'10.0.0.%';
GRANT SELECT ON *.* TO 'dba'@'%' WITH GRANT OPTION;
GRANT SELECT, INSERT ON bank_customer TO app;
GRANT SELECT ON bank.* TO "bi"@"%";
GRANT SELECT (id, card_type) ON bank_customer TO 'ops'@'%';
-- a table created after a database-wide grant is reached by it
CREATE TABLE kyc (passport varchar(20));
