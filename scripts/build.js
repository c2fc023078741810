// npm run build: compiles the server (src/) and the admin CLI (scripts/admin.ts) to dist/ with tsc
// and tsconfig.build.json, which only emits: type-checking is `npm run typecheck`.
// `node scripts/build.js --if-stale` builds only when dist/ is missing or older than its sources
// (npm start runs it first, bin/tokenmint.js calls buildIfStale), which costs a few milliseconds.
// Plain JavaScript, so that it runs before anything is built. Nothing it prints goes to stdout.
import { spawnSync } from 'node:child_process';
import { readdirSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
/**
 * Its modification time is when the build that made dist/ started, or the newest source's if that
 * is later (a file dated in the future, by a skewed clock, would otherwise call for a build every time).
 */
const STAMP = '.built';
/** What dist/ is made of: a change to any of them (or a file added or removed) calls for a build. */
const SOURCES = ['src', 'scripts/admin.ts', 'tsconfig.json', 'tsconfig.build.json'];

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time among the sources, directories included (they change when a file is added or removed). */
function newestSource() {
  let newest = 0;
  for (const source of SOURCES) {
    const path = join(ROOT, source);
    const stat = statSync(path);
    newest = Math.max(newest, stat.mtimeMs);
    if (!stat.isDirectory()) continue;
    for (const name of readdirSync(path, { recursive: true })) newest = Math.max(newest, mtimeMs(join(path, name)) ?? 0);
  }
  return newest;
}

export function isStale() {
  const built = mtimeMs(join(DIST, STAMP));
  return built === undefined || newestSource() > built;
}

/** Compiles to a directory of its own, then puts it in place of dist/: a process never sees a half-written build. */
export function build() {
  // a whole millisecond past the newest source: times are stored to the microsecond or finer and read back as fractions
  const started = new Date(Math.max(Date.now(), Math.ceil(newestSource()) + 1));
  const out = `${DIST}.building-${process.pid}`;
  rmSync(out, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (compiled.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    throw new Error(`tsc failed (${compiled.error?.message ?? `exit ${compiled.status ?? compiled.signal}`}): dist/ was not built`);
  }
  writeFileSync(join(out, STAMP), '');
  utimesSync(join(out, STAMP), started, started);
  replaceDist(out);
}

function replaceDist(out) {
  // another build may finish at the same moment: each puts a whole dist/ in place, the last one stays
  for (let attempt = 1; ; attempt++) {
    const old = `${DIST}.old-${process.pid}-${attempt}`;
    try {
      renameSync(DIST, old);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      renameSync(out, DIST);
      return;
    } catch (error) {
      if ((error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') || attempt === 3) throw error;
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  }
}

/** Builds when dist/ is missing or older than a source; true when it did. */
export function buildIfStale() {
  if (!isStale()) return false;
  process.stderr.write('tokenmint: building dist/ from the sources (npm run build)\n');
  build();
  return true;
}

// run as a script (also through a symbolic link), not imported
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--if-stale')) buildIfStale();
    else build();
  } catch (error) {
    console.error(`tokenmint: ${error.message}`);
    process.exitCode = 1;
  }
}
