-- CreateTable
CREATE TABLE "applications" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "client_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "secret_hash" TEXT,
    "secret_id" TEXT,
    "grant_types" TEXT NOT NULL DEFAULT '[]',
    "scopes" TEXT NOT NULL DEFAULT '[]',
    "default_scopes" TEXT NOT NULL DEFAULT '[]',
    "audiences" TEXT NOT NULL DEFAULT '[]',
    "access_token_ttl" INTEGER,
    "policy_mode" TEXT NOT NULL DEFAULT 'all',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "service_accounts" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "username" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "groups" TEXT NOT NULL DEFAULT '[]',
    "permissions" TEXT NOT NULL DEFAULT '[]',
    "attributes" TEXT NOT NULL DEFAULT '{}',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "service_account_bindings" (
    "service_account_id" INTEGER NOT NULL,
    "application_id" INTEGER NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("service_account_id", "application_id"),
    CONSTRAINT "service_account_bindings_service_account_id_fkey" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "service_account_bindings_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "app_passwords" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "service_account_id" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "expires_at" DATETIME,
    "last_used_at" DATETIME,
    "revoked_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "app_passwords_service_account_id_fkey" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "verification_certificates" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "pem" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "jwk" TEXT NOT NULL,
    "not_before" DATETIME,
    "expires_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "certificate_bindings" (
    "certificate_id" INTEGER NOT NULL,
    "application_id" INTEGER NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("certificate_id", "application_id"),
    CONSTRAINT "certificate_bindings_certificate_id_fkey" FOREIGN KEY ("certificate_id") REFERENCES "verification_certificates" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "certificate_bindings_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL PRIMARY KEY,
    "alg" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "public_jwk" TEXT NOT NULL,
    "private_key" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" DATETIME,
    "retired_at" DATETIME,
    "publish_until" DATETIME
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "client_id" TEXT,
    "subject" TEXT,
    "reason" TEXT,
    "ip" TEXT,
    "details" TEXT
);

-- CreateTable
CREATE TABLE "state_version" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "version" INTEGER NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "applications_client_id_key" ON "applications"("client_id");

-- CreateIndex
CREATE UNIQUE INDEX "service_accounts_username_key" ON "service_accounts"("username");

-- CreateIndex
CREATE INDEX "service_account_bindings_application_id_idx" ON "service_account_bindings"("application_id");

-- CreateIndex
CREATE INDEX "app_passwords_service_account_id_idx" ON "app_passwords"("service_account_id");

-- CreateIndex
CREATE UNIQUE INDEX "verification_certificates_name_key" ON "verification_certificates"("name");

-- CreateIndex
CREATE UNIQUE INDEX "verification_certificates_fingerprint_key" ON "verification_certificates"("fingerprint");

-- CreateIndex
CREATE INDEX "certificate_bindings_application_id_idx" ON "certificate_bindings"("application_id");

-- CreateIndex
CREATE INDEX "signing_keys_state_idx" ON "signing_keys"("state");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE INDEX "audit_events_client_id_at_idx" ON "audit_events"("client_id", "at");

-- Seed the single change-counter row that running servers poll.
INSERT INTO "state_version" ("id", "version") VALUES (1, 0);
