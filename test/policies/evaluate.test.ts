import test from 'ava';
import { policyContext } from '../../src/policies/context.ts';
import { countElements, decide, POLICY_COST_LIMIT, type BoundPolicy } from '../../src/policies/evaluate.ts';
import { compilePolicy, PolicyExpressionError, type PolicyContext, type PolicyKind } from '../../src/policies/expression.ts';
import type { Application, ServiceAccount } from '../../src/store/types.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function context(overrides: { jwt?: Record<string, unknown>; scopes?: string[]; serviceAccount?: Record<string, unknown> | null; ip?: string } = {}): PolicyContext {
  return {
    request: {
      context: {
        oauth_jwt: overrides.jwt ?? { iss: 'https://ci.example', sub: 'repo:acme/app', repository: 'acme/app', roles: ['deploy', 'read'] },
        oauth_scopes: overrides.scopes ?? ['read'],
        oauth_grant_type: JWT_BEARER,
      },
      ip: overrides.ip ?? '127.0.0.1',
    },
    client: { client_id: 'builds', name: 'builds', grant_types: [JWT_BEARER], scopes: ['read', 'write'], audiences: ['https://api.example'] },
    service_account: overrides.serviceAccount ?? null,
    now: new Date(),
  };
}

const policy = (name: string, expression: string, kind: PolicyKind = 'allow'): BoundPolicy => ({ name, compiled: compilePolicy(expression, kind) });
const allow = (name: string, expression: string) => policy(name, expression, 'allow');
const claims = (name: string, expression: string) => policy(name, expression, 'claims');

const TRUE = allow('always', 'true');
const FALSE = allow('never', 'false');

// ── modes ──────────────────────────────────────────────────────────────────────────────────

test('without policies, or with claims policies only, the request is allowed', (t) => {
  t.deepEqual(decide([], 'all', context()), { allowed: true, claims: {} });
  t.deepEqual(decide([], 'any', context()), { allowed: true, claims: {} });
  t.deepEqual(decide([claims('team', '{"team": "ci"}')], 'all', context()), { allowed: true, claims: { team: 'ci' } });
});

test('mode all: every allow policy must return true; the first that does not is named', (t) => {
  t.deepEqual(decide([TRUE, allow('also', '1 == 1')], 'all', context()), { allowed: true, claims: {} });
  t.deepEqual(decide([TRUE, FALSE, allow('later', '1 == 2')], 'all', context()), { allowed: false, policy: 'never', reason: 'returned false' });
  t.deepEqual(decide([FALSE], 'all', context()), { allowed: false, policy: 'never', reason: 'returned false' });
});

test('mode any: one allow policy returning true is enough', (t) => {
  t.deepEqual(decide([FALSE, TRUE], 'any', context()), { allowed: true, claims: {} });
  t.deepEqual(decide([TRUE, FALSE], 'any', context()), { allowed: true, claims: {} });
  const denied = decide([FALSE, allow('other', '1 == 2')], 'any', context());
  t.false(denied.allowed);
  if (!denied.allowed) {
    t.is(denied.reason, 'no allow policy returned true');
    t.true(['never', 'other'].includes(denied.policy));
  }
  t.like(decide([FALSE], 'any', context()), { allowed: false, policy: 'never', reason: 'returned false' });
});

test('the mode decides over what the request actually carries', (t) => {
  const read = allow('wants-read', '"read" in request.context.oauth_scopes');
  const write = allow('wants-write', '"write" in request.context.oauth_scopes');
  t.like(decide([read, write], 'all', context({ scopes: ['read'] })), { allowed: false, policy: 'wants-write' });
  t.like(decide([read, write], 'any', context({ scopes: ['read'] })), { allowed: true });
  t.like(decide([read, write], 'all', context({ scopes: ['read', 'write'] })), { allowed: true });
  t.like(decide([read, write], 'any', context({ scopes: [] })), { allowed: false });
});

// ── errors deny ────────────────────────────────────────────────────────────────────────────

test('a missing key is an error, and an error denies with its message as the reason', (t) => {
  const decision = decide([allow('needs-env', 'request.context.oauth_jwt.environment == "prod"')], 'all', context());
  t.like(decision, { allowed: false, policy: 'needs-env' });
  if (!decision.allowed) t.regex(decision.reason, /environment/);
  t.like(decide([allow('needs-env', 'request.context.oauth_jwt.environment == "prod"')], 'all', context({ jwt: { environment: 'prod' } })), { allowed: true });
});

test('a value of the wrong type is an error, and an error denies', (t) => {
  const level = allow('level', 'request.context.oauth_jwt.level > 3');
  t.like(decide([level], 'all', context({ jwt: { level: 5 } })), { allowed: true });
  const decision = decide([level], 'all', context({ jwt: { level: 'high' } }));
  t.like(decision, { allowed: false, policy: 'level' });
  if (!decision.allowed) t.regex(decision.reason, /no such overload/);
  t.like(decide([allow('sa', 'service_account.username == "robot"')], 'all', context()), { allowed: false, policy: 'sa' });
  // a dyn that turns out not to be a bool is not a yes
  for (const value of ['true', 1, ['x'], { a: true }]) {
    t.like(decide([allow('flag', 'request.context.oauth_jwt.flag')], 'all', context({ jwt: { flag: value } })), { allowed: false, policy: 'flag' }, JSON.stringify(value));
  }
});

test('an error counts as a deny in mode any, where another policy may still allow', (t) => {
  const broken = allow('broken', 'request.context.oauth_jwt.missing == "x"');
  t.like(decide([broken, TRUE], 'any', context()), { allowed: true });
  const alone = decide([broken, FALSE], 'any', context());
  t.false(alone.allowed);
  t.like(decide([broken], 'any', context()), { allowed: false, policy: 'broken' });
  t.like(decide([TRUE, broken], 'all', context()), { allowed: false, policy: 'broken' });
});

test('a stored expression that no longer compiles denies instead of throwing', (t) => {
  const stale: BoundPolicy = { name: 'stale', compiled: { kind: 'allow', costTerms: [], literalElements: 0, comprehensionDepth: 0, evaluate: () => { throw new Error('the stored expression no longer compiles: x'); } } };
  t.like(decide([stale], 'all', context()), { allowed: false, policy: 'stale', reason: 'the stored expression no longer compiles: x' });
});

// ── claims ─────────────────────────────────────────────────────────────────────────────────

test('claims policies map JWT claims into the token', (t) => {
  const mapped = decide([claims('repo', '{"repository": request.context.oauth_jwt.repository, "roles": request.context.oauth_jwt.roles}')], 'all', context());
  t.deepEqual(mapped, { allowed: true, claims: { repository: 'acme/app', roles: ['deploy', 'read'] } });
});

test("claims policies map a service account's groups and attributes", (t) => {
  const account = { username: 'robot', display_name: 'Robot', groups: ['etl', 'ops'], permissions: ['reports:read'], attributes: { team: 'platform', tier: 2 } };
  const decision = decide(
    [claims('sa', '{"permissions": service_account.groups.map(g, "group:" + g), "team": service_account.attributes.team, "tier": service_account.attributes.tier}')],
    'all',
    context({ serviceAccount: account }),
  );
  t.deepEqual(decision, { allowed: true, claims: { permissions: ['group:etl', 'group:ops'], team: 'platform', tier: 2 } });
});

test('claims policies are merged in order: a later one overrides an earlier one', (t) => {
  const decision = decide([claims('first', '{"team": "a", "env": "prod"}'), claims('second', '{"team": "b"}')], 'all', context());
  t.deepEqual(decision, { allowed: true, claims: { team: 'b', env: 'prod' } });
  t.deepEqual(decide([claims('second', '{"team": "b"}'), claims('first', '{"team": "a", "env": "prod"}')], 'all', context()), { allowed: true, claims: { team: 'a', env: 'prod' } });
});

test('claims policies run only once the allow policies have allowed the request', (t) => {
  const broken = claims('broken-claims', '{"x": request.context.oauth_jwt.missing}');
  t.like(decide([FALSE, broken], 'all', context()), { allowed: false, policy: 'never' });
  t.like(decide([broken, TRUE], 'all', context()), { allowed: false, policy: 'broken-claims' });
});

test('an error in a claims policy denies', (t) => {
  const decision = decide([claims('bad', '{"x": request.context.oauth_jwt.missing}')], 'all', context());
  t.like(decision, { allowed: false, policy: 'bad' });
  t.like(decide([claims('not-a-map', 'request.context.oauth_jwt.roles')], 'all', context()), { allowed: false, policy: 'not-a-map', reason: 'a claims policy must return a map' });
});

test('a computed protected claim name is refused at request time', (t) => {
  const computed = claims('sneaky', '{client.client_id == "builds" ? "sub" : "a": 1}');
  t.deepEqual(decide([computed], 'all', context()), { allowed: false, policy: 'sneaky', reason: 'claim sub is protected' });
  for (const name of ['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'src_iss']) {
    const named = claims('from-jwt', '{request.context.oauth_jwt.name: "forged"}');
    t.deepEqual(decide([named], 'all', context({ jwt: { name } })), { allowed: false, policy: 'from-jwt', reason: `claim ${name} is protected` }, name);
  }
  t.deepEqual(decide([claims('from-jwt', '{request.context.oauth_jwt.name: "fine"}')], 'all', context({ jwt: { name: 'team' } })), { allowed: true, claims: { team: 'fine' } });
});

test('a claims map built from the input JWT cannot smuggle protected claims', (t) => {
  // the whole input JWT holds iss and sub
  t.like(decide([claims('mirror', 'request.context["oauth_jwt"]')], 'all', context()), { allowed: false, policy: 'mirror', reason: 'claim iss is protected' });
  t.like(decide([claims('mirror', 'request.context.oauth_jwt.extra')], 'all', context({ jwt: { extra: { team: 'x', aud: 'https://evil.example' } } })), { allowed: false, reason: 'claim aud is protected' });
  t.deepEqual(decide([claims('mirror', 'request.context.oauth_jwt.extra')], 'all', context({ jwt: { extra: { team: 'x' } } })), { allowed: true, claims: { team: 'x' } });
});

test('claim values become JSON: integers as numbers, lists and maps converted deeply', (t) => {
  const decision = decide([claims('shapes', '{"n": 42, "max": 9007199254740991, "neg": -3, "d": 1.5, "s": "x", "b": true, "z": null, "l": [1, "a", [2]], "m": {"k": [3]}}')], 'all', context());
  t.deepEqual(decision, { allowed: true, claims: { n: 42, max: 9007199254740991, neg: -3, d: 1.5, s: 'x', b: true, z: null, l: [1, 'a', [2]], m: { k: [3] } } });
  t.notThrows(() => JSON.stringify(decision));
});

test('claim values that are not JSON deny', (t) => {
  for (const value of ['b"bytes"', 'now', 'duration("60s")', '1.0 / 0.0', '9007199254740993', '-9007199254740993', '[now]', '{"k": b"x"}']) {
    const decision = decide([claims('odd', `{"x": ${value}}`)], 'all', context());
    t.like(decision, { allowed: false, policy: 'odd' }, value);
    if (!decision.allowed) t.regex(decision.reason, /claim values must be JSON/, value);
  }
});

// ── cost ───────────────────────────────────────────────────────────────────────────────────

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);
const BIG = 'request.context.oauth_jwt.big';

test('three nested comprehensions over a 2000-element claim list are stopped by the cost limit, not run', (t) => {
  // if evaluated, this would be true: every pair has a largest element; 2000^3 steps would stall the server
  const expensive = allow('expensive', `${BIG}.all(a, ${BIG}.all(b, ${BIG}.exists(c, c >= a && c >= b)))`);
  const decision = decide([expensive], 'all', context({ jwt: { big: numbers(2000) } }));
  t.like(decision, { allowed: false, policy: 'expensive' });
  if (!decision.allowed) t.regex(decision.reason, /cost limit/);
  t.like(decide([expensive], 'all', context({ jwt: { big: numbers(5) } })), { allowed: true });
});

test('the cost limit applies to claims policies too', (t) => {
  const twoDeep = claims('pairs', `{"n": ${BIG}.filter(a, ${BIG}.exists(b, b == a)).size()}`);
  t.like(decide([twoDeep], 'all', context({ jwt: { big: numbers(50) } })), { allowed: true, claims: { n: 50 } });
  const decision = decide([twoDeep], 'all', context({ jwt: { big: numbers(2000) } }));
  t.like(decision, { allowed: false, policy: 'pairs' });
  if (!decision.allowed) t.regex(decision.reason, /cost limit/);
  t.true(2000 ** 2 > POLICY_COST_LIMIT);
  // a single comprehension over the same input is well within it
  t.like(decide([allow('one', `${BIG}.all(a, a >= 0)`)], 'all', context({ jwt: { big: numbers(2000) } })), { allowed: true });
});

test('membership tests over a large claim list inside a comprehension are bounded by the cost limit', (t) => {
  // one comprehension, but each step scans the whole list a hundred times: 2000 × 100 × 2000 steps
  const scans = Array.from({ length: 100 }, (_, i) => `-${i + 1} in ${BIG}`).join(' || ');
  const expensive = allow('scans', `${BIG}.all(a, !(${scans}))`);
  const decision = decide([expensive], 'all', context({ jwt: { big: numbers(2000) } }));
  t.like(decision, { allowed: false, policy: 'scans' });
  if (!decision.allowed) t.regex(decision.reason, /cost/);
});

test('nested comprehensions over large list literals are bounded too', (t) => {
  const literal = `[${numbers(250).join(',')}]`;
  const expression = `${literal}.all(a, ${literal}.all(b, ${literal}.all(c, a + b + c >= 0)))`;
  // refusing it when saved is as good as denying it per request; running 250^3 steps is not
  let compiled;
  try {
    compiled = compilePolicy(expression, 'allow');
  } catch (error) {
    t.true(error instanceof PolicyExpressionError);
    return;
  }
  const decision = decide([{ name: 'literal', compiled }], 'all', context());
  t.like(decision, { allowed: false, policy: 'literal' });
  if (!decision.allowed) t.regex(decision.reason, /cost/);
});

// ── the context ────────────────────────────────────────────────────────────────────────────

test('the policy context exposes the application and service account without ids, hashes or secrets', (t) => {
  const app: Application = {
    id: 7, clientId: 'reports', name: 'Reports', secretHash: '$argon2id$v=19$secret', secretId: 'abc', grantTypes: ['client_credentials'], scopes: ['read'],
    defaultScopes: ['read'], audiences: ['https://api.example'], accessTokenTtl: null, policyMode: 'all', authMethods: null, enabled: true, createdAt: new Date(), updatedAt: new Date(),
  };
  const account: ServiceAccount = {
    id: 3, username: 'robot', displayName: 'Robot', groups: ['ops'], permissions: ['p'], attributes: { team: 'x' }, enabled: true, applicationIds: [7], createdAt: new Date(),
  };
  const now = new Date('2030-01-01T00:00:00Z');
  const ctx = policyContext(app, ['read'], { grantType: 'client_credentials', ip: '10.0.0.1', serviceAccount: account }, now);
  t.deepEqual(ctx, {
    request: { context: { oauth_jwt: {}, oauth_scopes: ['read'], oauth_grant_type: 'client_credentials' }, ip: '10.0.0.1' },
    client: { client_id: 'reports', name: 'Reports', grant_types: ['client_credentials'], scopes: ['read'], audiences: ['https://api.example'] },
    service_account: { username: 'robot', display_name: 'Robot', groups: ['ops'], permissions: ['p'], attributes: { team: 'x' } },
    now,
  });
  t.false(JSON.stringify(ctx).includes('argon2'));
  const withJwt = policyContext(app, [], { grantType: JWT_BEARER, ip: '::1', jwtClaims: { iss: 'https://my.issuer' } });
  t.is(withJwt.service_account, null);
  t.deepEqual(withJwt.request.context.oauth_jwt, { iss: 'https://my.issuer' });
  t.like(decide([allow('authentik', 'request.context["oauth_jwt"]["iss"] == "https://my.issuer"')], 'all', withJwt), { allowed: true });
});

test('an unsigned int in a claims map becomes a JSON number', (t) => {
  t.deepEqual(decide([claims('uint', '{"n": 2u}')], 'all', context()), { allowed: true, claims: { n: 2 } });
});

test('chained comprehensions cost their sum, not their product: a chain over a 300-element claim list is allowed', (t) => {
  // three nested loops over 300 elements would be 27 million steps; one after the other they are not
  const big = Array.from({ length: 300 }, (_, i) => `g${i}`);
  const chain = allow('chain', 'request.context.oauth_jwt.groups.map(g, g + "!").filter(g, g != "").exists(g, g == "g7!")');
  t.deepEqual(decide([chain], 'all', context({ jwt: { groups: big } })), { allowed: true, claims: {} });
});

test('elements are counted without recursion, however deeply the input nests', (t) => {
  let deep: unknown = [1, 2];
  for (let i = 0; i < 200_000; i++) deep = { n: deep };
  t.is(countElements(deep), 200_002);
  t.is(countElements({ a: [1, { b: 2 }], c: new Date(), d: null }), 6);
});
