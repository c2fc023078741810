import type { Command } from 'commander';
import { SIGNING_ALGS, type SigningAlg } from '../config.ts';
import { readKeyEncryptionKey } from '../keys/key-encryption-key.ts';
import { listSigningKeys } from '../store/keys.ts';
import type { Leaf, Run } from './cli.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { signingKeyView } from './views.ts';

// Loaded when a key changes: listing keys does without them.
const lifecycleOperations = () => import('../keys/lifecycle.ts');
const wellKnown = () => import('../http/well-known.ts');

/** keys list | keys rotate [--now] [--alg ALG] | keys revoke <kid> */
export function registerKeyCommands(root: Command, leaf: Leaf, run: Run): void {
  const keys = root.command('keys').description('signing keys');
  leaf(keys, 'list', 'list signing keys: state, algorithm and the times of their life').action(run(async (ctx) => ({
    rows: (await listSigningKeys(ctx.db)).map(signingKeyView),
    columns: ['kid', 'alg', 'state', 'created_at', 'promote_at', 'activated_at', 'retired_at', 'publish_until', 'removed_at'],
  })));
  leaf(keys, 'rotate', 'publish a next key now and make it the signing key once KEY_PUBLISH_AHEAD has passed')
    .option('--now', 'make it the signing key at once (verifiers with a cached JWKS may fail until they fetch it again)')
    .option('--alg <alg>', `the new key's algorithm (${SIGNING_ALGS.join(', ')}; default: SIGNING_ALG)`)
    .action(run(async (ctx, _args, o) => {
      const alg = o.alg === undefined ? undefined : signingAlg(o.alg as string);
      const [{ keySettings, rotateKeys }, { jwksMaxAgeSeconds }] = await Promise.all([lifecycleOperations(), wellKnown()]);
      const key = await lifecycle(() => rotateKeys(ctx.db, kek(ctx), keySettings(ctx.config), { alg, immediately: o.now === true }, new Date()));
      const note = o.now
        ? `${key.kid} signs from now on, within 2 s on every running server. Verifiers that cached the JWKS before it appeared may refuse its tokens for up to ${jwksMaxAgeSeconds(ctx.config)} s, until they fetch the JWKS again.`
        : `${key.kid} is published and becomes the signing key at ${key.promoteAt!.toISOString()}, when every verifier that respects the JWKS max-age has it (the running server promotes it).`;
      return { record: signingKeyView(key), note };
    }));
  leaf(keys, 'revoke <kid>', 'take a key out of the JWKS at once and wipe its private key; a revoked signing key is replaced immediately')
    // A kid is a base64url thumbprint: one in 64 starts with "-", which must not read as an option.
    .allowUnknownOption()
    .action(run(async (ctx, [kid]) => {
      const [{ keySettings, revokeKey }, { jwksMaxAgeSeconds }] = await Promise.all([lifecycleOperations(), wellKnown()]);
      const { revoked, activated } = await lifecycle(() => revokeKey(ctx.db, kek(ctx), keySettings(ctx.config), kid!, new Date()));
      const note = activated
        ? `${activated.kid} (${activated.alg}) signs from now on. Tokens signed by ${revoked.kid} fail verification once verifiers fetch the JWKS again (at most ${jwksMaxAgeSeconds(ctx.config)} s) and are inactive at introspection within 2 s; so may new tokens at verifiers that have not fetched ${activated.kid} yet.`
        : `${revoked.kid} is no longer published; tokens it signed fail verification once verifiers fetch the JWKS again.`;
      return { record: signingKeyView(revoked), note };
    }));
}

function signingAlg(value: string): SigningAlg {
  if (!(SIGNING_ALGS as readonly string[]).includes(value)) throw new AdminError(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
  return value as SigningAlg;
}

function kek(ctx: AdminContext): Buffer {
  return readKeyEncryptionKey(ctx.config.keyEncryptionKey, ctx.config.dataDir).key;
}

async function lifecycle<T>(work: () => Promise<T>): Promise<T> {
  const { KeyLifecycleError } = await lifecycleOperations();
  try {
    return await work();
  } catch (error) {
    if (error instanceof KeyLifecycleError) throw new AdminError(error.message);
    throw error;
  }
}
