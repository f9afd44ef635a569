import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';

import { UUID_PATTERN } from '../alerts/alert-id.js';
import { DETECTION_ACTOR } from '../alerts/alert-change.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { canonicalTimestamp } from '../ingest/mappers/normalize.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { BOOTSTRAP_KEY_NAME, INITIAL_KEY_NAME, type ApiKey, type NewApiKey } from './api-key.types.js';
import { Scope, SCOPES } from './scope.decorator.js';

const KEY_PREFIX = 'adws_';
/** Of a generated key: `adws_` and 7 of its 43 random characters. A chosen (bootstrap) key shows none of itself. */
const SHOWN_PREFIX_LENGTH = 12;
const BOOTSTRAP_SHOWN_PREFIX = '(bootstrap)';

/** Names the service records as actors itself, so no key may take them. */
const RESERVED_NAMES = [BOOTSTRAP_KEY_NAME, INITIAL_KEY_NAME, DETECTION_ACTOR];
const RESERVED_PREFIX = 'anonymous';

/** How long a looked-up key is trusted before it is read again (revocation elsewhere takes effect within this). */
const CACHE_TTL_MS = 5_000;
/** last_used_at is written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000;

interface CachedKey {
  key: ApiKey;
  until: number;
}

/** Issues, lists, revokes and checks API keys; the start-up bootstrap key lives here too. */
@Injectable()
export class ApiKeyService implements OnModuleInit {
  private readonly logger = JsonLogger.for(ApiKeyService.name);
  private readonly cache = new Map<string, CachedKey>();
  private readonly touchedAt = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ApiKeyRepository) private readonly keys: ApiKeyRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.authMode === 'disabled') {
      this.logger.warning(
        'authentication is DISABLED (AUTH_MODE=disabled): anyone who can reach the port can call every route',
      );
      return;
    }
    if (this.config.bootstrapAdminKey) await this.ensureBootstrapKey(this.config.bootstrapAdminKey);
    else await this.ensureSomeAdminKey();
  }

  /** Creates a key; the key itself is in the result once and never again. */
  async create(input: NewApiKey, actor: string): Promise<{ apiKey: ApiKey; key: string }> {
    const now = new Date().toISOString();
    const expiresAt = futureInstant(input.expiresAt, now);
    await this.checkName(input.name);

    return this.issue({ ...input, expiresAt, scopes: uniqueScopes(input.scopes) }, actor, now);
  }

  /** Generates and stores a key under any name (the service's own included). */
  private async issue(input: NewApiKey, actor: string, now: string): Promise<{ apiKey: ApiKey; key: string }> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const apiKey = await this.store(key, key.slice(0, SHOWN_PREFIX_LENGTH), input, actor, now);
    this.logger.info('api key created', { keyId: apiKey.id, name: apiKey.name, scopes: apiKey.scopes, actor });

    return { apiKey, key };
  }

  /** Reserved names are refused (400); a name another key not revoked has is taken (409). */
  private async checkName(name: string): Promise<void> {
    const lower = name.normalize('NFKC').toLowerCase();
    if (RESERVED_NAMES.includes(lower) || lower.startsWith(RESERVED_PREFIX)) {
      throw new InvalidInputError(`name "${name}" is reserved for the service's own records`, { field: 'name' });
    }
    if (/[\p{Cc}\p{Cf}]/u.test(name)) {
      throw new InvalidInputError('name must not contain control or invisible characters', { field: 'name' });
    }
    if (await this.keys.findActiveByName(name)) throw nameTaken(name);
  }

  list(): Promise<ApiKey[]> {
    return this.keys.all();
  }

  async get(id: string): Promise<ApiKey> {
    const key = UUID_PATTERN.test(id) ? await this.keys.get(id) : null;
    if (!key) throw new NotFoundError(`api key ${id} does not exist`);

    return key;
  }

  /** Revokes a key at once (on this instance; others within CACHE_TTL_MS). The last admin key cannot go. */
  async revoke(id: string, actor: string): Promise<ApiKey> {
    const key = await this.get(id);
    if (key.revokedAt) return key;

    const now = new Date().toISOString();
    if (key.scopes.includes(Scope.Admin) && (await this.keys.countUsableAdmins(now, key.id)) === 0) {
      throw new ConflictError(`api key ${id} is the last usable admin key; create another admin key first`);
    }

    await this.keys.revoke(id, now);
    this.forget(id);
    this.logger.info('api key revoked', { keyId: id, name: key.name, actor });
    return this.get(id);
  }

  /** The usable key a request presented, or null. */
  async authenticate(presented: string): Promise<ApiKey | null> {
    const hash = hashKey(presented);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now && !isExpired(cached.key, now)) return cached.key;

    const key = await this.keys.findUsable(hash, new Date(now).toISOString());
    if (!key) {
      this.cache.delete(hash);
      return null;
    }

    this.cache.set(hash, { key, until: now + CACHE_TTL_MS });
    await this.touch(key, now);
    return key;
  }

  private async touch(key: ApiKey, now: number): Promise<void> {
    if (now - (this.touchedAt.get(key.id) ?? 0) < TOUCH_INTERVAL_MS) return;

    this.touchedAt.set(key.id, now);
    await this.keys.touch(key.id, new Date(now).toISOString());
  }

  private forget(id: string): void {
    for (const [hash, cached] of this.cache) if (cached.key.id === id) this.cache.delete(hash);
  }

  private async store(key: string, shownPrefix: string, input: NewApiKey, actor: string, now: string): Promise<ApiKey> {
    const apiKey: ApiKey = {
      id: randomUUID(),
      name: input.name,
      prefix: shownPrefix,
      scopes: input.scopes,
      rateLimitPerMinute: input.rateLimitPerMinute ?? null,
      createdAt: now,
      createdBy: actor,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    };
    if (!(await this.keys.insert(apiKey, hashKey(key)))) throw nameTaken(input.name);

    return apiKey;
  }

  /** BOOTSTRAP_ADMIN_KEY is an admin key from now on; an earlier, different bootstrap key is revoked. */
  private async ensureBootstrapKey(key: string): Promise<void> {
    const hash = hashKey(key);
    const now = new Date().toISOString();
    await this.keys.revokeOthersNamed(BOOTSTRAP_KEY_NAME, hash, now);

    const input = { name: BOOTSTRAP_KEY_NAME, scopes: [Scope.Admin] };
    if (await this.keys.findByHash(hash)) await this.keys.restore(hash, input.scopes);
    else await this.store(key, BOOTSTRAP_SHOWN_PREFIX, input, 'BOOTSTRAP_ADMIN_KEY', now);

    this.logger.info('bootstrap admin key ready', { name: BOOTSTRAP_KEY_NAME });
  }

  /**
   * A first start with no usable admin key and no BOOTSTRAP_ADMIN_KEY would leave nobody able to call the service:
   * one admin key is made and logged once, to be replaced by keys of narrower scope.
   */
  private async ensureSomeAdminKey(): Promise<void> {
    if ((await this.keys.countUsableAdmins(new Date().toISOString())) > 0) return;

    const now = new Date().toISOString();
    const { key } = await this.issue({ name: INITIAL_KEY_NAME, scopes: [Scope.Admin] }, 'first start', now);
    const advice = 'it is shown only here: use it to create your own keys (one of them admin), then revoke it';
    this.logger.warning(`no admin key existed, so one was created; ${advice}`, {
      name: INITIAL_KEY_NAME,
      key,
    });
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(`an API key named "${name}" exists; revoke it first or choose another name`, {
    field: 'name',
  });
}

/**
 * `expiresAt` as a UTC instant (read as the alert filters read times: without an offset it is UTC, whatever the
 * server's zone), which must lie after `now`; null when absent.
 */
function futureInstant(expiresAt: string | null | undefined, now: string): string | null {
  if (expiresAt === undefined || expiresAt === null) return null;

  const instant = new Date(canonicalTimestamp(expiresAt, 'expiresAt')).toISOString();
  if (instant <= now) throw new InvalidInputError('expiresAt is in the past', { field: 'expiresAt' });

  return instant;
}

function uniqueScopes(scopes: readonly Scope[]): Scope[] {
  return SCOPES.filter((scope) => scopes.includes(scope));
}

function isExpired(key: ApiKey, now: number): boolean {
  return key.expiresAt !== null && Date.parse(key.expiresAt) <= now;
}
