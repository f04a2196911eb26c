ALTER TABLE "account" RENAME TO "member";
GRANT SELECT ON "member" TO PUBLIC;
