CREATE TABLE "identity_verifiable_addresses" ("id" TEXT PRIMARY KEY, "value" TEXT NOT NULL);
