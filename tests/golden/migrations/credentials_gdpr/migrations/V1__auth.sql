CREATE TABLE users (
  id uuid PRIMARY KEY,
  password varchar(60) NOT NULL,
  totp_2fa_secret text,
  twofa_key text,
  raw_user_meta_data jsonb,
  settings jsonb
);
CREATE TABLE mfa_factors (id uuid, user_id uuid, secret text);
CREATE TABLE refresh_tokens (id bigserial, token varchar(255), token_hash char(64));
CREATE TABLE oauth_clients (
  client_id text,
  client_secret text, -- Encrypted at application level
  private_key text
);
CREATE TABLE recovery_tokens (id uuid, token char(64), csrf_token varchar(255));  -- CHAR(64): SHA-256 hex
CREATE TABLE legacy_accounts (id int, password text, pin char(6));
