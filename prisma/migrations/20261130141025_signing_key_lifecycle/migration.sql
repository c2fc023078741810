-- AlterTable
ALTER TABLE "signing_keys" ADD COLUMN "promote_at" DATETIME;
ALTER TABLE "signing_keys" ADD COLUMN "removed_at" DATETIME;
