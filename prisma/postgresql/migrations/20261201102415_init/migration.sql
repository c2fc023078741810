-- CreateTable
CREATE TABLE "applications" (
    "id" SERIAL NOT NULL,
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
    "auth_methods" TEXT,
    "managed_by" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "applications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service_accounts" (
    "id" SERIAL NOT NULL,
    "username" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "groups" TEXT NOT NULL DEFAULT '[]',
    "permissions" TEXT NOT NULL DEFAULT '[]',
    "attributes" TEXT NOT NULL DEFAULT '{}',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "managed_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "service_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service_account_bindings" (
    "service_account_id" INTEGER NOT NULL,
    "application_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_account_bindings_pkey" PRIMARY KEY ("service_account_id","application_id")
);

-- CreateTable
CREATE TABLE "app_passwords" (
    "id" TEXT NOT NULL,
    "service_account_id" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "expires_at" TIMESTAMP(3),
    "last_used_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_passwords_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "verification_certificates" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "pem" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "jwk" TEXT NOT NULL,
    "not_before" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3),
    "issuer" TEXT,
    "subject_prefix" TEXT,
    "managed_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "verification_certificates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "certificate_bindings" (
    "certificate_id" INTEGER NOT NULL,
    "application_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "certificate_bindings_pkey" PRIMARY KEY ("certificate_id","application_id")
);

-- CreateTable
CREATE TABLE "jwks_sources" (
    "id" SERIAL NOT NULL,
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
    "fetched_at" TIMESTAMP(3),
    "fresh_until" TIMESTAMP(3),
    "last_error" TEXT,
    "last_error_at" TIMESTAMP(3),
    "managed_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "jwks_sources_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jwks_source_bindings" (
    "source_id" INTEGER NOT NULL,
    "application_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jwks_source_bindings_pkey" PRIMARY KEY ("source_id","application_id")
);

-- CreateTable
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "public_jwk" TEXT NOT NULL,
    "private_key" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "promote_at" TIMESTAMP(3),
    "activated_at" TIMESTAMP(3),
    "retired_at" TIMESTAMP(3),
    "publish_until" TIMESTAMP(3),
    "removed_at" TIMESTAMP(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" SERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "client_id" TEXT,
    "subject" TEXT,
    "reason" TEXT,
    "ip" TEXT,
    "details" TEXT,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "state_version" (
    "id" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,

    CONSTRAINT "state_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "used_assertions" (
    "issuer" TEXT NOT NULL,
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "used_assertions_pkey" PRIMARY KEY ("issuer","jti")
);

-- CreateTable
CREATE TABLE "policies" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "expression" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "managed_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_bindings" (
    "policy_id" INTEGER NOT NULL,
    "application_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_bindings_pkey" PRIMARY KEY ("policy_id","application_id")
);

-- CreateTable
CREATE TABLE "token_revocations" (
    "id" SERIAL NOT NULL,
    "jti" TEXT,
    "client_id" TEXT,
    "issued_before" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "token_revocations_pkey" PRIMARY KEY ("id")
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
CREATE UNIQUE INDEX "jwks_sources_name_key" ON "jwks_sources"("name");

-- CreateIndex
CREATE INDEX "jwks_sources_issuer_idx" ON "jwks_sources"("issuer");

-- CreateIndex
CREATE INDEX "jwks_source_bindings_application_id_idx" ON "jwks_source_bindings"("application_id");

-- CreateIndex
CREATE INDEX "signing_keys_state_idx" ON "signing_keys"("state");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE INDEX "audit_events_client_id_at_idx" ON "audit_events"("client_id", "at");

-- CreateIndex
CREATE INDEX "used_assertions_expires_at_idx" ON "used_assertions"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "policies_name_key" ON "policies"("name");

-- CreateIndex
CREATE INDEX "policy_bindings_application_id_position_idx" ON "policy_bindings"("application_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "token_revocations_jti_key" ON "token_revocations"("jti");

-- CreateIndex
CREATE INDEX "token_revocations_expires_at_idx" ON "token_revocations"("expires_at");

-- AddForeignKey
ALTER TABLE "service_account_bindings" ADD CONSTRAINT "service_account_bindings_service_account_id_fkey" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service_account_bindings" ADD CONSTRAINT "service_account_bindings_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "app_passwords" ADD CONSTRAINT "app_passwords_service_account_id_fkey" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificate_bindings" ADD CONSTRAINT "certificate_bindings_certificate_id_fkey" FOREIGN KEY ("certificate_id") REFERENCES "verification_certificates"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificate_bindings" ADD CONSTRAINT "certificate_bindings_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jwks_source_bindings" ADD CONSTRAINT "jwks_source_bindings_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "jwks_sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jwks_source_bindings" ADD CONSTRAINT "jwks_source_bindings_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_bindings" ADD CONSTRAINT "policy_bindings_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "policies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_bindings" ADD CONSTRAINT "policy_bindings_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Seed the single change-counter row that running servers poll.
INSERT INTO "state_version" ("id", "version") VALUES (1, 0);
