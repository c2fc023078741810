-- AlterTable
ALTER TABLE "applications" ADD COLUMN "auth_methods" TEXT;
