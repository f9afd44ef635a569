/** Configuration from the environment, read once at start-up. */
export interface AppConfig {
  port: number;
  /** Postgres server URL; absent means embedded PGlite in `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  /** Optional schema for every table (tests use one schema per app instance on a shared server). */
  databaseSchema: string | null;
  /** Largest ingest body accepted, counted after decompression. */
  ingestMaxBytes: number;
  /** Largest single record (row, line or array element) of a body. */
  ingestMaxRecordBytes: number;
  /** Events per write batch. */
  ingestBatchSize: number;
  /** Batches of one ingest written at the same time (each on its own connection; PGlite runs them in turn). */
  ingestWriteConcurrency: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** On SIGTERM/SIGINT: how long requests in progress may run on before their connections are closed. */
  shutdownGraceMs: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;

  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);

  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const logLevel = (env.LOG_LEVEL ?? 'info') as AppConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`LOG_LEVEL "${logLevel}" is not a level`);

  return {
    port: intFromEnv(env, 'PORT', 3000),
    databaseUrl: env.DATABASE_URL || null,
    dataDir: env.DATA_DIR || './data',
    databaseSchema: env.DATABASE_SCHEMA || null,
    ingestMaxBytes: intFromEnv(env, 'INGEST_MAX_BYTES', 1024 * 1024 * 1024),
    ingestMaxRecordBytes: intFromEnv(env, 'INGEST_MAX_RECORD_BYTES', 4 * 1024 * 1024),
    ingestBatchSize: intFromEnv(env, 'INGEST_BATCH_SIZE', 5000),
    ingestWriteConcurrency: intFromEnv(env, 'INGEST_WRITE_CONCURRENCY', 2),
    logLevel,
    shutdownGraceMs: intFromEnv(env, 'SHUTDOWN_GRACE_MS', 10_000),
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
