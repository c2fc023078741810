-- CreateTable
CREATE TABLE "token_revocations" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "jti" TEXT,
    "client_id" TEXT,
    "issued_before" DATETIME,
    "expires_at" DATETIME NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "token_revocations_jti_key" ON "token_revocations"("jti");

-- CreateIndex
CREATE INDEX "token_revocations_expires_at_idx" ON "token_revocations"("expires_at");
