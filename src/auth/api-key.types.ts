import type { Scope } from './scope.decorator.js';

/** An API key as stored and listed; the key itself is never kept, only its SHA-256. */
export interface ApiKey {
  id: string;
  name: string;
  /** The first characters of the key, so an operator can tell keys apart. */
  prefix: string;
  scopes: Scope[];
  /** Requests per minute for this key; null uses RATE_LIMIT_PER_MINUTE, 0 means unlimited. */
  rateLimitPerMinute: number | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface NewApiKey {
  name: string;
  scopes: Scope[];
  rateLimitPerMinute?: number | null;
  expiresAt?: string | null;
}

/** The name under which BOOTSTRAP_ADMIN_KEY is stored. */
export const BOOTSTRAP_KEY_NAME = 'bootstrap-admin';

/** The name of the admin key made on a first start with neither keys nor BOOTSTRAP_ADMIN_KEY. */
export const INITIAL_KEY_NAME = 'initial-admin';
