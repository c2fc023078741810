/** What a policy's expression returns: a decision (allow) or claims for the token (claims). */
export type PolicyKind = 'allow' | 'claims';
export const POLICY_KINDS: readonly PolicyKind[] = ['allow', 'claims'];
