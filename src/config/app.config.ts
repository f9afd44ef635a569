/** Configuration from the environment, read once at start-up. */
export interface AppConfig {
  port: number;
  /** The address to listen on; null listens on every interface (as a container needs). */
  host: string | null;
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
  /** `required` (default): every route but health, docs and the explorer page needs an API key. */
  authMode: 'required' | 'disabled';
  /** If set, an admin key with this value exists from start-up on (named `bootstrap-admin`). */
  bootstrapAdminKey: string | null;
  /** Requests per minute each key may make (a token bucket of this size, refilled evenly); 0 means unlimited. */
  rateLimitPerMinute: number;
  /** Webhooks: how often the dispatcher looks for due deliveries. */
  webhookPollMs: number;
  /** Webhooks: attempts per delivery (the first included) before it is marked `failed`. */
  webhookMaxAttempts: number;
  /** Webhooks: the wait after the first failed attempt; each further failure doubles it, up to the maximum. */
  webhookBackoffBaseMs: number;
  webhookBackoffMaxMs: number;
  /** Webhooks: how long one POST to a receiver may take before it counts as failed. */
  webhookTimeoutMs: number;
  /** Webhooks: off (WEBHOOK_DISPATCHER=off) enqueues deliveries but leaves the sending to another instance. */
  webhookDispatcher: boolean;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;

  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);

  return value;
}

const MIN_BOOTSTRAP_KEY_LENGTH = 24;

function webhookDispatcherFromEnv(env: NodeJS.ProcessEnv): boolean {
  const raw = env.WEBHOOK_DISPATCHER ?? 'on';
  if (raw !== 'on' && raw !== 'off') throw new Error(`WEBHOOK_DISPATCHER must be on or off, got "${raw}"`);

  return raw === 'on';
}

function authModeFromEnv(env: NodeJS.ProcessEnv): AppConfig['authMode'] {
  const raw = env.AUTH_MODE ?? 'required';
  if (raw !== 'required' && raw !== 'disabled') throw new Error(`AUTH_MODE must be required or disabled, got "${raw}"`);

  return raw;
}

function bootstrapKeyFromEnv(env: NodeJS.ProcessEnv): string | null {
  const key = env.BOOTSTRAP_ADMIN_KEY;
  if (!key) return null;
  if (key.length < MIN_BOOTSTRAP_KEY_LENGTH || /\s/.test(key)) {
    throw new Error(`BOOTSTRAP_ADMIN_KEY must be at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters without whitespace`);
  }

  return key;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const logLevel = (env.LOG_LEVEL ?? 'info') as AppConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`LOG_LEVEL "${logLevel}" is not a level`);

  return {
    port: intFromEnv(env, 'PORT', 3000),
    host: env.HOST || null,
    databaseUrl: env.DATABASE_URL || null,
    dataDir: env.DATA_DIR || './data',
    databaseSchema: env.DATABASE_SCHEMA || null,
    ingestMaxBytes: intFromEnv(env, 'INGEST_MAX_BYTES', 1024 * 1024 * 1024),
    ingestMaxRecordBytes: intFromEnv(env, 'INGEST_MAX_RECORD_BYTES', 4 * 1024 * 1024),
    ingestBatchSize: intFromEnv(env, 'INGEST_BATCH_SIZE', 5000),
    ingestWriteConcurrency: intFromEnv(env, 'INGEST_WRITE_CONCURRENCY', 2),
    logLevel,
    shutdownGraceMs: intFromEnv(env, 'SHUTDOWN_GRACE_MS', 10_000),
    authMode: authModeFromEnv(env),
    bootstrapAdminKey: bootstrapKeyFromEnv(env),
    rateLimitPerMinute: intFromEnv(env, 'RATE_LIMIT_PER_MINUTE', 600, 0),
    webhookPollMs: intFromEnv(env, 'WEBHOOK_POLL_MS', 1000),
    webhookMaxAttempts: intFromEnv(env, 'WEBHOOK_MAX_ATTEMPTS', 8),
    webhookBackoffBaseMs: intFromEnv(env, 'WEBHOOK_BACKOFF_BASE_MS', 5000),
    webhookBackoffMaxMs: intFromEnv(env, 'WEBHOOK_BACKOFF_MAX_MS', 60 * 60 * 1000),
    webhookTimeoutMs: intFromEnv(env, 'WEBHOOK_TIMEOUT_MS', 10_000),
    webhookDispatcher: webhookDispatcherFromEnv(env),
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
