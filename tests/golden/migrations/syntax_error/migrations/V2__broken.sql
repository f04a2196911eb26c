-- the second statement is missing a closing parenthesis
CREATE TABLE audit (id bigint);

CREATE TABLE broken (
  id bigint,
  mobile varchar(20;

GRANT SELECT ON customer TO PUBLIC;
