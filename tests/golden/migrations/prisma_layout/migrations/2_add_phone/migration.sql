-- AlterTable
ALTER TABLE "account" ADD COLUMN "phone" VARCHAR(20);
