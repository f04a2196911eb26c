ALTER TABLE customer ADD COLUMN mobile varchar(20);
-- an unterminated string: nothing after it can be read, everything before it is checked
COMMENT ON COLUMN customer.id IS 'oops;
ALTER TABLE customer ADD COLUMN address text;
