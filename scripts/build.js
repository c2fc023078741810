// npm run build: bundles the server (src/main.ts), the admin CLI (scripts/admin.ts) and the audit
// writer's thread into dist/ with esbuild, each with what it imports from src/ and node_modules
// (native addons excepted): a process starts by reading a few files instead of compiling some
// seven hundred modules one by one. It only emits: type-checking is `npm run typecheck`.
// `node scripts/build.js --if-stale` builds only when dist/ is missing or older than its sources
// (scripts/start.js and bin/tokenmint.js call buildIfStale), which costs a few milliseconds.
// Plain JavaScript, so that it runs before anything is built. Nothing it prints goes to stdout.
import { mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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
const SOURCES = ['src', 'scripts/admin.ts', 'scripts/build.js', 'tsconfig.json', 'package-lock.json'];
/** The bundles, by their path in dist/ without the extension. The audit writer is a thread's entry point of its own. */
const ENTRY_POINTS = { 'src/main': 'src/main.ts', 'scripts/admin': 'scripts/admin.ts', 'src/store/audit-thread': 'src/store/audit-thread.ts' };
/** Loaded from node_modules at run time: native addons (and pg's optional one) cannot be bundled. */
const EXTERNAL = ['better-sqlite3', '@node-rs/argon2', 'pg-native'];

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
    // an installation without package-lock.json (or without the sources, built elsewhere) has less to compare
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
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

/** Bundles into a directory of its own, then puts it in place of dist/: a process never sees a half-written build. */
export async function build() {
  // a whole millisecond past the newest source: times are stored to the microsecond or finer and read back as fractions
  const started = new Date(Math.max(Date.now(), Math.ceil(newestSource()) + 1));
  const out = `${DIST}.building-${process.pid}`;
  rmSync(out, { recursive: true, force: true });
  // loaded here, not at the top: the staleness check, on every start, does without it
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: ENTRY_POINTS,
      outdir: out,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20.19',
      external: EXTERNAL,
      chunkNames: 'chunks/[name]-[hash]',
      // the CommonJS packages inside call require() for Node.js's own modules
      banner: { js: "import { createRequire as __tokenmintCreateRequire } from 'node:module'; const require = __tokenmintCreateRequire(import.meta.url);" },
      plugins: [builtinsThroughRequire, queryCompilerAsWasmFile(out), zodInEnglishOnly],
      logLevel: 'silent',
    });
  } catch (error) {
    rmSync(out, { recursive: true, force: true });
    const messages = error.errors ? (await esbuild.formatMessages(error.errors, { kind: 'error' })).join('') : '';
    process.stderr.write(messages);
    throw new Error(`the build failed (${error.errors ? `${error.errors.length} error(s)` : error.message}): dist/ was not built`);
  } finally {
    // esbuild's service process would otherwise live on beside the server that built first
    await esbuild.stop();
  }
  writeFileSync(join(out, STAMP), '');
  utimesSync(join(out, STAMP), started, started);
  replaceDist(out);
}

/**
 * Prisma's query compiler comes as a module exporting the WebAssembly in base64, 4.4 MB of
 * JavaScript that each process would read, decode and parse (some 130 ms here). The build writes the
 * WebAssembly itself to dist/wasm/ and puts in the module's place one that reads it; Prisma's
 * Buffer.from(wasm, 'base64') copies a Buffer as it is.
 */
function queryCompilerAsWasmFile(out) {
  return {
    name: 'query-compiler-as-wasm-file',
    setup(bundler) {
      bundler.onResolve({ filter: /\/query_compiler_\w+_bg\.\w+\.wasm-base64\.mjs$/ }, (args) => ({ path: args.path, namespace: 'query-compiler-wasm' }));
      bundler.onLoad({ filter: /.*/, namespace: 'query-compiler-wasm' }, async (args) => {
        const name = args.path.split('/').pop().replace(/\.wasm-base64\.mjs$/, '.wasm');
        // read as text, not imported: a server that built at its start would keep both modules for its lifetime
        const wasm = /"([A-Za-z0-9+/=]+)"/.exec(readFileSync(new URL(import.meta.resolve(args.path)), 'utf8'))?.[1];
        if (!wasm) throw new Error(`${args.path} does not hold the WebAssembly as a base64 string literal`);
        mkdirSync(join(out, 'wasm'), { recursive: true });
        writeFileSync(join(out, 'wasm', name), Buffer.from(wasm, 'base64'));
        // the module's URL is that of a chunk in dist/chunks/ (the build's chunkNames)
        return { contents: `import { readFileSync } from 'node:fs';\nexport const wasm = readFileSync(new URL('../wasm/${name}', import.meta.url));\n`, loader: 'js' };
      });
    },
  };
}

/**
 * Node.js's own modules, imported by a static import, are loaded through require(), as the
 * CommonJS packages in the bundle load them. An ESM import of one makes Node.js read every export
 * to build the module's namespace, and since Node.js 22 node:http's exports include undici's
 * WebSocket: reading it loads undici, several hundred milliseconds of every process's start on a
 * two-core machine, for a client tokenmint never uses.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(bundler) {
    bundler.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined));
    bundler.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});\n`, loader: 'js' }));
  },
};

/**
 * zod exports its error messages in some fifty languages (a third of its code) through z.locales;
 * tokenmint's are English, zod's default, and never switched. The bundle keeps English only.
 */
const zodInEnglishOnly = {
  name: 'zod-in-english-only',
  setup(bundler) {
    bundler.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: args.path, namespace: 'zod-locales', pluginData: args.resolveDir } : undefined,
    );
    bundler.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: "export { default as en } from '../locales/en.js';\n", resolveDir: args.pluginData, loader: 'js' }));
  },
};

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
export async function buildIfStale() {
  if (!isStale()) return false;
  process.stderr.write('tokenmint: building dist/ from the sources (npm run build)\n');
  await build();
  return true;
}

// run as a script (also through a symbolic link), not imported
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--if-stale')) await buildIfStale();
    else await build();
  } catch (error) {
    console.error(`tokenmint: ${error.message}`);
    process.exitCode = 1;
  }
}
