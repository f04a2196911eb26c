ALTER TABLE cust RENAME TO customer_master;
ALTER TABLE customer_master RENAME COLUMN branch_code TO lxdh;   -- now named like a phone number
