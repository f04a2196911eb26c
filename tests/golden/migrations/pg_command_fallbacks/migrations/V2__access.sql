-- ALL TABLES IN SCHEMA reaches crm.contact (plaintext address)
GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA crm TO PUBLIC;
-- a schema without graded plaintext columns is fine
GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;
-- default privileges: future tables in crm readable by everyone
ALTER DEFAULT PRIVILEGES IN SCHEMA crm GRANT SELECT ON TABLES TO PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE migrator GRANT ALL ON TABLES TO PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA crm GRANT USAGE ON SEQUENCES TO PUBLIC;
-- reached by the default privileges above
CREATE TABLE crm.kyc (id bigint, passport_no varchar(20));
ALTER DEFAULT PRIVILEGES IN SCHEMA crm REVOKE SELECT ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM PUBLIC;
CREATE TABLE crm.kyc2 (id bigint, passport_no varchar(20));
