CREATE TABLE customer (id bigint, id_card varchar(18), mobile_enc bytea);
CREATE VIEW customer_v AS SELECT id, id_card FROM customer;
