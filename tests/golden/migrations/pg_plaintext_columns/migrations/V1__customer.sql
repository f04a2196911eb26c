-- Customer master data. Plaintext PII columns are reported; protected and
-- non-personal columns pass.
CREATE TABLE customer (
  id               bigserial PRIMARY KEY,
  id_card          varchar(18) NOT NULL,     -- plaintext resident ID: C2
  sfzh_hash        char(64),                 -- keyed hash, wide enough: protected
  mobile_enc       bytea,                    -- ciphertext: protected
  bank_card_enc    varchar(19),              -- "_enc" but plaintext width: reported
  phone_model      text,                     -- not personal
  email_template_id integer,                 -- not personal
  card_type        varchar(10),              -- not personal
  has_mobile       boolean,                  -- boolean: not personal
  "手机号"          varchar(20),              -- Chinese name: C2
  xingming         varchar(50),              -- pinyin name: C2
  created_at       timestamptz DEFAULT now()
);

/* multi-line comment before the statement:
   the statement starts on the ALTER line */
ALTER TABLE customer ADD COLUMN email text, ADD COLUMN email_verified boolean;

ALTER TABLE customer ADD COLUMN note1 varchar(100);
COMMENT ON COLUMN customer.note1 IS '联系地址';
COMMENT ON TABLE customer IS '客户表';
