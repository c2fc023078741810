// The enabled policies of one application, in their order, compiled once per process.
import type { PolicyRecord } from '../store/types.ts';
import { compilePolicy, PolicyExpressionError, type CompiledPolicy, type PolicyKind } from './expression.ts';
import type { BoundPolicy } from './evaluate.ts';

const compiled = new Map<string, CompiledPolicy>();
const perApplication = new WeakMap<PolicyRecord[], Map<string, BoundPolicy[]>>();
const MAX_COMPILED = 10_000;

export function policiesOf(records: PolicyRecord[], clientId: string): BoundPolicy[] {
  let byApp = perApplication.get(records);
  if (!byApp) perApplication.set(records, (byApp = new Map()));
  let bound = byApp.get(clientId);
  if (!bound) {
    bound = records
      .filter((p) => p.enabled)
      .flatMap((p) => p.bindings.filter((b) => b.clientId === clientId).map((b) => ({ policy: p, position: b.position })))
      .sort((a, b) => a.position - b.position)
      .map(({ policy }) => ({ name: policy.name, compiled: compiledFor(policy.expression, policy.kind) }));
    byApp.set(clientId, bound);
  }
  return bound;
}

function compiledFor(expression: string, kind: PolicyKind): CompiledPolicy {
  const key = `${kind}\u0000${expression}`;
  let hit = compiled.get(key);
  if (!hit) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    try {
      hit = compilePolicy(expression, kind);
    } catch (error) {
      // saved expressions were compiled at save time; one that no longer compiles denies
      const message = error instanceof PolicyExpressionError ? error.message : 'does not compile';
      hit = { kind, costTerms: [], literalElements: 0, comprehensionDepth: 0, evaluate: () => { throw new Error(`the stored expression no longer compiles: ${message}`); } };
    }
    compiled.set(key, hit);
  }
  return hit;
}
