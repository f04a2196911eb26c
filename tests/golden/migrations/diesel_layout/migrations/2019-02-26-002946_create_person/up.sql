CREATE TABLE person (
  id serial PRIMARY KEY,
  preferred_username varchar(255),
  published timestamp NOT NULL DEFAULT now()
);
