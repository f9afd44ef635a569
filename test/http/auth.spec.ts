import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { buildOpenApiDocument } from '../../src/app.setup.js';
import { createRestartableTestDatabase } from '../support/test-database.js';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/test-app.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type ScopeName = 'ingest' | 'read' | 'triage' | 'admin';

/**
 * Every route of the API and the scope it needs, written out here independently of the decorators: the test fails
 * when the OpenAPI document lists a route this table lacks, or declares another scope for one.
 */
const ROUTES: Array<[Method, string, ScopeName]> = [
  ['post', '/api/v1/events/DeviceEvents', 'ingest'],
  ['post', '/api/v1/events/DeviceNetworkEvents', 'ingest'],
  ['post', '/api/v1/events/sysmon', 'ingest'],
  ['post', '/api/v1/events', 'ingest'],
  ['get', '/api/v1/alerts', 'read'],
  ['get', '/api/v1/alerts/changes', 'read'],
  ['get', '/api/v1/alerts/{id}', 'read'],
  ['patch', '/api/v1/alerts/{id}', 'triage'],
  ['get', '/api/v1/alerts/{id}/history', 'read'],
  ['get', '/api/v1/alerts/{id}/evidence', 'read'],
  ['get', '/api/v1/alerts/{id}/graph', 'read'],
  ['get', '/api/v1/rules/{ruleId}', 'read'],
  ['put', '/api/v1/rules/{ruleId}', 'admin'],
  ['post', '/api/v1/rules/{ruleId}/rerun', 'admin'],
  ['get', '/api/v1/devices', 'read'],
  ['get', '/api/v1/devices/{deviceId}/graph', 'read'],
  ['get', '/api/v1/devices/{deviceId}/processes/{processKey}/graph', 'read'],
  ['post', '/api/v1/suppressions', 'triage'],
  ['get', '/api/v1/suppressions', 'read'],
  ['delete', '/api/v1/suppressions/{id}', 'triage'],
  ['post', '/api/v1/api-keys', 'admin'],
  ['get', '/api/v1/api-keys', 'admin'],
  ['get', '/api/v1/api-keys/{id}', 'admin'],
  ['delete', '/api/v1/api-keys/{id}', 'admin'],
  ['post', '/api/v1/webhooks', 'admin'],
  ['get', '/api/v1/webhooks', 'admin'],
  ['get', '/api/v1/webhooks/{id}', 'admin'],
  ['patch', '/api/v1/webhooks/{id}', 'admin'],
  ['delete', '/api/v1/webhooks/{id}', 'admin'],
  ['get', '/api/v1/webhooks/{id}/deliveries', 'admin'],
  ['post', '/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', 'admin'],
];

const PUBLIC_PATHS = ['/api/v1/health', '/docs', '/openapi.json', '/'];

const SCOPES: ScopeName[] = ['ingest', 'read', 'triage', 'admin'];
const RULE_ID = 'adws-connection-from-process-injection-target';
const SOME_UUID = '00000000-0000-4000-8000-000000000000';

function concrete(path: string): string {
  return path
    .replace('{ruleId}', RULE_ID)
    .replace('{deviceId}', 'dev-auth')
    .replace('{processKey}', 'p%3A1')
    .replace(/\{[a-zA-Z]*[iI]d\}/g, SOME_UUID);
}

describe('API keys: every route needs a key with its scope', () => {
  let t: TestApp;
  const keyOf: Partial<Record<ScopeName, string>> = {};

  beforeAll(async () => {
    t = await createTestApp();
    for (const scope of SCOPES) {
      const reply = await t
        .http()
        .post('/api/v1/api-keys')
        .send({ name: `only-${scope}`, scopes: [scope] });
      expect(reply.status).toBe(201);
      keyOf[scope] = reply.body.key;
    }
  });
  afterAll(async () => t.close());

  const call = (method: Method, path: string, key?: string) => {
    const req = t.anonymous()[method](concrete(path));
    if (key) req.set('X-API-Key', key);
    if (method === 'get' || method === 'delete') return req;

    return req.set('content-type', 'application/json').set('If-Match', '*').send('[]');
  };

  it('lists in its table exactly the routes the OpenAPI document has, with the same scopes', () => {
    const document = buildOpenApiDocument(t.app);
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations as Record<string, Record<string, unknown>>).map(
        ([method, operation]) => `${method} ${path} ${operation['x-required-scope'] ?? 'public'}`,
      ),
    );
    const expected = [...ROUTES.map(([m, p, s]) => `${m} ${p} ${s}`), 'get /api/v1/health public', 'get / public'];

    expect(documented.sort()).toEqual(expected.sort());
  });

  it('documents both schemes and puts every scoped route under them', () => {
    const document = buildOpenApiDocument(t.app);

    expect(document.components?.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'API key' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
    for (const [method, path] of ROUTES) {
      const operation = (document.paths[path] as Record<string, { security?: unknown }>)[method]!;
      expect(operation.security, `${method} ${path}`).toEqual([{ bearer: [] }, { apiKey: [] }]);
    }
  });

  it.each(ROUTES)('%s %s: 401 without a key or with an unknown one', async (method, path) => {
    const none = await call(method, path);
    const unknown = await call(method, path, 'adws_not-a-key-this-service-issued');

    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body).toMatchObject({ statusCode: 401, error: 'unauthenticated' });
    expect(unknown.status).toBe(401);
  });

  it.each(ROUTES)('%s %s: 403 for keys without %s, through for one with it', async (method, path, scope) => {
    for (const other of SCOPES.filter((s) => s !== scope && s !== 'admin')) {
      const refused = await call(method, path, keyOf[other]);
      expect(refused.status, `${other} key`).toBe(403);
      expect(refused.body.details).toMatchObject({ requiredScope: scope });
    }

    const allowed = await call(method, path, keyOf[scope]);
    const asAdmin = await call(method, path, keyOf.admin);
    expect([401, 403]).not.toContain(allowed.status);
    expect([401, 403]).not.toContain(asAdmin.status);
  });

  it.each(PUBLIC_PATHS)('%s needs no key', async (path) => {
    const reply = await t.anonymous().get(path);

    expect(reply.status).toBe(200);
  });

  it('takes the key as a bearer token (any case of the scheme) or as X-API-Key', async () => {
    const bearer = await t.anonymous().get('/api/v1/alerts').set('Authorization', `Bearer ${keyOf.read}`);
    const lower = await t.anonymous().get('/api/v1/alerts').set('Authorization', `bearer ${keyOf.read}`);
    const header = await t.anonymous().get('/api/v1/alerts').set('X-API-Key', keyOf.read!);
    const basic = await t.anonymous().get('/api/v1/alerts').set('Authorization', `Basic ${keyOf.read}`);

    expect([bearer.status, lower.status, header.status]).toEqual([200, 200, 200]);
    expect(basic.status).toBe(401);
  });
});

describe('API key management', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('shows a key once and stores only its hash', async () => {
    const created = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'xsoar', scopes: ['triage', 'read', 'read'], rateLimitPerMinute: 120 });
    const listed = await t.http().get('/api/v1/api-keys');
    const stored = await t.db.query<Record<string, unknown>>(`SELECT * FROM api_keys WHERE id = $1`, [created.body.id]);

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'xsoar', scopes: ['read', 'triage'], createdBy: 'bootstrap-admin' });
    expect(created.body.key).toMatch(/^adws_[A-Za-z0-9_-]{43}$/);
    expect(created.body.prefix).toBe(created.body.key.slice(0, 12));
    const row = listed.body.find((k: { id: string }) => k.id === created.body.id);
    expect(row).toMatchObject({ name: 'xsoar', rateLimitPerMinute: 120, revokedAt: null });
    expect(row.key).toBeUndefined();
    expect(JSON.stringify(stored.rows)).not.toContain(created.body.key);
    expect(JSON.stringify(stored.rows)).toMatch(/[0-9a-f]{64}/);
  });

  it('lists the bootstrap key as an admin key named bootstrap-admin', async () => {
    const listed = await t.http().get('/api/v1/api-keys');

    expect(listed.body).toContainEqual(expect.objectContaining({ name: 'bootstrap-admin', scopes: ['admin'] }));
    expect(listed.body.find((k: { name: string }) => k.name === 'bootstrap-admin').lastUsedAt).not.toBeNull();
  });

  it('refuses bad input naming the field', async () => {
    const badScope = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'x', scopes: ['root'] });
    const noScope = await t.http().post('/api/v1/api-keys').send({ name: 'x', scopes: [] });
    const noName = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ scopes: ['read'] });
    const past = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'x', scopes: ['read'], expiresAt: '2001-01-01T00:00:00Z' });

    expect([badScope.status, noScope.status, noName.status, past.status]).toEqual([400, 400, 400, 400]);
    expect(badScope.body.message).toMatch(/scopes/);
    expect(noName.body.message).toMatch(/name/);
    expect(past.body.details).toMatchObject({ field: 'expiresAt' });
  });

  it('stops a revoked key at once and keeps it listed with revokedAt', async () => {
    const { body: key } = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'short-lived', scopes: ['read'] });
    expect((await t.anonymous().get('/api/v1/alerts').set('X-API-Key', key.key)).status).toBe(200);

    const revoked = await t.http().delete(`/api/v1/api-keys/${key.id}`);
    const after = await t.anonymous().get('/api/v1/alerts').set('X-API-Key', key.key);

    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(after.status).toBe(401);
    expect((await t.http().get(`/api/v1/api-keys/${key.id}`)).body.revokedAt).toBe(revoked.body.revokedAt);
  });

  it('refuses an expired key', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const { body: key } = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'brief', scopes: ['read'], expiresAt });
    expect((await t.anonymous().get('/api/v1/alerts').set('X-API-Key', key.key)).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect((await t.anonymous().get('/api/v1/alerts').set('X-API-Key', key.key)).status).toBe(401);
  });

  it('answers 404 for unknown key ids', async () => {
    const unknown = await t.http().get(`/api/v1/api-keys/${SOME_UUID}`);
    const malformed = await t.http().delete('/api/v1/api-keys/not-a-uuid');

    expect([unknown.status, malformed.status]).toEqual([404, 404]);
  });

  it('reserves the names the service records itself and keeps names unique among keys not revoked', async () => {
    const create = (name: string) =>
      t
        .http()
        .post('/api/v1/api-keys')
        .send({ name, scopes: ['read'] });
    const reserved = await Promise.all(['detection', 'Bootstrap-Admin', 'initial-admin', 'anonymous x'].map(create));
    const first = await create('splunk-soar');
    const second = await create('SPLUNK-SOAR');
    await t.http().delete(`/api/v1/api-keys/${first.body.id}`).expect(200);
    const again = await create('splunk-soar');

    const invisible = await create('detection\u200b');
    expect(reserved.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(invisible.status).toBe(400);
    expect(reserved[0]!.body.details).toMatchObject({ field: 'name' });
    expect([first.status, second.status, again.status]).toEqual([201, 409, 201]);
  });

  it('gives one of many simultaneous creations of a name the key and the others 409, never 500', async () => {
    const replies = await Promise.all(
      Array.from({ length: 12 }, () =>
        t
          .http()
          .post('/api/v1/api-keys')
          .send({ name: 'raced', scopes: ['read'] }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();

    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
  });

  it('reads expiresAt as an instant: an offset in the past is refused, a future one stored in UTC', async () => {
    const pastWithOffset = new Date(Date.now() - 30 * 60_000).toISOString().replace('Z', '+00:00');
    const past = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'late', scopes: ['read'], expiresAt: pastWithOffset });
    const future = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'later', scopes: ['read'], expiresAt: '2099-01-01T12:00:00+05:00' });

    const noZone = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'no-zone', scopes: ['read'], expiresAt: '2099-01-01T12:00:00' });

    expect(past.status).toBe(400);
    expect(future.body.expiresAt).toBe('2099-01-01T07:00:00.000Z');
    expect(noZone.body.expiresAt).toBe('2099-01-01T12:00:00.000Z');
    expect((await t.http().get(`/api/v1/api-keys/${future.body.id}`)).body.expiresAt).toBe('2099-01-01T07:00:00.000Z');
  });

  it('shows none of a chosen bootstrap key in listings', async () => {
    const bootstrap = (await t.http().get('/api/v1/api-keys')).body.find(
      (k: { name: string }) => k.name === 'bootstrap-admin',
    );

    expect(bootstrap.prefix).toBe('(bootstrap)');
    expect(TEST_ADMIN_KEY.startsWith(bootstrap.prefix)).toBe(false);
  });

  it('will not revoke the last usable admin key', async () => {
    const keys = (await t.http().get('/api/v1/api-keys')).body as Array<{ id: string; name: string }>;
    const bootstrap = keys.find((k) => k.name === 'bootstrap-admin')!;

    const refused = await t.http().delete(`/api/v1/api-keys/${bootstrap.id}`);
    const other = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'second-admin', scopes: ['admin'] });
    const allowed = await t.http().delete(`/api/v1/api-keys/${bootstrap.id}`);
    const withOld = await t.http().get('/api/v1/alerts');
    const withNew = await t.anonymous().get('/api/v1/alerts').set('Authorization', `Bearer ${other.body.key}`);

    expect(refused.status).toBe(409);
    expect(allowed.status).toBe(200);
    expect(withOld.status).toBe(401);
    expect(withNew.status).toBe(200);
  });
});

describe('rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ rateLimitPerMinute: 5 });
  });
  afterAll(async () => t.close());

  it('answers 429 with Retry-After once a key has used its budget, per key', async () => {
    const { body: limited } = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'tight', scopes: ['read'], rateLimitPerMinute: 3 });
    const { body: other } = await t
      .http()
      .post('/api/v1/api-keys')
      .send({ name: 'default', scopes: ['read'] });
    const get = (key: string) => t.anonymous().get('/api/v1/alerts').set('X-API-Key', key);

    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(limited.key)).status);
    const refused = await get(limited.key);
    const neighbour = await get(other.key);

    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(20);
    expect(refused.body).toMatchObject({ error: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    expect(neighbour.status).toBe(200);
    expect(neighbour.headers['ratelimit-limit']).toBe('5');
    expect(neighbour.headers['ratelimit-remaining']).toBe('4');
  });
});

describe('start-up keys and switching auth off', () => {
  let written: string[] = [];

  afterEach(() => vi.restoreAllMocks());

  const captureLogs = () => {
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  };

  it('makes and logs one admin key on a first start without BOOTSTRAP_ADMIN_KEY, and none on the next', async () => {
    const storage = await createRestartableTestDatabase();
    const start = async () => {
      captureLogs();
      const app = await createTestApp({ bootstrapAdminKey: null, logLevel: 'warn' }, await storage.open());
      const lines = written.map((l) => JSON.parse(l));
      vi.restoreAllMocks();
      return { app, made: lines.filter((l) => String(l.msg).includes('no admin key existed')) };
    };

    try {
      const first = await start();
      expect(first.made).toHaveLength(1);
      expect(first.made[0]).toMatchObject({
        level: 'warn',
        name: 'initial-admin',
        key: expect.stringMatching(/^adws_/),
      });
      const key = first.made[0].key as string;
      const listed = await first.app.anonymous().get('/api/v1/api-keys').set('X-API-Key', key);
      expect(listed.status).toBe(200);
      expect(listed.body.map((k: { name: string }) => k.name)).toEqual(['initial-admin']);
      await first.app.close();

      const second = await start();
      expect(second.made).toHaveLength(0);
      expect((await second.app.anonymous().get('/api/v1/api-keys').set('X-API-Key', key)).body).toHaveLength(1);
      await second.app.close();
    } finally {
      await storage.destroy();
    }
  });

  it('keeps BOOTSTRAP_ADMIN_KEY across restarts and revokes an earlier one when it changes', async () => {
    const storage = await createRestartableTestDatabase();
    const start = async (bootstrapAdminKey: string) => createTestApp({ bootstrapAdminKey }, await storage.open());
    const status = async (app: TestApp, key: string) =>
      (await app.anonymous().get('/api/v1/alerts').set('X-API-Key', key)).status;

    try {
      const first = await start('first-bootstrap-key-0123456789');
      expect(await status(first, 'first-bootstrap-key-0123456789')).toBe(200);
      await first.close();

      const same = await start('first-bootstrap-key-0123456789');
      expect(await status(same, 'first-bootstrap-key-0123456789')).toBe(200);
      await same.close();

      const changed = await start('second-bootstrap-key-0123456789');
      const keys = (
        await changed.anonymous().get('/api/v1/api-keys').set('X-API-Key', 'second-bootstrap-key-0123456789')
      ).body as Array<{ name: string; revokedAt: string | null }>;
      expect(await status(changed, 'first-bootstrap-key-0123456789')).toBe(401);
      expect(await status(changed, 'second-bootstrap-key-0123456789')).toBe(200);
      expect(keys.map((k) => [k.name, k.revokedAt === null])).toEqual([
        ['bootstrap-admin', false],
        ['bootstrap-admin', true],
      ]);
      await changed.close();
    } finally {
      await storage.destroy();
    }
  });

  it('opens every route when AUTH_MODE=disabled, and says so at start-up', async () => {
    captureLogs();
    const open = await createTestApp({ authMode: 'disabled', logLevel: 'warn' });
    const warning = written.map((l) => JSON.parse(l)).find((l) => l.level === 'warn');
    vi.restoreAllMocks();

    try {
      expect(warning.msg).toMatch(/authentication is DISABLED/);
      expect((await open.anonymous().get('/api/v1/alerts')).status).toBe(200);
      expect((await open.anonymous().get('/api/v1/api-keys')).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('logs refused requests with their reason and route, never the key', async () => {
    const app = await createTestApp({ logLevel: 'warn' });
    try {
      captureLogs();
      await app.anonymous().get('/api/v1/alerts').set('X-API-Key', 'adws_guessed-key-that-must-not-be-logged');
      const { body: reader } = await app
        .http()
        .post('/api/v1/api-keys')
        .send({ name: 'reader', scopes: ['read'] });
      await app.anonymous().post('/api/v1/rules/x/rerun').set('X-API-Key', reader.key);
      vi.restoreAllMocks();

      const refused = written.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request refused');
      expect(refused.map((l) => [l.code, l.method, l.path])).toEqual([
        ['unauthenticated', 'GET', '/api/v1/alerts'],
        ['forbidden', 'POST', '/api/v1/rules/x/rerun'],
      ]);
      expect(refused[0]).toMatchObject({ requestId: expect.any(String), remoteAddress: expect.any(String) });
      expect(written.join('')).not.toContain('guessed-key');
      expect(written.join('')).not.toContain(reader.key);
    } finally {
      vi.restoreAllMocks();
      await app.close();
    }
  });

  it('shows none of a bootstrap key that looks like a generated one', async () => {
    const chosen = 'adws_chosen-bootstrap-key-0123456789';
    const app = await createTestApp({ bootstrapAdminKey: chosen });
    try {
      const keys = (await app.anonymous().get('/api/v1/api-keys').set('X-API-Key', chosen)).body;

      expect(keys.map((k: { name: string; prefix: string }) => [k.name, k.prefix])).toEqual([
        ['bootstrap-admin', '(bootstrap)'],
      ]);
    } finally {
      await app.close();
    }
  });

  it('refuses to start with a short or unknown auth setting', async () => {
    const { loadConfig } = await import('../../src/config/app.config.js');

    expect(() => loadConfig({ AUTH_MODE: 'off' })).toThrow(/AUTH_MODE must be required or disabled/);
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_KEY: 'short' })).toThrow(/at least 24 characters/);
    expect(loadConfig({}).authMode).toBe('required');
  });
});
