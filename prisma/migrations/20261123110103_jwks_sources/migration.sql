-- AlterTable
ALTER TABLE "verification_certificates" ADD COLUMN "issuer" TEXT;
ALTER TABLE "verification_certificates" ADD COLUMN "subject_prefix" TEXT;

-- CreateTable
CREATE TABLE "jwks_sources" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "url" TEXT,
    "jwks_uri" TEXT,
    "issuer" TEXT NOT NULL,
    "audiences" TEXT NOT NULL DEFAULT '[]',
    "algorithms" TEXT NOT NULL,
    "leeway_seconds" INTEGER NOT NULL,
    "max_lifetime_seconds" INTEGER NOT NULL,
    "replay" TEXT NOT NULL,
    "subject_prefix" TEXT,
    "jwks" TEXT NOT NULL,
    "fetched_at" DATETIME,
    "fresh_until" DATETIME,
    "last_error" TEXT,
    "last_error_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "jwks_source_bindings" (
    "source_id" INTEGER NOT NULL,
    "application_id" INTEGER NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("source_id", "application_id"),
    CONSTRAINT "jwks_source_bindings_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "jwks_sources" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "jwks_source_bindings_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "jwks_sources_name_key" ON "jwks_sources"("name");

-- CreateIndex
CREATE INDEX "jwks_sources_issuer_idx" ON "jwks_sources"("issuer");

-- CreateIndex
CREATE INDEX "jwks_source_bindings_application_id_idx" ON "jwks_source_bindings"("application_id");
