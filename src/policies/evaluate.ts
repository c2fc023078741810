// Runs an application's policies on one token request: allow policies decide (mode all or any),
// then claims policies add to the token. Any error while evaluating is a denial.
import { metrics } from '../metrics/recorder.ts';
import { POLICY_PROTECTED_CLAIMS, type CompiledPolicy, type PolicyContext } from './expression.ts';

/** Estimated steps a policy may take on one request (see CompiledPolicy.costTerms). */
export const POLICY_COST_LIMIT = 1_000_000;

export interface BoundPolicy {
  name: string;
  compiled: CompiledPolicy;
}

export type PolicyDecision =
  | { allowed: true; claims: Record<string, unknown> }
  | { allowed: false; policy: string; reason: string };

export function decide(policies: BoundPolicy[], mode: 'all' | 'any', context: PolicyContext): PolicyDecision {
  const inputSize = countElements(context);
  const allows = policies.filter((p) => p.compiled.kind === 'allow');
  const refused = firstRefusal(allows, mode, context, inputSize);
  if (refused) {
    const reason = refused.error ?? (mode === 'any' && allows.length > 1 ? 'no allow policy returned true' : 'returned false');
    return { allowed: false, policy: refused.policy.name, reason };
  }
  const claims: Record<string, unknown> = {};
  for (const policy of policies.filter((p) => p.compiled.kind === 'claims')) {
    const { value, error } = run(policy, context, inputSize);
    const mapped = error === undefined ? asClaims(value) : { problem: error };
    if ('problem' in mapped) return { allowed: false, policy: policy.name, reason: mapped.problem };
    Object.assign(claims, mapped.claims);
  }
  return { allowed: true, claims };
}

/**
 * The allow policy that decides a refusal, evaluating in order only as far as needed: `all` stops
 * at the first policy that does not return true, `any` at the first that does (then none refuses).
 */
function firstRefusal(allows: BoundPolicy[], mode: 'all' | 'any', context: PolicyContext, inputSize: number): { policy: BoundPolicy; error?: string } | undefined {
  let first: { policy: BoundPolicy; error?: string } | undefined;
  for (const policy of allows) {
    const { value, error } = run(policy, context, inputSize);
    if (value === true) {
      if (mode === 'any') return undefined;
      continue;
    }
    first ??= { policy, error };
    if (mode === 'all') return first;
  }
  return first;
}

function run(policy: BoundPolicy, context: PolicyContext, inputSize: number): { value?: unknown; error?: string } {
  metrics.policyEvaluated(policy.name);
  const n = Math.max(1, inputSize + policy.compiled.literalElements);
  const estimate = policy.compiled.costTerms.reduce((sum, count, power) => sum + (count ?? 0) * n ** power, 0);
  if (estimate > POLICY_COST_LIMIT) return { error: `cost limit: about ${Math.round(estimate)} steps over ${n} elements exceeds ${POLICY_COST_LIMIT}` };
  try {
    return { value: policy.compiled.evaluate(context) };
  } catch (error) {
    return { error: (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300) };
  }
}

/**
 * Elements of every list and map in the context (its strings' length is bound by the JWT size cap),
 * counted with an explicit stack: however deeply a value nests, this never overflows the call stack.
 */
export function countElements(root: unknown): number {
  let count = 0;
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value instanceof Date || value === null || typeof value !== 'object') continue;
    const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
    count += children.length;
    for (const child of children) pending.push(child);
  }
  return count;
}

/** A claims policy's result as token claims, or why it cannot be. */
function asClaims(value: unknown): { claims: Record<string, unknown> } | { problem: string } {
  const names = value instanceof Map ? [...value.keys()] : value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : undefined;
  if (!names) return { problem: 'a claims policy must return a map' };
  for (const name of names) {
    if (typeof name !== 'string') return { problem: 'claim names must be strings' };
    if (POLICY_PROTECTED_CLAIMS.has(name)) return { problem: `claim ${name} is protected` };
  }
  try {
    return { claims: toJson(value) as Record<string, unknown> };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** CEL values as JSON: ints within 2^53 become numbers; bytes, timestamps, NaN and the like are refused. */
function toJson(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('claim values must be JSON: not a finite number');
    return value;
  }
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('claim values must be JSON: integer out of range');
    return Number(value);
  }
  if (Array.isArray(value)) return value.map(toJson);
  // CEL's uint
  if (typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf() === 'bigint') return toJson((value as { valueOf(): bigint }).valueOf());
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [jsonKey(k), toJson(v)]));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  throw new Error('claim values must be JSON: strings, numbers, booleans, null, lists and maps');
}

function jsonKey(key: unknown): string {
  if (typeof key !== 'string') throw new Error('claim values must be JSON: map keys must be strings');
  return key;
}
