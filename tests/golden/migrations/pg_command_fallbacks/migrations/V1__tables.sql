CREATE SCHEMA crm;
CREATE TABLE crm.account (
  id bigint PRIMARY KEY,
  acct_no_enc bytea,
  balance_cipher bytea,
  opened_at date
);
CREATE TABLE crm.contact (id bigint, mobile_hash char(64), address text);
CREATE TABLE public.product (id int, name_cn text);
