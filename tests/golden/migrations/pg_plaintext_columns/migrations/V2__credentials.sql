CREATE TABLE credential (
  customer_id   bigint REFERENCES customer (id),
  login_password varchar(64),
  password_hash  varchar(255),
  pin_enc        bytea
);

CREATE TABLE card (
  card_no_cipher bytea,
  cvv            char(3)
);
