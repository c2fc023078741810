import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, environmentWithDotenv, loadConfig } from '../src/config.ts';

const CWD = '/srv/tokenmint';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env, CWD);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

test('an empty environment gives the documented defaults', (t) => {
  const config = loadConfig({}, CWD);
  t.is(config.port, 3000);
  t.is(config.host, '0.0.0.0');
  t.is(config.issuer, 'http://localhost:3000');
  t.is(config.signingAlg, 'RS256');
  t.is(config.accessTokenTtl, 600);
  t.is(config.keyRotationDays, 90);
  t.is(config.keyPublishAheadSeconds, 600);
  t.is(config.revokedTokensPerApplication, 10_000);
  t.deepEqual(config.argon2, { memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  t.is(config.databaseUrl, 'file:./data/tokenmint.db');
  t.is(config.databaseFile, '/srv/tokenmint/data/tokenmint.db');
  t.is(config.dataDir, '/srv/tokenmint/data');
  t.is(config.keyEncryptionKey, undefined);
  t.is(config.trustProxyHops, 0);
  t.is(config.clientAssertionAudience, 'strict');
  t.false(config.jwksAllowPrivateNetworks);
  t.is(config.auditRetentionDays, 30);
  t.true(Number.isInteger(config.workers) && config.workers >= 1);
  t.true(config.metrics);
  t.is(config.metricsPort, undefined);
});

test('METRICS_PORT moves /metrics to a port of its own; METRICS=false switches metrics off, port included', (t) => {
  t.is(loadConfig({ METRICS_PORT: '9464' }, CWD).metricsPort, 9464);
  const off = loadConfig({ METRICS: 'false', METRICS_PORT: '9464' }, CWD);
  t.false(off.metrics);
  t.is(off.metricsPort, undefined);
  t.deepEqual(problemsOf({ METRICS_PORT: '3000' }), ['METRICS_PORT: must differ from PORT (got "3000")']);
  t.deepEqual(problemsOf({ PORT: '8080', METRICS_PORT: '8080' }), ['METRICS_PORT: must differ from PORT (got "8080")']);
  t.is(loadConfig({ PORT: '8080', METRICS_PORT: '3000' }, CWD).metricsPort, 3000);
});

test('KEY_ROTATION_DAYS=0 turns scheduled rotation off; KEY_PUBLISH_AHEAD and REVOKED_TOKENS_PER_APPLICATION have bounds', (t) => {
  t.is(loadConfig({ KEY_ROTATION_DAYS: '0' }, CWD).keyRotationDays, 0);
  t.is(loadConfig({ KEY_PUBLISH_AHEAD: '2' }, CWD).keyPublishAheadSeconds, 2);
  for (const [name, value] of [['KEY_ROTATION_DAYS', '-1'], ['KEY_PUBLISH_AHEAD', '1'], ['KEY_PUBLISH_AHEAD', '2592001'], ['REVOKED_TOKENS_PER_APPLICATION', '0']] as const) {
    t.regex(problemsOf({ [name]: value })[0]!, new RegExp(`^${name}`), `${name}=${value}`);
  }
});

test('the configuration is frozen', (t) => {
  const config = loadConfig({}, CWD);
  t.true(Object.isFrozen(config));
  t.true(Object.isFrozen(config.argon2));
});

test('the default issuer follows PORT; ISSUER_URL wins', (t) => {
  t.is(loadConfig({ PORT: '8080' }, CWD).issuer, 'http://localhost:8080');
  t.is(loadConfig({ PORT: '8080', ISSUER_URL: 'https://auth.example.com' }, CWD).issuer, 'https://auth.example.com');
});

test('empty variables count as unset', (t) => {
  const config = loadConfig({ PORT: '', SIGNING_ALG: '', ISSUER_URL: '' }, CWD);
  t.is(config.port, 3000);
  t.is(config.signingAlg, 'RS256');
  t.is(config.issuer, 'http://localhost:3000');
});

test('variables are parsed into their types', (t) => {
  const kek = randomBytes(32);
  const config = loadConfig(
    {
      PORT: '0',
      SIGNING_ALG: 'EdDSA',
      ACCESS_TOKEN_TTL: '30',
      KEY_ENCRYPTION_KEY: kek.toString('base64'),
      TRUST_PROXY: 'yes',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_ITERATIONS: '3',
      ARGON2_PARALLELISM: '4',
      WORKERS: '2',
      CLIENT_ASSERTION_AUDIENCE: 'compat',
      JWKS_ALLOW_PRIVATE_NETWORKS: '1',
    },
    CWD,
  );
  t.is(config.port, 0);
  t.is(config.signingAlg, 'EdDSA');
  t.is(config.accessTokenTtl, 30);
  t.deepEqual(config.keyEncryptionKey, kek);
  t.is(config.trustProxyHops, 1);
  t.deepEqual(config.argon2, { memoryCost: 8192, timeCost: 3, parallelism: 4 });
  t.is(config.workers, 2);
  t.is(config.clientAssertionAudience, 'compat');
  t.true(config.jwksAllowPrivateNetworks);
});

const DATABASE_URLS: [string, string, string][] = [
  ['file:./data/x.db', '/srv/tokenmint/data/x.db', '/srv/tokenmint/data'],
  ['file:x.db', '/srv/tokenmint/x.db', '/srv/tokenmint'],
  ['file:/var/lib/tokenmint/db.sqlite', '/var/lib/tokenmint/db.sqlite', '/var/lib/tokenmint'],
  ['file:/var/lib/tokenmint/db.sqlite?connection_limit=1', '/var/lib/tokenmint/db.sqlite', '/var/lib/tokenmint'],
];

for (const [url, file, dir] of DATABASE_URLS) {
  test(`DATABASE_URL ${url} is the file ${file} in ${dir}`, (t) => {
    const config = loadConfig({ DATABASE_URL: url }, CWD);
    t.is(config.databaseFile, file);
    t.is(config.dataDir, dir);
  });
}

const BAD: [string, Record<string, string>][] = [
  ['PORT', { PORT: 'abc' }],
  ['PORT', { PORT: '65536' }],
  ['PORT', { PORT: '-1' }],
  ['SIGNING_ALG', { SIGNING_ALG: 'HS256' }],
  ['SIGNING_ALG', { SIGNING_ALG: 'none' }],
  ['KEY_ENCRYPTION_KEY', { KEY_ENCRYPTION_KEY: 'short' }],
  ['KEY_ENCRYPTION_KEY', { KEY_ENCRYPTION_KEY: Buffer.alloc(16, 7).toString('base64') }],
  ['KEY_ENCRYPTION_KEY', { KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('hex') }],
  ['ISSUER_URL', { ISSUER_URL: 'https://auth.example.com/?tenant=1' }],
  ['ISSUER_URL', { ISSUER_URL: 'https://auth.example.com/#top' }],
  ['ISSUER_URL', { ISSUER_URL: 'https://user:pass@auth.example.com' }],
  ['ISSUER_URL', { ISSUER_URL: 'ftp://auth.example.com' }],
  ['ISSUER_URL', { ISSUER_URL: 'auth.example.com' }],
  ['TRUST_PROXY', { TRUST_PROXY: 'maybe' }],
  ['JWKS_ALLOW_PRIVATE_NETWORKS', { JWKS_ALLOW_PRIVATE_NETWORKS: 'sure' }],
  ['ACCESS_TOKEN_TTL', { ACCESS_TOKEN_TTL: '29' }],
  ['ACCESS_TOKEN_TTL', { ACCESS_TOKEN_TTL: '10m' }],
  ['ARGON2_MEMORY_KIB', { ARGON2_MEMORY_KIB: '1024' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://db.example/tokenmint' }],
  ['DATABASE_URL', { DATABASE_URL: 'postgres://db.example/tokenmint?schema=a-b' }],
  ['DATABASE_URL', { DATABASE_URL: 'postgresql://' }],
  ['KEY_ENCRYPTION_KEY', { DATABASE_URL: 'postgres://db.example/tokenmint' }],
  ['DATABASE_POOL_SIZE', { DATABASE_POOL_SIZE: '0' }],
  ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ['CLIENT_ASSERTION_AUDIENCE', { CLIENT_ASSERTION_AUDIENCE: 'loose' }],
  ['WORKERS', { WORKERS: '0' }],
  ['METRICS', { METRICS: 'off' }],
  ['METRICS_PORT', { METRICS_PORT: '0' }],
  ['METRICS_PORT', { METRICS_PORT: '65536' }],
  ['METRICS_PORT', { METRICS_PORT: 'metrics' }],
];

for (const [name, env] of BAD) {
  test(`${name}=${JSON.stringify(Object.values(env)[0])} gives one problem line naming ${name}`, (t) => {
    const problems = problemsOf(env);
    t.is(problems.length, 1, problems.join('\n'));
    t.true(problems[0]!.startsWith(`${name}: `), problems[0]);
    t.false(problems[0]!.includes('\n'));
  });
}

test('several bad variables give one line each', (t) => {
  const problems = problemsOf({ PORT: 'abc', SIGNING_ALG: 'HS256', KEY_ENCRYPTION_KEY: 'short', ISSUER_URL: 'https://x.example/?q=1', TRUST_PROXY: 'maybe' });
  t.deepEqual(
    problems.map((p) => p.slice(0, p.indexOf(':'))).sort(),
    ['ISSUER_URL', 'KEY_ENCRYPTION_KEY', 'PORT', 'SIGNING_ALG', 'TRUST_PROXY'],
  );
  t.true(problems.every((p) => !p.includes('\n')));
});

test('the ConfigError message is the problem lines', (t) => {
  const error = t.throws(() => loadConfig({ PORT: 'abc', TRUST_PROXY: 'maybe' }, CWD), { instanceOf: ConfigError });
  t.is(error?.message, error?.problems.join('\n'));
});

test('a problem line says what was given and what is expected', (t) => {
  const [line] = problemsOf({ SIGNING_ALG: 'HS256' });
  t.regex(line!, /HS256/);
  t.regex(line!, /RS256, PS256, ES256, EdDSA/);
});

test('a bad KEY_ENCRYPTION_KEY is not echoed in its problem line', (t) => {
  const nearlyAKey = randomBytes(32).toString('base64').slice(0, -2);
  const [line] = problemsOf({ KEY_ENCRYPTION_KEY: nearlyAKey });
  t.true(line!.startsWith('KEY_ENCRYPTION_KEY: '));
  t.false(line!.includes(nearlyAKey));
});

test('unknown variables are ignored', (t) => {
  t.notThrows(() => loadConfig({ SOMETHING_ELSE: 'x', PATH: '/usr/bin' }, CWD));
});

function withDotenv(content: string, run: (path: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-config-'));
  try {
    const path = join(dir, '.env');
    writeFileSync(path, content);
    run(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('environmentWithDotenv reads a .env file', (t) => {
  withDotenv('PORT=4000\n# a comment\nSIGNING_ALG="ES256"\nISSUER_URL=https://auth.example.com\n', (path) => {
    const env = environmentWithDotenv({}, path);
    t.is(env.PORT, '4000');
    t.is(env.SIGNING_ALG, 'ES256');
    const config = loadConfig(env, CWD);
    t.is(config.port, 4000);
    t.is(config.signingAlg, 'ES256');
    t.is(config.issuer, 'https://auth.example.com');
  });
});

test('the real environment wins over the .env file', (t) => {
  withDotenv('PORT=4000\nSIGNING_ALG=ES256\n', (path) => {
    const env = environmentWithDotenv({ PORT: '5000', OTHER: 'kept' }, path);
    t.is(env.PORT, '5000');
    t.is(env.SIGNING_ALG, 'ES256');
    t.is(env.OTHER, 'kept');
    t.is(loadConfig(env, CWD).port, 5000);
  });
});

test('a bad value in the .env file is reported like one in the environment', (t) => {
  withDotenv('TRUST_PROXY=maybe\n', (path) => {
    const problems = problemsOf(environmentWithDotenv({}, path));
    t.is(problems.length, 1);
    t.true(problems[0]!.startsWith('TRUST_PROXY: '));
  });
});

test('a missing .env file is not an error', (t) => {
  const env = environmentWithDotenv({ PORT: '5000' }, join(tmpdir(), 'tokenmint-no-such-dir', '.env'));
  t.deepEqual(env, { PORT: '5000' });
});

test('ISSUER_URL may carry a plain path; a path the router would read as a pattern is refused', (t) => {
  t.is(loadConfig({ ISSUER_URL: 'https://auth.example.com/tm' }, CWD).issuer, 'https://auth.example.com/tm');
  t.is(loadConfig({ ISSUER_URL: 'https://auth.example.com/a/b-c_d.e~f/' }, CWD).issuer, 'https://auth.example.com/a/b-c_d.e~f/');
  t.is(loadConfig({ ISSUER_URL: 'https://auth.example.com/t%20m' }, CWD).issuer, 'https://auth.example.com/t%20m');
  t.is(loadConfig({ ISSUER_URL: 'https://auth.example.com' }, CWD).issuer, 'https://auth.example.com');
  const refused = [
    'https://auth.example.com/:id',
    'https://auth.example.com/a(b)',
    'https://auth.example.com/*',
    // what the URL parser would rewrite: the issuer must be exactly what clients see
    'https://auth.example.com/t m',
    'https://auth.example.com/tm\n',
    'https://auth.example.com/x/../tm',
    'https://auth.example.com/tm#',
    'https://auth.example.com/tm?',
    'https://auth.example.com\\tm',
    'https://auth.example.com/a%',
    'https://auth.example.com/a%zz',
  ];
  for (const bad of refused) {
    t.regex(problemsOf({ ISSUER_URL: bad })[0]!, /^ISSUER_URL: must be an http\(s\) URL/, bad);
  }
});

test('.env.example: every value line, uncommented alone or all together, is accepted', (t) => {
  const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const valueLines = example.split('\n').filter((line) => /^# [A-Z][A-Z0-9_]*=/.test(line));
  t.true(valueLines.length >= 25, `${valueLines.length} value lines`);
  const documented = new Set(valueLines.map((line) => line.slice(2, line.indexOf('='))));
  const dir = mkdtempSync(join(tmpdir(), 'tm-env-'));
  try {
    const file = join(dir, '.env');
    for (const line of valueLines) {
      writeFileSync(file, `${line.slice(2)}\n`);
      t.notThrows(() => loadConfig(environmentWithDotenv({}, file), CWD), line);
    }
    writeFileSync(file, example.replace(/^# ([A-Z][A-Z0-9_]*=)/gm, '$1'));
    t.notThrows(() => loadConfig(environmentWithDotenv({}, file), CWD));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // every variable the configuration reads is in the example
  for (const name of ['ISSUER_URL', 'DATABASE_URL', 'SIGNING_ALG', 'WORKERS', 'TRUST_PROXY', 'PUBLISH_SCOPES', 'CLIENT_ASSERTION_AUDIENCE', 'METRICS', 'METRICS_PORT']) t.true(documented.has(name), name);
});
