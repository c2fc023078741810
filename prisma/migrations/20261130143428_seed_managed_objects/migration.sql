-- AlterTable
ALTER TABLE "applications" ADD COLUMN "managed_by" TEXT;

-- AlterTable
ALTER TABLE "jwks_sources" ADD COLUMN "managed_by" TEXT;

-- AlterTable
ALTER TABLE "policies" ADD COLUMN "managed_by" TEXT;

-- AlterTable
ALTER TABLE "service_accounts" ADD COLUMN "managed_by" TEXT;

-- AlterTable
ALTER TABLE "verification_certificates" ADD COLUMN "managed_by" TEXT;
