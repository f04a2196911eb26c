-- turning a ciphertext column into a plaintext-width column is a new plaintext PII column
ALTER TABLE customer ALTER COLUMN mobile_enc TYPE varchar(20) USING convert_from(mobile_enc, 'UTF8');
-- widening an already-reported plaintext column does not report it again
ALTER TABLE customer ALTER COLUMN id_card TYPE varchar(32);
-- re-encrypting is fine
ALTER TABLE customer ALTER COLUMN xingming SET DATA TYPE bytea USING convert_to(xingming, 'UTF8');
