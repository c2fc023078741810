import test from 'ava';
import { compilePolicy, ipIn, MAX_EXPRESSION_LENGTH, PolicyExpressionError, type PolicyContext, type PolicyKind } from '../../src/policies/expression.ts';

function context(overrides: { jwt?: Record<string, unknown> | null; scopes?: string[]; grantType?: string; ip?: string; serviceAccount?: Record<string, unknown> | null; now?: Date } = {}): PolicyContext {
  return {
    request: {
      context: {
        oauth_jwt: overrides.jwt === undefined ? { iss: 'https://my.issuer', sub: 'builder', groups: ['ci', 'deploy'] } : overrides.jwt,
        oauth_scopes: overrides.scopes ?? ['read'],
        oauth_grant_type: overrides.grantType ?? 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      },
      ip: overrides.ip ?? '127.0.0.1',
    },
    client: { client_id: 'builds', name: 'Builds', grant_types: ['client_credentials'], scopes: ['read', 'write'], audiences: ['https://api.example'] },
    service_account: overrides.serviceAccount ?? null,
    now: overrides.now ?? new Date('2030-06-01T12:00:00Z'),
  };
}

const evaluate = (expression: string, ctx: PolicyContext = context(), kind: PolicyKind = 'allow') => compilePolicy(expression, kind).evaluate(ctx);

function refused(t: import('ava').ExecutionContext, expression: string, kind: PolicyKind, message: RegExp | string): void {
  t.throws(() => compilePolicy(expression, kind), { instanceOf: PolicyExpressionError, message }, `${kind}: ${expression}`);
}

// ── the variables ──────────────────────────────────────────────────────────────────────────

test("authentik's example works as written", (t) => {
  const example = 'request.context["oauth_jwt"]["iss"] == "https://my.issuer"';
  t.true(evaluate(example) as boolean);
  t.false(evaluate(example, context({ jwt: { iss: 'https://other.issuer' } })) as boolean);
});

test('a leading return, as in an authentik Python policy, is accepted, with or without a trailing semicolon', (t) => {
  for (const expression of [
    'return request.context["oauth_jwt"]["iss"] == "https://my.issuer"',
    '  return   request.context["oauth_jwt"]["iss"] == "https://my.issuer";  ',
    'return\nrequest.context["oauth_jwt"]["iss"] == "https://my.issuer"',
  ]) {
    t.true(evaluate(expression) as boolean, expression);
    t.false(evaluate(expression, context({ jwt: { iss: 'https://other.issuer' } })) as boolean, expression);
  }
  // only a leading keyword is dropped: an identifier that starts with "return" is still a name
  refused(t, 'returned == true', 'allow', /Unknown variable: returned/);
});

test('scopes, grant type, ip, client, service account and now are visible by their SPEC names', (t) => {
  const account = { username: 'robot', display_name: 'Robot', groups: ['ops'], permissions: ['deploy'], attributes: { team: 'platform' } };
  const ctx = context({ scopes: ['read', 'write'], grantType: 'client_credentials', ip: '10.1.2.3', serviceAccount: account });
  for (const expression of [
    '"write" in request.context["oauth_scopes"]',
    'request.context.oauth_scopes.size() == 2',
    'request.context["oauth_grant_type"] == "client_credentials"',
    'request.ip == "10.1.2.3"',
    'client.client_id == "builds" && client.name == "Builds" && "https://api.example" in client.audiences',
    '"client_credentials" in client.grant_types && client.scopes == ["read", "write"]',
    'service_account.username == "robot" && "ops" in service_account.groups && service_account.permissions == ["deploy"]',
    'service_account.attributes.team == "platform" && service_account.display_name == "Robot"',
    'now > timestamp("2030-01-01T00:00:00Z") && now < timestamp("2031-01-01T00:00:00Z")',
    'now.getFullYear() == 2030',
  ]) {
    t.true(evaluate(expression, ctx) as boolean, expression);
  }
  t.true(evaluate('service_account == null') as boolean);
  t.false(evaluate('service_account != null && "ops" in service_account.groups') as boolean);
});

test('a variable that does not exist is refused when compiled, with its position', (t) => {
  refused(t, 'true && requst.ip == "10.0.0.1"', 'allow', 'Unknown variable: requst (line 1, column 9)');
  refused(t, 'jwt.iss == "x"', 'allow', /^Unknown variable: jwt \(line 1, column 1\)$/);
});

// ── refusals ───────────────────────────────────────────────────────────────────────────────

test("syntax errors carry the parser's message and the line and column it points at", (t) => {
  refused(t, '1 +', 'allow', 'Unexpected token: EOF (line 1, column 4)');
  refused(t, 'request.context.oauth_scopes.exists(s, s == )', 'allow', 'Unexpected token: RPAREN (line 1, column 45)');
  refused(t, 'true &&\n  requst.ip == "x"', 'allow', 'Unknown variable: requst (line 2, column 3)');
});

test('type errors are found when compiled, not at request time', (t) => {
  refused(t, '"a" + 1 == "a1"', 'allow', /^no such overload: string \+ int \(line 1, column \d+\)$/);
  refused(t, 'ip_in(request.ip, 8)', 'allow', /no matching overload for 'ip_in\(dyn, int\)'/);
  refused(t, 'ip_in(request.ip)', 'allow', /ip_in/);
});

test('an allow policy must return a bool; dyn is accepted and checked per request', (t) => {
  for (const [expression, type] of [['1 + 2', 'int'], ['"yes"', 'string'], ['{"a": true}', 'map<string, bool>'], ['[true]', 'list<bool>']]) {
    refused(t, expression!, 'allow', new RegExp(`must return a bool, and this expression returns ${type!.replace(/[<>]/g, '.')}`));
  }
  t.is(compilePolicy('request.context.oauth_jwt.admin', 'allow').kind, 'allow');
  t.true(evaluate('request.context.oauth_jwt.admin', context({ jwt: { admin: true } })) as boolean);
});

test('a claims policy must return a map; dyn is accepted and checked per request', (t) => {
  for (const expression of ['true', '"claims"', '[1]', '42']) refused(t, expression, 'claims', /must return a map/);
  t.is(compilePolicy('request.context.oauth_jwt.extra', 'claims').kind, 'claims');
  t.deepEqual(evaluate('{"team": request.context.oauth_jwt.groups[0]}', context(), 'claims'), { team: 'ci' });
});

test('an empty or over-long expression is refused', (t) => {
  for (const expression of ['', '   ', 'return', 'return ;']) t.throws(() => compilePolicy(expression, 'allow'), { instanceOf: PolicyExpressionError }, JSON.stringify(expression));
  refused(t, '', 'allow', 'the expression is empty');
  const long = `${'true && '.repeat(Math.ceil(MAX_EXPRESSION_LENGTH / 8))}true`;
  refused(t, long, 'allow', `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
});

test('a claims map literal naming a protected claim is refused when compiled', (t) => {
  for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'src_iss']) {
    refused(t, `{"team": "a", "${claim}": "forged"}`, 'claims', `claim ${claim} is protected: a policy cannot set it`);
  }
  // the same names are fine as values, nested, or in an allow policy
  t.deepEqual(evaluate('{"source": "sub", "nested": {"sub": 1}}', context(), 'claims'), { source: 'sub', nested: { sub: 1n } });
  t.true(evaluate('{"sub": 1}.sub == 1') as boolean);
});

test('a computed claim name compiles: it is checked on every request instead', (t) => {
  const policy = compilePolicy('{client.client_id == "builds" ? "sub" : "a": 1}', 'claims');
  t.deepEqual(policy.evaluate(context()), { sub: 1n });
});

// ── comprehensions ─────────────────────────────────────────────────────────────────────────

test('comprehensions nest three deep at most, and the depth is recorded for the cost limit', (t) => {
  const g = 'request.context.oauth_jwt.groups';
  t.is(compilePolicy('true', 'allow').comprehensionDepth, 0);
  t.is(compilePolicy(`${g}.exists(a, a == "ci")`, 'allow').comprehensionDepth, 1);
  // side by side is not nested
  t.is(compilePolicy(`${g}.all(a, a != "") && ${g}.exists(b, b == "ci") && ${g}.exists_one(c, c == "ci")`, 'allow').comprehensionDepth, 1);
  t.is(compilePolicy(`${g}.all(a, ${g}.exists(b, b == a))`, 'allow').comprehensionDepth, 2);
  const three = compilePolicy(`${g}.all(a, ${g}.all(b, ${g}.exists(c, c == a || c == b)))`, 'allow');
  t.is(three.comprehensionDepth, 3);
  t.true(three.evaluate(context()) as boolean);
  refused(t, `${g}.all(a, ${g}.all(b, ${g}.all(c, ${g}.exists(d, d == a))))`, 'allow', 'comprehensions (all, exists, exists_one, map, filter) may nest 3 deep at most');
  // a chain runs one comprehension after the other over at most N elements each: no nesting
  t.is(compilePolicy(`${g}.map(a, a).filter(b, b != "").exists(c, c == "ci")`, 'allow').comprehensionDepth, 1);
  t.is(compilePolicy(`${g}.map(a, a).map(b, b).filter(c, c != "").exists(d, d == "ci")`, 'allow').comprehensionDepth, 1);
  // inside a claims map, too
  refused(t, `{"x": ${g}.map(a, ${g}.map(b, ${g}.map(c, ${g}.map(d, d))))}`, 'claims', /may nest 3 deep at most/);
});

// ── matches() ──────────────────────────────────────────────────────────────────────────────

test('matches() with a plain literal pattern compiles and matches', (t) => {
  t.true(evaluate('request.context.oauth_jwt.sub.matches("^[a-z]+$")') as boolean);
  t.false(evaluate('request.context.oauth_jwt.sub.matches("^[0-9]+$")') as boolean);
  t.true(evaluate('client.client_id.matches("^(builds|reports)$")') as boolean);
});

test('matches() patterns that backtrack catastrophically are refused when compiled', (t) => {
  for (const pattern of ['^(a+)+$', '(a*)*', '(a|aa)*', '^(a|a?)+$', '(x+x+)+y', '(a{1,3}){2,}', '^(\\\\w+\\\\s?)*$']) {
    refused(t, `request.context.oauth_jwt.sub.matches("${pattern}")`, 'allow', 'matches() patterns may not repeat a group that itself repeats or alternates');
  }
});

test('matches() patterns with backreferences or lookaround are refused', (t) => {
  for (const pattern of ['(a)\\\\1', '(?=a)a', '(?!a)b', '(?<=a)b', '(?<!a)b']) {
    refused(t, `request.context.oauth_jwt.sub.matches("${pattern}")`, 'allow', 'matches() patterns may not use backreferences or lookaround');
  }
});

test('matches() takes a valid literal pattern of bounded length', (t) => {
  refused(t, 'request.context.oauth_jwt.sub.matches(client.client_id)', 'allow', 'matches() takes a string literal pattern');
  refused(t, 'request.context.oauth_jwt.sub.matches("^" + client.client_id)', 'allow', 'matches() takes a string literal pattern');
  refused(t, 'request.context.oauth_jwt.sub.matches("(")', 'allow', 'matches() pattern "(" is not a valid regular expression');
  refused(t, `request.context.oauth_jwt.sub.matches("${'a'.repeat(257)}")`, 'allow', 'a matches() pattern may have 256 characters at most');
  t.false(evaluate(`request.context.oauth_jwt.sub.matches("${'a'.repeat(256)}")`) as boolean);
});

// ── ip_in ──────────────────────────────────────────────────────────────────────────────────

test('ip_in matches IPv4 addresses against IPv4 ranges', (t) => {
  t.true(ipIn('127.0.0.1', '127.0.0.0/8'));
  t.true(ipIn('10.20.30.40', '10.0.0.0/8'));
  t.true(ipIn('192.168.1.7', '192.168.1.7/32'));
  t.true(ipIn('203.0.113.9', '0.0.0.0/0'));
  t.false(ipIn('11.0.0.1', '10.0.0.0/8'));
  t.false(ipIn('192.168.1.8', '192.168.1.7/32'));
});

test('ip_in matches IPv6 addresses against IPv6 ranges', (t) => {
  t.true(ipIn('::1', '::1/128'));
  t.true(ipIn('2001:db8::42', '2001:db8::/32'));
  t.true(ipIn('2001:DB8:0:0:0:0:0:1', '2001:db8::/32'));
  t.false(ipIn('2001:db9::1', '2001:db8::/32'));
  t.false(ipIn('::2', '::1/128'));
});

test('ip_in treats an IPv4-mapped IPv6 address as the IPv4 address it carries', (t) => {
  t.true(ipIn('::ffff:10.1.2.3', '10.0.0.0/8'));
  t.true(ipIn('::ffff:127.0.0.1', '127.0.0.0/8'));
  t.false(ipIn('::ffff:11.1.2.3', '10.0.0.0/8'));
  t.true(ipIn('10.1.2.3', '::ffff:10.0.0.0/104'));
  t.true(ipIn('127.0.0.1', '::ffff:127.0.0.0/104'));
  t.false(ipIn('11.1.2.3', '::ffff:10.0.0.0/104'));
});

test('ip_in is false, never an error, for other families, garbage addresses and garbage ranges', (t) => {
  t.false(ipIn('127.0.0.1', '::1/128'));
  t.false(ipIn('::1', '127.0.0.0/8'));
  t.false(ipIn('2001:db8::1', '0.0.0.0/0'));
  for (const ip of ['', 'localhost', '10.0.0.256', '10.0.0.1/8', ' 10.0.0.1', '[::1]']) t.false(ipIn(ip, '10.0.0.0/8'), JSON.stringify(ip));
  for (const cidr of ['', '10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', 'ten/8', '::/129']) t.false(ipIn('10.0.0.1', cidr), JSON.stringify(cidr));
});

// inet_aton's legacy forms read differently from one parser to the next ("012.0.0.1" is 10.0.0.1 in
// octal, 12.0.0.1 elsewhere), so an address in a JWT claim must be a plain dotted quad to match
test('ip_in does not take shorthand, octal, hexadecimal or integer IPv4 forms as addresses', (t) => {
  for (const ip of ['10.0.0', '10.1', '012.0.0.1', '0x0a.0.0.1', '0x0a000001', '167772161']) t.false(ipIn(ip, '10.0.0.0/8'), ip);
  for (const cidr of ['012.0.0.0/8', '10/8']) t.false(ipIn('10.0.0.1', cidr), cidr);
});

test('ip_in is callable from an expression on request.ip', (t) => {
  const inside = context({ ip: '10.9.8.7' });
  t.true(evaluate('ip_in(request.ip, "10.0.0.0/8")', inside) as boolean);
  t.false(evaluate('ip_in(request.ip, "192.168.0.0/16")', inside) as boolean);
  t.true(evaluate('ip_in(request.ip, "192.168.0.0/16") || ip_in(request.ip, "10.0.0.0/8")', inside) as boolean);
  t.true(evaluate('ip_in(request.ip, "2001:db8::/32")', context({ ip: '2001:db8::7' })) as boolean);
  t.false(evaluate('ip_in(request.ip, "10.0.0.0/8")', context({ ip: 'garbage' })) as boolean);
});

test('matches() accepts named groups, which are not lookaround', (t) => {
  t.true(evaluate('"2026-11".matches("^(?<year>[0-9]{4})-[0-9]{2}$")') as boolean);
  refused(t, '"ab".matches("(?<=a)b")', 'allow', /lookaround/);
  refused(t, '"aa".matches("(?<x>a)\\\\k<x>")', 'allow', /backreferences/);
});
