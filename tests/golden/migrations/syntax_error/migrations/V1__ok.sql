CREATE TABLE customer (id bigint, id_card varchar(18));
