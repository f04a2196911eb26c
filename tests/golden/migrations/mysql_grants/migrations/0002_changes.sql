# MySQL hash comments work too
ALTER TABLE customer ADD COLUMN yhkh varchar(19) COMMENT '银行卡号';
ALTER TABLE customer MODIFY COLUMN phone varchar(20);
ALTER TABLE customer CHANGE COLUMN c_no id_card_sha256 char(64) COMMENT '身份证号 SHA-256';
RENAME TABLE customer TO bank_customer;
