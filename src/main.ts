// Process entry: config → workers forked → database prepared (checks, migrations, first key) →
// workers serve; graceful shutdown. What only one kind of process needs is imported where it is
// needed: a worker never loads the primary's preparation, and the primary forks its workers before
// it loads the store.
import './wasm-baseline.ts';
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { ConfigError, environmentWithDotenv, loadConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { answerPings, watchWorkers } from './cluster-watch.ts';
import { answerWhenPrepared, untilPrepared, WORKER_SLOT_VARIABLE } from './cluster-start.ts';
import { readKeyEncryptionKey } from './keys/key-encryption-key.ts';
import { relayRevocations } from './tokens/revocation-relay.ts';
import { servingExecArgv } from './heap-settings.ts';

/** Checks, migrates and makes a first key (prepare.ts): once per start, in the primary only. */
async function prepare(config: Config, log: Logger): Promise<Buffer> {
  return (await import('./prepare.ts')).prepare(config, log);
}

function readConfig(): Config {
  try {
    return loadConfig(environmentWithDotenv());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(`tokenmint: configuration: ${problem}`);
    process.exit(1);
  }
}

/** Serves; `preparedKek` resolves once the database may be opened, with the key-encryption key. */
async function runServer(config: Config, log: Logger, preparedKek: () => Promise<Buffer>): Promise<void> {
  // loaded only where it serves (the primary of a cluster never does), and before waiting: a
  // worker loads it while the primary prepares
  const { serve } = await import('./serve.ts');
  const serving = await serve(config, log, await preparedKek());
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await serving.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  if (cluster.isPrimary) log.info({ url: `http://${config.host}:${serving.port}`, issuer: config.issuer }, 'tokenmint is serving');
  else answerPings();
}

/** What the primary runs besides the workers, once the database is prepared. */
async function startPrimaryDuties(config: Config, log: Logger, kek: Buffer): Promise<void> {
  const [{ scheduleHousekeeping }, { scheduleKeyLifecycle }, { enableMetrics }] = await Promise.all([
    import('./store/housekeeping.ts'),
    import('./keys/schedule.ts'),
    import('./metrics/process-metrics.ts'),
  ]);
  scheduleHousekeeping(config, log);
  scheduleKeyLifecycle(config, log, kek);
  if (config.metrics) enableMetrics();
  if (config.metricsPort !== undefined) {
    const { serveMetrics } = await import('./serve.ts');
    await serveMetrics(config, log, config.metricsPort);
    log.info({ url: `http://${config.host}:${config.metricsPort}/metrics` }, 'metrics are served on their own port');
  }
}

async function runPrimary(config: Config, log: Logger): Promise<void> {
  if (config.workers === 1) {
    const kek = await prepare(config, log);
    await startPrimaryDuties(config, log, kek);
    return runServer(config, log, async () => kek);
  }
  // workers run this module itself, not whatever started the primary (npm start's build check)
  cluster.setupPrimary({ exec: fileURLToPath(import.meta.url), execArgv: servingExecArgv(process.execArgv) });
  let stopping = false;
  let prepared = false;
  const listening = new Set<number>();
  // a replacement takes its predecessor's slot, under whose name its metrics appear
  const slots = new Map<number, number>();
  // a fork can fail (e.g. out of file descriptors under a flood): retried, never fatal
  const fork = (slot: number) => {
    const worker = cluster.fork({ [WORKER_SLOT_VARIABLE]: String(slot) });
    slots.set(worker.id, slot);
    worker.on('error', (error: NodeJS.ErrnoException) => {
      if (error.syscall?.startsWith('spawn')) {
        log.error({ err: error }, 'starting a worker failed; retrying in 1 s');
        slots.delete(worker.id);
        setTimeout(() => stopping || fork(slot), 1000);
      } else {
        log.error({ err: error, worker: worker.process.pid }, 'worker channel error');
      }
    });
  };
  let watching = false;
  cluster.on('listening', (worker, address) => {
    listening.add(worker.id);
    if (listening.size === config.workers && !watching) {
      watching = true;
      log.info({ port: address.port, issuer: config.issuer, workers: config.workers }, 'tokenmint is serving');
      watchWorkers(log, (w) => !stopping && listening.has(w.id));
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!listening.delete(worker.id)) {
      // it died before serving: another would die the same way
      log.fatal({ worker: worker.process.pid, code, signal }, 'a worker failed to start; stopping');
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      process.exitCode = 1;
      // the database being prepared meanwhile is left as a failed start leaves it (a migration is a transaction)
      if (!prepared) process.exit();
      return;
    }
    log.error({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
    const slot = slots.get(worker.id)!;
    slots.delete(worker.id);
    fork(slot);
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    log.info({ signal }, 'shutting down workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    // an exit code set before (a worker that failed to start) is kept
    const exitOnceNoWorkerIsLeft = () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
    };
    exitOnceNoWorkerIsLeft();
    setTimeout(() => process.exit(), 10_000).unref();
    cluster.on('exit', exitOnceNoWorkerIsLeft);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  relayRevocations();
  const preparation = answerWhenPrepared();
  // forked before the database is prepared: they load their code meanwhile, and wait for it before opening the database
  for (let slot = 1; slot <= config.workers; slot++) fork(slot);
  let kek: Buffer;
  try {
    kek = await prepare(config, log);
  } catch (error) {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    throw error;
  }
  prepared = true;
  if (stopping) return;
  await startPrimaryDuties(config, log, kek);
  preparation.prepared();
}

const config = readConfig();
const log = createLogger(config.logLevel);
try {
  if (cluster.isPrimary) await runPrimary(config, log);
  else {
    // a worker opens the database only once the primary has prepared it (and made the key-encryption key, at a first start)
    await runServer(config, log, async () => {
      await untilPrepared();
      return readKeyEncryptionKey(config.keyEncryptionKey, config.dataDir).key;
    });
  }
} catch (error) {
  if (await isOperatorsToFix(error)) {
    // the operator's to fix: one clear line, no stack
    const { message } = error as Error;
    log.fatal(message);
    console.error(`tokenmint: ${message}`);
  } else {
    log.fatal({ err: error }, 'tokenmint could not start');
  }
  process.exit(1);
}

/** A failure the operator fixes (a corrupt database file, a wrong key-encryption key, an unreachable or locked database). */
async function isOperatorsToFix(error: unknown): Promise<boolean> {
  const [{ DatabaseFileError }, { KeyEncryptionKeyError }, { DatabaseUnavailableError }, { LockTimeoutError }] = await Promise.all([
    import('./store/sqlite-file.ts'),
    import('./keys/key-encryption-key.ts'),
    import('./prepare.ts'),
    import('./store/migrate-postgres.ts'),
  ]);
  return error instanceof DatabaseFileError || error instanceof KeyEncryptionKeyError || error instanceof DatabaseUnavailableError || error instanceof LockTimeoutError;
}
