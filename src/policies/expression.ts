// CEL policy expressions: parsed, type-checked and bounded when saved, compiled once, evaluated
// per token request. Only the context below is visible; there is no I/O and no clock but `now`.
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import ipaddr from 'ipaddr.js';
import { PROTECTED_CLAIMS } from '../tokens/access-token.ts';
import type { PolicyKind } from './kinds.ts';

export { POLICY_KINDS, type PolicyKind } from './kinds.ts';

export const MAX_EXPRESSION_LENGTH = 4096;
/** Claims policies may not set these: the token's identity, and where an exchanged JWT came from. */
export const POLICY_PROTECTED_CLAIMS: ReadonlySet<string> = new Set([...PROTECTED_CLAIMS, 'src_iss']);
/** Macros that iterate (CEL's comprehensions); nesting multiplies their cost. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const MAX_COMPREHENSION_DEPTH = 3;
const MAX_PATTERN_LENGTH = 256;

/** A refused expression: the message carries the parser's or checker's text with the position. */
export class PolicyExpressionError extends Error {}

export interface CompiledPolicy {
  kind: PolicyKind;
  /**
   * The expression's cost as a polynomial in N, the number of list and map elements it may meet:
   * `costTerms[k]` steps cost N^k each. Inside k nested comprehensions a step runs N^k times, and
   * an operator that scans a list (`in`, `==`, `+`, function calls) costs one more factor N.
   */
  costTerms: number[];
  /** elements of the expression's own list and map literals, added to N */
  literalElements: number;
  /** how deeply comprehensions nest (a chain such as `l.map(...).filter(...)` does not nest) */
  comprehensionDepth: number;
  evaluate(context: PolicyContext): unknown;
}

/** The variables of SPEC §5. */
export interface PolicyContext {
  request: { context: { oauth_jwt: Record<string, unknown> | null; oauth_scopes: string[]; oauth_grant_type: string }; ip: string };
  client: Record<string, unknown>;
  service_account: Record<string, unknown> | null;
  now: Date;
}

const environment = new Environment({
  limits: { maxAstNodes: 1000, maxDepth: 32, maxListElements: 256, maxMapEntries: 256, maxCallArguments: 8 },
  homogeneousAggregateLiterals: false,
})
  .registerVariable('request', 'map')
  .registerVariable('client', 'map')
  .registerVariable('service_account', 'dyn')
  .registerVariable('now', 'google.protobuf.Timestamp')
  .registerFunction('ip_in(string, string): bool', ipIn);

/**
 * `ip_in(ip, "10.0.0.0/8")`: false for anything that is not an address in the range, never an
 * error. Only dotted four-part decimal IPv4 and standard IPv6 count as addresses: shorthand,
 * octal or integer forms (`10.1`, `012.0.0.1`, `167772161`) mean different hosts to different parsers.
 */
export function ipIn(ip: string, cidr: string): boolean {
  const slash = cidr.indexOf('/');
  if (slash < 0 || !isPlainAddress(ip) || !isPlainAddress(cidr.slice(0, slash)) || !/^\d{1,3}$/.test(cidr.slice(slash + 1))) return false;
  try {
    const address = ipaddr.process(ip);
    const [network, bits] = ipaddr.parseCIDR(cidr);
    const candidate = address.kind() === network.kind() ? address : address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : null;
    return candidate !== null && candidate.match([network, bits] as [typeof candidate, number]);
  } catch {
    return false;
  }
}

function isPlainAddress(text: string): boolean {
  if (!text.includes(':')) return isPlainIPv4(text);
  const embedded = /:([^:]*\.[^:]*)$/.exec(text);
  return !text.includes('%') && ipaddr.IPv6.isValid(text) && (!embedded || isPlainIPv4(embedded[1]!));
}

function isPlainIPv4(text: string): boolean {
  return /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text) && text.split('.').every((part) => Number(part) <= 255);
}

/** Parses, type-checks and bounds an expression; throws PolicyExpressionError with the reason. */
export function compilePolicy(text: string, kind: PolicyKind): CompiledPolicy {
  const source = withoutReturn(text);
  if (source.length === 0) throw new PolicyExpressionError('the expression is empty');
  if (source.length > MAX_EXPRESSION_LENGTH) throw new PolicyExpressionError(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  let program: ReturnType<Environment['parse']>;
  try {
    program = environment.parse(source);
  } catch (error) {
    throw new PolicyExpressionError(describe(error));
  }
  const checked = environment.check(source);
  if (!checked.valid) throw new PolicyExpressionError(describe(checked.error));
  const wanted = kind === 'allow' ? 'bool' : 'map';
  const type = checked.type ?? 'dyn';
  if (type !== 'dyn' && !type.startsWith(wanted)) {
    throw new PolicyExpressionError(`a${kind === 'allow' ? 'n' : ''} ${kind} policy must return a ${wanted}, and this expression returns ${type}`);
  }
  const cost = { terms: [] as number[], literalElements: 0, depth: 0 };
  inspect(program.ast, 0, cost);
  if (kind === 'claims') refuseProtectedLiterals(program.ast);
  return { kind, costTerms: cost.terms, literalElements: cost.literalElements, comprehensionDepth: cost.depth, evaluate: (context) => program(context as unknown as Record<string, unknown>) };
}

/** authentik's policies are Python with `return`; the same text is accepted here. */
function withoutReturn(text: string): string {
  return text.trim().replace(/^return\s+/, '').replace(/;\s*$/, '').trim();
}

/** The parser's or checker's message on one line, with the position its caret points at. */
function describe(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n');
  const message = lines[0]!.trim();
  const source = lines.find((l) => /^>\s+\d+ \| /.test(l));
  const caret = lines.find((l) => /^\s*\^\s*$/.test(l));
  if (!source || !caret) return message;
  const [, line] = /^>\s+(\d+) \| /.exec(source)!;
  const column = caret.indexOf('^') - (source.indexOf('| ') + 2) + 1;
  return `${message} (line ${line}, column ${column})`;
}

/** Operators that may walk a whole list or map (or string) rather than take one step. */
const SCANNING = new Set(['in', '==', '!=', '+', 'call', 'rcall']);

/**
 * Walks the syntax tree at comprehension depth `depth`: adds each node's cost term, counts
 * literal elements, refuses nesting past the maximum, and checks every `matches` pattern, which
 * must be a literal that cannot backtrack catastrophically (the evaluator's regular expressions
 * are JavaScript's, not RE2).
 */
function inspect(node: ASTNode, depth: number, cost: { terms: number[]; literalElements: number; depth: number }): void {
  const { op, args } = node as unknown as { op: string; args: unknown };
  cost.depth = Math.max(cost.depth, depth);
  if (depth > MAX_COMPREHENSION_DEPTH) throw new PolicyExpressionError(`comprehensions (all, exists, exists_one, map, filter) may nest ${MAX_COMPREHENSION_DEPTH} deep at most`);
  const power = depth + (SCANNING.has(op) ? 1 : 0);
  cost.terms[power] = (cost.terms[power] ?? 0) + 1;
  if (op === 'list' || op === 'map') cost.literalElements += (args as unknown[]).length;
  if (op === 'rcall' || op === 'call') {
    const [name, ...rest] = args as [string, ...unknown[]];
    if (name === 'matches') checkPattern(op === 'rcall' ? (rest[1] as ASTNode[])[0] : (rest[0] as ASTNode[])[1]);
    if (op === 'rcall' && COMPREHENSIONS.has(name)) {
      // the range is evaluated once; the body once per element
      inspect(rest[0] as ASTNode, depth, cost);
      for (const child of (rest[1] as unknown[]).flat(2).filter(isNode)) inspect(child, depth + 1, cost);
      return;
    }
    for (const child of rest.flat(2).filter(isNode)) inspect(child, depth, cost);
    return;
  }
  const children = Array.isArray(args) ? (args as unknown[]).flat(2).filter(isNode) : isNode(args) ? [args] : [];
  for (const child of children) inspect(child, depth, cost);
}

/** A claims map literal naming a protected claim is refused now; computed names are checked per request. */
function refuseProtectedLiterals(node: ASTNode): void {
  const { op, args } = node as unknown as { op: string; args: unknown };
  if (op !== 'map') return;
  for (const [key] of args as [ASTNode, ASTNode][]) {
    const literal = key as unknown as { op: string; args: unknown };
    if (literal.op === 'value' && typeof literal.args === 'string' && POLICY_PROTECTED_CLAIMS.has(literal.args)) {
      throw new PolicyExpressionError(`claim ${literal.args} is protected: a policy cannot set it`);
    }
  }
}

function isNode(value: unknown): value is ASTNode {
  return typeof value === 'object' && value !== null && 'op' in value;
}

function checkPattern(node: ASTNode | undefined): void {
  const literal = node as unknown as { op: string; args: unknown } | undefined;
  if (!literal || literal.op !== 'value' || typeof literal.args !== 'string') throw new PolicyExpressionError('matches() takes a string literal pattern');
  const pattern = literal.args;
  if (pattern.length > MAX_PATTERN_LENGTH) throw new PolicyExpressionError(`a matches() pattern may have ${MAX_PATTERN_LENGTH} characters at most`);
  if (/\\[1-9]|\\k<|\(\?<?[=!]/.test(pattern)) throw new PolicyExpressionError('matches() patterns may not use backreferences or lookaround');
  // a repeated group that itself repeats or alternates backtracks exponentially: (a+)+, (a|aa)*
  if (/\((?:[^()\\]|\\.)*(?:[+*?}|])(?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d*,\d*\})/.test(pattern)) {
    throw new PolicyExpressionError('matches() patterns may not repeat a group that itself repeats or alternates');
  }
  try {
    new RegExp(pattern);
  } catch {
    throw new PolicyExpressionError(`matches() pattern ${JSON.stringify(pattern)} is not a valid regular expression`);
  }
}
