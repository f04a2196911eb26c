CREATE TABLE identity_verifiable_addresses (id UUID PRIMARY KEY, value VARCHAR(400) NOT NULL, via VARCHAR(16) NOT NULL);
