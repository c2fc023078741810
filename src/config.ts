import { availableParallelism } from 'node:os';
import { parse as parseDotenv } from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { defaultMaxConnections } from './fd-limit.ts';
import { postgresUrlProblems, redactedUrl } from './store/postgres-url.ts';

/** The longest access-token lifetime any setting allows: whatever was issued has expired this long after. */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 86_400;

export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `must be a whole number between ${min} and ${max}` })
    .transform(Number)
    .pipe(z.number().min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }));

const issuerUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      // as written, nothing the URL parser would normalise away (spaces, dot segments, an empty ? or #)
      const asWritten = (url.href === value || url.href === `${value}/`) && !/[?#]/.test(value);
      const plainPath = /^(\/(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+)*\/?$/.test(url.pathname);
      return (url.protocol === 'https:' || url.protocol === 'http:') && asWritten && !url.search && !url.hash && !url.username && plainPath;
    } catch {
      return false;
    }
  },
  { message: 'must be an http(s) URL without query, fragment or credentials, its path made of letters, digits and . _ ~ % -' },
);

const keyEncryptionKey = z.string().refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v), {
  message: 'must be 32 bytes in base64 (openssl rand -base64 32)',
});

const schema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  ISSUER_URL: issuerUrl.optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(file:.+|postgres(ql)?:\/\/.+)/, { message: 'must be a SQLite file URL such as file:./data/tokenmint.db, or a PostgreSQL URL such as postgresql://user:password@host:5432/tokenmint' })
    .superRefine((url, check) => {
      if (!url.startsWith('postgres')) return;
      for (const message of postgresUrlProblems(url)) check.addIssue({ code: 'custom', message });
    })
    .default('file:./data/tokenmint.db'),
  DATABASE_POOL_SIZE: int(1, 1000).default(5),
  KEY_ENCRYPTION_KEY: keyEncryptionKey.optional(),
  SIGNING_ALG: z.enum(SIGNING_ALGS, { message: `must be one of ${SIGNING_ALGS.join(', ')}` }).default('RS256'),
  ACCESS_TOKEN_TTL: int(30, MAX_ACCESS_TOKEN_TTL_SECONDS).default(600),
  KEY_ROTATION_DAYS: int(0, 3650).default(90),
  KEY_PUBLISH_AHEAD: int(2, 30 * 86_400).default(600),
  WORKERS: int(1, 256).optional(),
  MAX_CONNECTIONS: int(1, 1_000_000).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|yes|no|[0-9]|10)$/, { message: 'must be false, true (one proxy) or the number of proxies in front, 0-10' })
    .transform((v) => (v === 'true' || v === 'yes' ? 1 : v === 'false' || v === 'no' ? 0 : Number(v)))
    .default(0),
  ARGON2_MEMORY_KIB: int(8 * 1024, 4 * 1024 * 1024).default(19 * 1024),
  ARGON2_ITERATIONS: int(1, 100).default(2),
  ARGON2_PARALLELISM: int(1, 64).default(1),
  VERIFIED_SECRET_CACHE_SECONDS: int(0, 3600).default(300),
  ARGON2_MAX_CONCURRENT: int(1, 64).optional(),
  ARGON2_MAX_QUEUE: int(0, 100_000).default(256),
  AUDIT_RETENTION_DAYS: int(1, 3650).default(30),
  AUTH_FAILURES_PER_MINUTE: int(0, 1_000_000).default(60),
  AUTH_FAILURES_PER_MINUTE_PER_ADDRESS: int(1, 10_000_000).optional(),
  AUDIT_DENIED_PER_SECOND: int(1, 100_000).default(20),
  REVOKED_TOKENS_PER_APPLICATION: int(1, 1_000_000).default(10_000),
  CLIENT_ASSERTION_AUDIENCE: z.enum(['strict', 'compat']).default('strict'),
  PUBLISH_SCOPES: bool.default(false),
  JWKS_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  JWKS_FETCH_TIMEOUT_SECONDS: int(1, 60).default(5),
  JWKS_REFRESH_COOLDOWN_SECONDS: int(1, 3600).default(30),
  METRICS: bool.default(true),
  METRICS_PORT: int(1, 65535).optional(),
});

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly file: string }
  | {
      readonly kind: 'postgresql';
      /** as configured, password included: never logged (see redactedUrl) */
      readonly url: string;
      /** connections each process keeps to the database, at most */
      readonly poolSize: number;
    };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly databaseUrl: string;
  /** where the store lives: a SQLite file, or a PostgreSQL database shared by several nodes */
  readonly database: DatabaseConfig;
  /** absolute path of the SQLite file; empty on PostgreSQL */
  readonly databaseFile: string;
  /** the directory holding the database (and a generated key-encryption key) */
  readonly dataDir: string;
  readonly keyEncryptionKey: Buffer | undefined;
  readonly signingAlg: SigningAlg;
  readonly accessTokenTtl: number;
  /** 0: manual rotation only */
  readonly keyRotationDays: number;
  /** a next key is published this long before it may sign; the JWKS max-age is at most half of it */
  readonly keyPublishAheadSeconds: number;
  readonly workers: number;
  /** open connections per process; beyond it new ones are refused (default: from the open-file limit) */
  readonly maxConnections: number;
  readonly logLevel: string;
  /** how many reverse proxies in front append to X-Forwarded-For (0: use the socket address) */
  readonly trustProxyHops: number;
  readonly argon2: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number };
  readonly argon2MaxConcurrent: number;
  readonly argon2MaxQueue: number;
  readonly verifiedSecretCacheSeconds: number;
  readonly auditRetentionDays: number;
  /** failed authentications allowed per caller (client_id, with username) from one address and minute before 429 slow_down; 0 = off */
  readonly authFailuresPerMinute: number;
  /** failed authentications allowed per address and minute, whoever they name */
  readonly authFailuresPerMinutePerAddress: number;
  /** refused token requests audited one by one per second and process; beyond that they are summarised */
  readonly auditDeniedPerSecond: number;
  /** tokens of one application revoked one by one and not yet expired, at most */
  readonly revokedTokensPerApplication: number;
  readonly clientAssertionAudience: 'strict' | 'compat';
  readonly jwksAllowPrivateNetworks: boolean;
  /** discovery's scopes_supported lists every enabled application's scopes (off: not published) */
  readonly publishScopes: boolean;
  /** the whole budget of one JWKS or discovery fetch */
  readonly jwksFetchTimeoutMs: number;
  /** an unknown kid refreshes a source at most once per this interval */
  readonly jwksRefreshCooldownMs: number;
  /** false: nothing is measured and /metrics is served nowhere */
  readonly metrics: boolean;
  /** /metrics is served by the primary on this port (on HOST), and not on the main port */
  readonly metricsPort: number | undefined;
}

/** Their values are never repeated in an error message. */
const SECRET_VARIABLES = new Set(['KEY_ENCRYPTION_KEY']);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** Reads `.env` from the working directory; real environment variables win. */
export function environmentWithDotenv(env: NodeJS.ProcessEnv = process.env, dotenvPath = '.env'): Record<string, string | undefined> {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  return { ...fromFile, ...env };
}

export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const present = Object.fromEntries(Object.keys(schema.shape).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const shown = SECRET_VARIABLES.has(name) ? 'value not shown' : name === 'DATABASE_URL' ? shownDatabaseUrl(String(present[name])) : `got ${JSON.stringify(present[name])}`;
        return `${name}: ${issue.message} (${shown})`;
      }),
    );
  }
  const c = result.data;
  if (c.METRICS_PORT !== undefined && c.METRICS_PORT === c.PORT) {
    throw new ConfigError([`METRICS_PORT: must differ from PORT (got ${JSON.stringify(present.METRICS_PORT)})`]);
  }
  const postgres = c.DATABASE_URL.startsWith('postgres');
  if (postgres && !c.KEY_ENCRYPTION_KEY) {
    throw new ConfigError([
      'KEY_ENCRYPTION_KEY: must be set when DATABASE_URL is a PostgreSQL URL: every node decrypts the same signing keys, so every node needs the same key (openssl rand -base64 32)',
    ]);
  }
  const databaseFile = postgres ? '' : resolveFilePath(c.DATABASE_URL.slice('file:'.length), cwd);
  const database: DatabaseConfig = postgres ? { kind: 'postgresql', url: c.DATABASE_URL, poolSize: c.DATABASE_POOL_SIZE } : { kind: 'sqlite', file: databaseFile };
  return Object.freeze({
    port: c.PORT,
    host: c.HOST,
    issuer: c.ISSUER_URL ?? `http://localhost:${c.PORT}`,
    databaseUrl: c.DATABASE_URL,
    database: Object.freeze(database),
    databaseFile,
    dataDir: postgres ? resolveFilePath('data', cwd) : databaseFile.slice(0, databaseFile.lastIndexOf('/')) || '/',
    keyEncryptionKey: c.KEY_ENCRYPTION_KEY ? Buffer.from(c.KEY_ENCRYPTION_KEY, 'base64') : undefined,
    signingAlg: c.SIGNING_ALG,
    accessTokenTtl: c.ACCESS_TOKEN_TTL,
    keyRotationDays: c.KEY_ROTATION_DAYS,
    keyPublishAheadSeconds: c.KEY_PUBLISH_AHEAD,
    workers: c.WORKERS ?? availableParallelism(),
    maxConnections: c.MAX_CONNECTIONS ?? defaultMaxConnections(),
    logLevel: c.LOG_LEVEL,
    trustProxyHops: c.TRUST_PROXY,
    argon2: Object.freeze({ memoryCost: c.ARGON2_MEMORY_KIB, timeCost: c.ARGON2_ITERATIONS, parallelism: c.ARGON2_PARALLELISM }),
    argon2MaxConcurrent: c.ARGON2_MAX_CONCURRENT ?? defaultArgon2Threads(c.WORKERS ?? availableParallelism()),
    argon2MaxQueue: c.ARGON2_MAX_QUEUE,
    verifiedSecretCacheSeconds: c.VERIFIED_SECRET_CACHE_SECONDS,
    auditRetentionDays: c.AUDIT_RETENTION_DAYS,
    authFailuresPerMinute: c.AUTH_FAILURES_PER_MINUTE,
    authFailuresPerMinutePerAddress: c.AUTH_FAILURES_PER_MINUTE_PER_ADDRESS ?? Math.max(1, c.AUTH_FAILURES_PER_MINUTE * 10),
    auditDeniedPerSecond: c.AUDIT_DENIED_PER_SECOND,
    revokedTokensPerApplication: c.REVOKED_TOKENS_PER_APPLICATION,
    clientAssertionAudience: c.CLIENT_ASSERTION_AUDIENCE,
    jwksAllowPrivateNetworks: c.JWKS_ALLOW_PRIVATE_NETWORKS,
    publishScopes: c.PUBLISH_SCOPES,
    jwksFetchTimeoutMs: c.JWKS_FETCH_TIMEOUT_SECONDS * 1000,
    jwksRefreshCooldownMs: c.JWKS_REFRESH_COOLDOWN_SECONDS * 1000,
    metrics: c.METRICS,
    metricsPort: c.METRICS ? c.METRICS_PORT : undefined,
  });
}

/** A SQLite path is shown as given; anything else only with its password hidden, and not at all when it does not parse. */
function shownDatabaseUrl(value: string): string {
  if (value.startsWith('file:')) return `got ${JSON.stringify(value)}`;
  return URL.canParse(value) ? `got ${JSON.stringify(redactedUrl(value))}` : 'value not shown';
}

/** argon2 is CPU-bound: all processes together get about one thread per core. */
function defaultArgon2Threads(workers: number): number {
  return Math.max(1, Math.ceil(availableParallelism() / workers));
}

function resolveFilePath(path: string, cwd: string): string {
  const clean = path.split('?')[0] ?? path;
  return clean.startsWith('/') ? clean : `${cwd.replace(/\/$/, '')}/${clean.replace(/^\.\//, '')}`;
}
