// CEL policy expressions: parsed, type-checked and bounded when saved, compiled once, evaluated
// per token request. Only the context below is visible; there is no I/O and no clock but `now`.
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import ipaddr from 'ipaddr.js';
import { PROTECTED_CLAIMS } from '../tokens/access-token.ts';

export type PolicyKind = 'allow' | 'claims';
export const POLICY_KINDS: readonly PolicyKind[] = ['allow', 'claims'];

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
  /** how deeply comprehensions nest: the runtime cost bound raises the input size to this power */
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

/** `ip_in(ip, "10.0.0.0/8")`: false for anything that is not an address in the range, never an error. */
export function ipIn(ip: string, cidr: string): boolean {
  try {
    const address = ipaddr.process(ip);
    const [network, bits] = ipaddr.parseCIDR(cidr);
    const candidate = address.kind() === network.kind() ? address : address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : null;
    return candidate !== null && candidate.match([network, bits] as [typeof candidate, number]);
  } catch {
    return false;
  }
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
    throw new PolicyExpressionError(`an ${kind} policy must return a ${wanted}, and this expression returns ${type}`);
  }
  const comprehensionDepth = inspect(program.ast);
  if (kind === 'claims') refuseProtectedLiterals(program.ast);
  return { kind, comprehensionDepth, evaluate: (context) => program(context as unknown as Record<string, unknown>) };
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

/**
 * Walks the syntax tree: the comprehension nesting depth (refused past the maximum) and every
 * `matches` pattern, which must be a literal that cannot backtrack catastrophically (the
 * evaluator's regular expressions are JavaScript's, not RE2).
 */
function inspect(node: ASTNode): number {
  const { op, args } = node as unknown as { op: string; args: unknown };
  let depth = 0;
  let children: ASTNode[] = [];
  if (op === 'rcall' || op === 'call') {
    const [name, ...rest] = args as [string, ...unknown[]];
    if (name === 'matches') checkPattern(op === 'rcall' ? (rest[1] as ASTNode[])[0] : (rest[0] as ASTNode[])[1]);
    if (op === 'rcall' && COMPREHENSIONS.has(name)) depth = 1;
    children = rest.flat(2).filter(isNode);
  } else if (Array.isArray(args)) {
    children = (args as unknown[]).flat(2).filter(isNode);
  } else if (isNode(args)) {
    children = [args];
  }
  const total = depth + Math.max(0, ...children.map(inspect));
  if (total > MAX_COMPREHENSION_DEPTH) throw new PolicyExpressionError(`comprehensions (all, exists, exists_one, map, filter) may nest ${MAX_COMPREHENSION_DEPTH} deep at most`);
  return total;
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
  if (/\\[1-9]|\(\?[=!<]/.test(pattern)) throw new PolicyExpressionError('matches() patterns may not use backreferences or lookaround');
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
