// A seed file read and checked whole: every problem listed with its path, before anything is applied.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { applicationFields, NEW_APPLICATION_FIELDS } from '../admin/application-fields.ts';
import { settingsFromSeed } from '../admin/application-definition.ts';
import { AdminError } from '../admin/errors.ts';
import { prepareCertificate } from '../admin/certificates.ts';
import { certificateSettingsFromSeed } from '../admin/certificate-definition.ts';
import { checkAlgorithms, documentKeys } from '../admin/jwks-sources.ts';
import { parseAttributes } from '../admin/service-account-attributes.ts';
import type { Config } from '../config.ts';
import { compilePolicy, PolicyExpressionError } from '../policies/expression.ts';
import { parseSecret, type SecretKind } from '../secrets/format.ts';
import { seedFileSchema, type SecretSource, type SeedFile } from './definitions.ts';

/** The file as applied: expressions read from their files, secrets from the environment. */
export interface LoadedSeed {
  file: SeedFile;
  /** policy name → its CEL text */
  expressions: Map<string, string>;
  /** `applications[0].client_secret` → the secret the environment holds */
  secrets: Map<string, string>;
  /** certificate name → its PEM */
  pems: Map<string, string>;
  /** document JWKS source name → its JWKS text */
  jwksDocuments: Map<string, string>;
}

export class SeedFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`the seed file is not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;

export function loadSeedFile(path: string, config: Config, env: NodeJS.ProcessEnv = process.env): LoadedSeed {
  const text = readBounded(path);
  if (typeof text !== 'string') throw new SeedFileError([`${path}: ${text.problem}`]);
  // YAML 1.2 reads JSON as well
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) throw new SeedFileError(document.errors.map((e) => `${path}: ${e.message.split('\n')[0]}`));
  // aliases are bounded so that a few lines cannot expand into gigabytes
  return checkSeed(document.toJS({ maxAliasCount: 100 }) ?? {}, dirname(resolve(path)), config, env);
}

/**
 * A regular file's text, at most 16 MiB: never a device, a pipe or a directory, whose reading may
 * not end (/dev/zero) or block.
 */
function readBounded(path: string): string | { problem: string } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: 'not a regular file' };
    if (stat.size > MAX_FILE_BYTES) return { problem: 'larger than 16 MiB' };
    const buffer = Buffer.alloc(stat.size);
    const read = readSync(fd, buffer, 0, stat.size, 0);
    return buffer.subarray(0, read).toString('utf8');
  } catch (error) {
    return { problem: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read' };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Validates a parsed seed document; `base` is where `file:` references are relative to. */
export function checkSeed(document: unknown, base: string, config: Config, env: NodeJS.ProcessEnv): LoadedSeed {
  const parsed = seedFileSchema.safeParse(document);
  if (!parsed.success) throw new SeedFileError(parsed.error.issues.map(describeIssue));
  const file = parsed.data as SeedFile;
  const problems: string[] = [];
  const expressions = new Map<string, string>();
  const secrets = new Map<string, string>();
  const pems = new Map<string, string>();
  const jwksDocuments = new Map<string, string>();
  // a reference stays inside the seed file's directory (symbolic links resolved): a seed file from a
  // pull request must not be able to read, or print, a file of the machine that applies it
  let root: string;
  try {
    root = realpathSync(base);
  } catch {
    root = base;
  }
  const readRelative = (relative: string, path: string): string | undefined => {
    let target: string;
    try {
      target = realpathSync(resolve(base, relative));
    } catch {
      problems.push(`${path}: cannot read ${relative}`);
      return undefined;
    }
    if (target !== root && !target.startsWith(`${root}${sep}`)) {
      problems.push(`${path}: ${relative} is outside the seed file's directory`);
      return undefined;
    }
    const text = readBounded(target);
    if (typeof text === 'string') return text;
    problems.push(`${path}: ${relative}: ${text.problem}`);
    return undefined;
  };

  const duplicates = (names: string[], what: string) => {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (seen.has(name)) problems.push(`${what}[${i}]: ${JSON.stringify(name)} appears more than once`);
      seen.add(name);
    });
  };
  duplicates(file.applications.map((a) => a.client_id), 'applications');
  duplicates(file.service_accounts.map((a) => a.username), 'service_accounts');
  duplicates(file.policies.map((p) => p.name), 'policies');
  duplicates(file.certificates.map((c) => c.name), 'certificates');
  duplicates(file.jwks_sources.map((j) => j.name), 'jwks_sources');
  file.certificates.forEach((cert, i) => {
    const pem = cert.pem ?? readRelative(cert.file!, `certificates[${i}].file`);
    if (pem === undefined) return;
    try {
      // an expired certificate verifies nothing, and a restored export may carry one
      prepareCertificate(config, { ...certificateSettingsFromSeed(cert), name: cert.name, pem }, { allowExpired: true });
      pems.set(cert.name, pem);
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      problems.push(`certificates[${i}]: ${error.message}`);
    }
  });
  file.jwks_sources.forEach((source, i) => {
    if (source.discovery === undefined && source.issuer === undefined) problems.push(`jwks_sources[${i}].issuer: required unless the source is a discovery URL`);
    if (source.issuer !== undefined && source.issuer === config.issuer) problems.push(`jwks_sources[${i}].issuer: the issuer is this issuer: tokenmint never accepts its own tokens as assertions`);
    try {
      checkAlgorithms(source.algorithms);
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      problems.push(`jwks_sources[${i}].algorithms: ${error.message}`);
    }
    const document = source.jwks !== undefined ? JSON.stringify(source.jwks) : source.file !== undefined ? readRelative(source.file, `jwks_sources[${i}].file`) : undefined;
    if (document === undefined) return;
    try {
      documentKeys(document);
      jwksDocuments.set(source.name, document);
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      problems.push(`jwks_sources[${i}].${source.jwks !== undefined ? 'jwks' : 'file'}: ${error.message}`);
    }
  });
  const clientIds = new Set(file.applications.map((a) => a.client_id));
  file.service_accounts.forEach((account, i) => {
    if (clientIds.has(account.username)) problems.push(`service_accounts[${i}].username: ${JSON.stringify(account.username)} is also a client_id (one namespace)`);
  });

  file.applications.forEach((app, i) => {
    try {
      applicationFields(settingsFromSeed(app), { ...NEW_APPLICATION_FIELDS, name: app.client_id });
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      problems.push(`applications[${i}]: ${error.message}`);
    }
    secret(app.client_secret, `applications[${i}].client_secret`, 'client-secret');
  });
  file.service_accounts.forEach((account, i) => {
    secret(account.app_password, `service_accounts[${i}].app_password`, 'app-password');
    try {
      // the same limits as --attributes: size, depth, nothing shaped like a secret
      parseAttributes(JSON.stringify(account.attributes));
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      problems.push(`service_accounts[${i}].attributes: ${error.message.replace(/^--attributes /, '')}`);
    }
  });
  file.policies.forEach((policy, i) => {
    const text = typeof policy.expression === 'string' ? policy.expression : readRelative(policy.expression.file, `policies[${i}].expression`);
    if (text === undefined) return;
    try {
      compilePolicy(text, policy.kind);
      expressions.set(policy.name, text.trim());
    } catch (error) {
      if (!(error instanceof PolicyExpressionError)) throw error;
      problems.push(`policies[${i}].expression: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
    }
  });
  if (problems.length > 0) throw new SeedFileError(problems);
  return { file, expressions, secrets, pems, jwksDocuments };

  function secret(source: SecretSource | undefined, path: string, kind: SecretKind): void {
    if (source === undefined || source === 'generate') return;
    const value = env[source.env];
    if (value === undefined || value === '') return void problems.push(`${path}: the environment variable ${source.env} is not set`);
    if (parseSecret(value)?.kind !== kind) {
      return void problems.push(`${path}: ${source.env} does not hold a tokenmint ${kind === 'client-secret' ? 'client secret (tmcs_...)' : 'app password (tmap_...)'}; npm run admin -- secret generate makes one`);
    }
    secrets.set(path, value);
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)), '');
  return `${path || '(file)'}: ${issue.message}`;
}
