CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE users (
  id serial PRIMARY KEY,
  username text NOT NULL,
  password text,
  pin char(6)
);
