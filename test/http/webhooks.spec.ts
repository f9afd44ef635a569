import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { AlertChangeEvent } from '../../src/alerts/alert-change.js';
import type { AppConfig } from '../../src/config/app.config.js';
import type { Database, Queryable } from '../../src/database/database.js';
import { runMigrations } from '../../src/database/migrator.js';
import { PgDatabase } from '../../src/database/pg.database.js';
import { PgliteDatabase } from '../../src/database/pglite.database.js';
import { quoteIdentifier } from '../../src/database/sql.identifier.js';
import { WebhookOutbox } from '../../src/webhooks/webhook.outbox.js';
import { WebhookRepository } from '../../src/webhooks/webhook.repository.js';
import { connectionRow, injectionRow, type MdeRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import type { TestDatabase } from '../support/test-database.js';

const HOOKS = '/api/v1/webhooks';
const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';
const SECRET = 'receiver-shared-secret-0123456789';

/** Short enough for tests: retries after 100, 200, 400, 400 ms; at most 5 attempts. */
const FAST: Partial<AppConfig> = {
  webhookPollMs: 25,
  webhookBackoffBaseMs: 100,
  webhookBackoffMaxMs: 400,
  webhookMaxAttempts: 5,
  webhookTimeoutMs: 2000,
};

interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers with the status `reply` gives: a 3xx
 * points elsewhere (Location), and `hang` never answers.
 */
class Receiver {
  readonly received: Received[] = [];
  reply: (index: number) => number | 'hang' = () => 204;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = Date.now();
        const body = Buffer.concat(chunks).toString('utf8');
        receiver!.received.push({ at, path: req.url ?? '', headers: req.headers, body });
        const status = receiver!.reply(receiver!.received.length - 1);
        if (status === 'hang') return;

        res.statusCode = status;
        if (status >= 300 && status < 400) res.setHeader('Location', '/elsewhere');
        res.end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    receiver = new Receiver(server, (server.address() as AddressInfo).port);

    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Probes until `done` holds (deliveries are sent in the background), failing with the last value seen. */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

function hmacHex(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Helpers bound to one app. */
function client(t: TestApp) {
  const post = (table: string, rows: MdeRow[]) => t.postRows(table, rows);

  return {
    post,
    /** An injection then an ADWS connection from its target: one new alert on the device. */
    async attack(deviceId: string) {
      await post('DeviceEvents', [injectionRow({ DeviceId: deviceId })]).expect(200);
      await post('DeviceNetworkEvents', [connectionRow({ DeviceId: deviceId })]).expect(200);
    },
    async createHook(body: Record<string, unknown>) {
      const reply = await t.http().post(HOOKS).send(body);
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);

      return reply.body as { id: string; secret: string; events: string[] };
    },
    async deliveries(id: string, query: Record<string, unknown> = {}) {
      const reply = await t.http().get(`${HOOKS}/${id}/deliveries`).query(query);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);

      return reply.body as { items: any[]; nextAfter: number | null };
    },
  };
}

describe('webhooks: registration, signed deliveries, retries', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  const receivers: Receiver[] = [];
  const receiver = async (port?: number) => {
    const started = await Receiver.start(port);
    receivers.push(started);
    return started;
  };
  const delivered = (id: string, count = 1) =>
    eventually(
      () => api.deliveries(id),
      (page) => page.items.length >= count && page.items.every((d) => d.state === 'delivered'),
    );

  beforeAll(async () => {
    t = await createTestApp(FAST);
    api = client(t);
  });
  afterEach(async () => {
    for (const hook of (await t.http().get(HOOKS)).body) await t.http().delete(`${HOOKS}/${hook.id}`).expect(204);
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => t.close());

  describe('registration', () => {
    it('creates a webhook with a generated secret, returned once and never by GET', async () => {
      const created = await api.createHook({ name: ' soar ', url: 'http://127.0.0.1:9/hook' });

      expect(created).toMatchObject({
        name: 'soar',
        url: 'http://127.0.0.1:9/hook',
        events: ['created', 'updated', 'status'],
        active: true,
        createdBy: 'bootstrap-admin',
      });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

      const one = await t.http().get(`${HOOKS}/${created.id}`).expect(200);
      const all = await t.http().get(HOOKS).expect(200);
      expect(one.body).not.toHaveProperty('secret');
      expect(all.body).toHaveLength(1);
      expect(all.body[0]).not.toHaveProperty('secret');
      expect(one.text + all.text).not.toContain(created.secret);
      const { secret: _secret, ...withoutSecret } = created;
      expect(one.body).toEqual(withoutSecret);
    });

    it('keeps a given secret and event filter, in canonical order without repeats', async () => {
      const created = await api.createHook({
        name: 'x',
        url: 'https://soar.example.net/h',
        secret: SECRET,
        events: ['status', 'created', 'status'],
      });

      expect(created.secret).toBe(SECRET);
      expect(created.events).toEqual(['created', 'status']);
    });

    it('changes name, url, events and active with PATCH, and nothing else', async () => {
      const { id } = await api.createHook({ name: 'before', url: 'http://127.0.0.1:9/a' });

      const patched = await t
        .http()
        .patch(`${HOOKS}/${id}`)
        .send({ name: 'after', url: 'https://soar.example.net/b', events: ['updated'], active: false });
      const secretPatch = await t.http().patch(`${HOOKS}/${id}`).send({ secret: 'another-secret-0123456789' });

      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ name: 'after', url: 'https://soar.example.net/b', events: ['updated'] });
      expect(patched.body.active).toBe(false);
      expect(patched.body).not.toHaveProperty('secret');
      expect(secretPatch.status).toBe(400);
      expect(secretPatch.body.message).toMatch(/secret/);
      expect((await t.http().get(`${HOOKS}/${id}`)).body).toEqual(patched.body);
    });

    it.each([
      [{ url: 'http://127.0.0.1/h' }, /name/],
      [{ name: 'x' }, /url/],
      [{ name: 'x', url: 'ftp://127.0.0.1/h' }, /url must be http or https/],
      [{ name: 'x', url: 'not a url' }, /url is not an absolute URL/],
      [{ name: 'x', url: 'http://user:pw@127.0.0.1/h' }, /url must not carry credentials/],
      [{ name: '   ', url: 'http://127.0.0.1/h' }, /name must not be blank/],
      [{ name: 'x', url: 'http://127.0.0.1/h', secret: 'too-short' }, /secret must be longer than/],
      [{ name: 'x', url: 'http://127.0.0.1/h', events: ['deleted'] }, /events must be one of created, updated/],
      [{ name: 'x', url: 'http://127.0.0.1/h', events: [] }, /events must contain at least 1/],
      [{ name: 'x', url: 'http://127.0.0.1/h', events: 'created' }, /events must be an array/],
      [{ name: 'x', url: 'http://127.0.0.1/h', active: false }, /property active should not exist/],
    ])('refuses %j with a 400 naming the field', async (body, message) => {
      const reply = await t.http().post(HOOKS).send(body);

      expect(reply.status).toBe(400);
      expect(reply.body.message).toMatch(message);
      expect((await t.http().get(HOOKS)).body).toEqual([]);
    });

    it('names the field in the details of a service-level refusal, on POST and PATCH', async () => {
      const { id } = await api.createHook({ name: 'y', url: 'http://127.0.0.1:9/h' });

      const post = await t.http().post(HOOKS).send({ name: 'x', url: 'gopher://127.0.0.1/h' });
      const patch = await t.http().patch(`${HOOKS}/${id}`).send({ url: 'file:///etc/passwd' });
      const events = await t
        .http()
        .patch(`${HOOKS}/${id}`)
        .send({ events: ['status', 'deleted'] });

      expect([post.status, patch.status, events.status]).toEqual([400, 400, 400]);
      expect(post.body.details).toMatchObject({ field: 'url' });
      expect(patch.body.details).toMatchObject({ field: 'url' });
      expect(events.body.message).toMatch(/events/);
      expect((await t.http().get(`${HOOKS}/${id}`)).body.url).toBe('http://127.0.0.1:9/h');
    });

    it('is for admin keys only', async () => {
      const triage = await t
        .http()
        .post('/api/v1/api-keys')
        .send({ name: 'triage-only', scopes: ['read', 'triage'] });
      expect(triage.status).toBe(201);

      const anonymous = await t.anonymous().get(HOOKS);
      const withTriage = await t.anonymous().get(HOOKS).set('Authorization', `Bearer ${triage.body.key}`);
      const create = await t
        .anonymous()
        .post(HOOKS)
        .set('Authorization', `Bearer ${triage.body.key}`)
        .send({ name: 'x', url: 'http://127.0.0.1:9/h' });

      expect([anonymous.status, withTriage.status, create.status]).toEqual([401, 403, 403]);
      expect((await t.http().get(HOOKS)).body).toEqual([]);
    });

    it('answers 404 for unknown or malformed ids on every route', async () => {
      const { id } = await api.createHook({ name: 'x', url: 'http://127.0.0.1:9/h' });
      const unknown = '00000000-0000-4000-8000-000000000000';
      const replies = await Promise.all(
        [unknown, 'not-a-uuid'].flatMap((missing) => [
          t.http().get(`${HOOKS}/${missing}`),
          t.http().patch(`${HOOKS}/${missing}`).send({ name: 'y' }),
          t.http().delete(`${HOOKS}/${missing}`),
          t.http().get(`${HOOKS}/${missing}/deliveries`),
          t.http().post(`${HOOKS}/${missing}/deliveries/${unknown}/redeliver`),
          t.http().post(`${HOOKS}/${id}/deliveries/${missing}/redeliver`),
        ]),
      );

      expect(replies.map((r) => r.status)).toEqual(Array(12).fill(404));
      expect(replies[5]!.body.message).toMatch(/delivery .* of webhook .* does not exist/);
    });

    it('deletes a webhook (then 404) and refuses a bad deliveries query', async () => {
      const { id } = await api.createHook({ name: 'x', url: 'http://127.0.0.1:9/h' });

      const badState = await t.http().get(`${HOOKS}/${id}/deliveries`).query({ state: 'lost' });
      const badAfter = await t.http().get(`${HOOKS}/${id}/deliveries`).query({ after: -1 });
      await t.http().delete(`${HOOKS}/${id}`).expect(204);

      expect(badState.status).toBe(400);
      expect(badState.body.message).toMatch(/state/);
      expect(badAfter.status).toBe(400);
      expect(badAfter.body.message).toMatch(/after/);
      expect((await t.http().get(`${HOOKS}/${id}`)).status).toBe(404);
      expect((await t.http().delete(`${HOOKS}/${id}`)).status).toBe(404);
    });
  });

  describe('deliveries', () => {
    it('POSTs a signed body a receiver can verify with the secret, once, and records it', async () => {
      const r = await receiver();
      const hook = await api.createHook({ name: 'sig', url: r.url('/in?x=1'), secret: SECRET });

      await api.attack('wh-sig');
      const [delivery] = (await delivered(hook.id)).items;

      expect(r.received).toHaveLength(1);
      const { headers, body } = r.received[0]!;
      const timestamp = String(headers['x-webhook-timestamp']);
      expect(headers['content-type']).toBe('application/json');
      expect(headers['x-webhook-signature']).toBe(`sha256=${hmacHex(SECRET, timestamp, body)}`);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(30);
      expect(headers).toMatchObject({
        'x-webhook-id': hook.id,
        'x-webhook-delivery': delivery.id,
        'x-webhook-event': 'created',
      });

      const payload = JSON.parse(body);
      expect(Object.keys(payload)).toEqual([
        'deliveryId',
        'webhookId',
        'event',
        'sequence',
        'occurredAt',
        'actor',
        'actorKeyId',
        'changes',
        'comment',
        'alert',
      ]);
      expect(payload).toMatchObject({
        deliveryId: delivery.id,
        webhookId: hook.id,
        event: 'created',
        sequence: delivery.sequence,
        actor: 'detection',
        actorKeyId: null,
        changes: {},
        comment: null,
      });
      expect(payload.alert).toMatchObject({ id: delivery.alertId, deviceId: 'wh-sig', status: 'new', revision: 1 });
      expect(payload.alert).toEqual((await t.http().get(`/api/v1/alerts/${delivery.alertId}`)).body);
      expect(delivery).toMatchObject({ state: 'delivered', attempts: 1, lastStatus: 204, lastError: null });
      expect(delivery.deliveredAt).toBe(delivery.lastAttemptAt);
      expect(delivery.nextAttemptAt).toBeNull();
    });

    it('delivers only the change types of its filter', async () => {
      const r = await receiver();
      const statusOnly = await api.createHook({ name: 'status', url: r.url('/status'), events: ['status'] });
      const createdOnly = await api.createHook({ name: 'created', url: r.url('/created'), events: ['created'] });

      await api.attack('wh-filter');
      await delivered(createdOnly.id);
      expect((await api.deliveries(statusOnly.id)).items).toEqual([]);

      const suppression = { entityType: 'device', value: 'wh-filter', durationMinutes: 60, reason: 'webhook test' };
      await t.http().post('/api/v1/suppressions').send(suppression).expect(201);
      const [statusDelivery] = (await delivered(statusOnly.id)).items;

      expect(statusDelivery.event).toBe('status');
      expect((await api.deliveries(createdOnly.id)).items).toHaveLength(1);
      const bodies = r.received.map((q) => JSON.parse(q.body));
      expect(r.received.map((q, i) => `${q.path} ${bodies[i].webhookId} ${bodies[i].event}`)).toEqual([
        `/created ${createdOnly.id} created`,
        `/status ${statusOnly.id} status`,
      ]);
      expect(bodies[1].changes).toEqual({ status: { from: 'new', to: 'suppressed' } });
    });

    it('sends nothing to an inactive webhook', async () => {
      const r = await receiver();
      const hook = await api.createHook({ name: 'paused', url: r.url() });
      await t.http().patch(`${HOOKS}/${hook.id}`).send({ active: false }).expect(200);

      await api.attack('wh-paused');
      await sleep(200);

      expect((await api.deliveries(hook.id)).items).toEqual([]);
      expect(r.received).toEqual([]);
    });

    it('retries after 5xx replies with a doubling backoff and the same bytes, then records the delivery', async () => {
      const r = await receiver();
      r.reply = (index) => (index < 2 ? 500 : 200);
      const hook = await api.createHook({ name: 'flaky', url: r.url(), secret: SECRET });

      await api.attack('wh-retry');
      const [delivery] = (await delivered(hook.id)).items;

      expect(delivery).toMatchObject({ state: 'delivered', attempts: 3, lastStatus: 200, lastError: null });
      expect(r.received).toHaveLength(3);
      expect(new Set(r.received.map((q) => q.body)).size).toBe(1);
      expect(new Set(r.received.map((q) => q.headers['x-webhook-delivery']))).toEqual(new Set([delivery.id]));
      for (const q of r.received) {
        expect(q.headers['x-webhook-signature']).toBe(
          `sha256=${hmacHex(SECRET, String(q.headers['x-webhook-timestamp']), q.body)}`,
        );
      }
      const [first, second, third] = r.received.map((q) => q.at);
      expect(second! - first!).toBeGreaterThanOrEqual(100);
      expect(third! - second!).toBeGreaterThanOrEqual(200);
    });

    it('fails a delivery after the last attempt, and redelivers it on request', async () => {
      const r = await receiver();
      r.reply = () => 503;
      const hook = await api.createHook({ name: 'down', url: r.url() });

      await api.attack('wh-fail');
      const [failed] = (
        await eventually(
          () => api.deliveries(hook.id),
          (page) => page.items[0]?.state === 'failed',
        )
      ).items;
      await sleep(600);

      expect(failed).toMatchObject({ state: 'failed', attempts: 5, lastStatus: 503, lastError: 'HTTP 503' });
      expect(failed.nextAttemptAt).toBeNull();
      expect(r.received).toHaveLength(5);
      expect((await api.deliveries(hook.id, { state: 'failed' })).items.map((d: any) => d.id)).toEqual([failed.id]);
      expect((await api.deliveries(hook.id, { state: 'pending' })).items).toEqual([]);

      r.reply = () => 200;
      const redeliver = await t.http().post(`${HOOKS}/${hook.id}/deliveries/${failed.id}/redeliver`);
      expect(redeliver.status).toBe(200);
      expect(redeliver.body).toMatchObject({ id: failed.id, state: 'pending', attempts: 0 });

      const [done] = (await delivered(hook.id)).items;
      expect(done).toMatchObject({ id: failed.id, state: 'delivered', attempts: 1, lastStatus: 200 });
      expect(r.received).toHaveLength(6);
      expect(r.received[5]!.body).toBe(r.received[0]!.body);

      const again = await t.http().post(`${HOOKS}/${hook.id}/deliveries/${failed.id}/redeliver`);
      expect(again.status).toBe(409);
    });

    it('counts a redirect (not followed) and a timeout as failed attempts', async () => {
      const r = await receiver();
      r.reply = (index) => [302, 'hang' as const][index] ?? 200;
      const hook = await api.createHook({ name: 'odd', url: r.url() });

      await api.attack('wh-odd');
      const [redirected] = (
        await eventually(
          () => api.deliveries(hook.id),
          (page) => page.items[0]?.attempts === 1,
        )
      ).items;
      const [done] = (await delivered(hook.id)).items;

      expect(redirected).toMatchObject({ state: 'pending', lastStatus: 302, lastError: 'HTTP 302' });
      expect(done).toMatchObject({ attempts: 3, lastStatus: 200 });
      expect(r.received.map((q) => q.path)).toEqual(['/hook', '/hook', '/hook']);
      expect(r.received[2]!.at - r.received[1]!.at).toBeGreaterThanOrEqual(FAST.webhookTimeoutMs!);
    });

    it('retries while the receiver is down and delivers once it is up', async () => {
      const probe = await Receiver.start();
      const port = probe.port;
      await probe.close();
      const hook = await api.createHook({ name: 'late', url: `http://127.0.0.1:${port}/hook` });

      await api.attack('wh-down');
      const [refused] = (
        await eventually(
          () => api.deliveries(hook.id),
          (page) => page.items[0]?.attempts >= 1,
        )
      ).items;
      const r = await receiver(port);
      const [done] = (await delivered(hook.id)).items;

      expect(refused).toMatchObject({ lastStatus: null, lastError: expect.stringMatching(/ECONNREFUSED/) });
      expect(done.attempts).toBeGreaterThanOrEqual(2);
      expect(done.lastStatus).toBe(204);
      expect(r.received).toHaveLength(1);
    });

    it('pages deliveries oldest change first by sequence', async () => {
      const r = await receiver();
      const hook = await api.createHook({ name: 'pages', url: r.url() });

      for (const device of ['wh-page-1', 'wh-page-2', 'wh-page-3']) await api.attack(device);
      const all = (await delivered(hook.id, 3)).items;
      const first = await api.deliveries(hook.id, { limit: 2 });
      const second = await api.deliveries(hook.id, { limit: 2, after: first.nextAfter });

      expect(all.map((d) => d.sequence)).toEqual([...all.map((d) => d.sequence)].sort((a, b) => a - b));
      expect([...first.items, ...second.items].map((d) => d.id)).toEqual(all.map((d) => d.id));
      expect(first.nextAfter).toBe(all[1].sequence);
      expect(second.nextAfter).toBeNull();
    });

    it('deletes pending deliveries with their webhook', async () => {
      const r = await receiver();
      r.reply = () => 500;
      const hook = await api.createHook({ name: 'gone', url: r.url() });
      await api.attack('wh-gone');
      await eventually(
        () => Promise.resolve(r.received.length),
        (n) => n >= 1,
      );

      await t.http().delete(`${HOOKS}/${hook.id}`).expect(204);
      const count = r.received.length;
      await sleep(500);

      const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries');
      expect(rows[0]!.n).toBe(0);
      expect(r.received.length).toBeLessThanOrEqual(count + 1);
    });
  });

  describe('the outbox shares the transaction of the alert change', () => {
    it('enqueues nothing for a change whose transaction rolls back, and the change once it commits', async () => {
      const r = await receiver();
      const hook = await api.createHook({ name: 'tx', url: r.url() });
      const outbox = t.app.get(WebhookOutbox);
      const original = outbox.onAlertChange;
      const seenInTransaction: number[] = [];
      outbox.onAlertChange = async (tx: Queryable, change: AlertChangeEvent) => {
        await original.call(outbox, tx, change);
        const sql = 'SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1';
        seenInTransaction.push((await tx.query<{ n: number }>(sql, [hook.id])).rows[0]!.n);
        throw new Error('the alert write fails after its deliveries were enqueued');
      };
      try {
        await api.post('DeviceEvents', [injectionRow({ DeviceId: 'wh-rollback' })]).expect(200);
        const failed = await api.post('DeviceNetworkEvents', [connectionRow({ DeviceId: 'wh-rollback' })]);
        expect(failed.status).toBe(500);
      } finally {
        outbox.onAlertChange = original;
      }

      expect(seenInTransaction).toEqual([1]);
      expect((await api.deliveries(hook.id)).items).toEqual([]);
      expect((await t.http().get('/api/v1/alerts').query({ deviceId: 'wh-rollback' })).body.items).toEqual([]);

      await t.http().post(`${RULE}/rerun`).expect(200);
      const [delivery] = (await delivered(hook.id)).items;
      expect(JSON.parse(r.received[0]!.body).alert.deviceId).toBe('wh-rollback');
      expect(delivery.event).toBe('created');
    });

    it('writes one delivery per change and webhook, however often the change is enqueued', async () => {
      const hook = await api.createHook({ name: 'once', url: 'http://127.0.0.1:9/h', events: ['updated'] });
      await api.createHook({ name: 'other type', url: 'http://127.0.0.1:9/h', events: ['created'] });
      const repository = t.app.get(WebhookRepository);
      const change = { type: 'updated' as const, alertId: hook.id, sequence: 987654, body: '{"event":"updated"}' };

      const counts = await t.db.transaction(async (tx) => [
        await repository.enqueue(tx, { ...change, at: new Date(Date.now() + 3_600_000).toISOString() }),
        await repository.enqueue(tx, { ...change, at: new Date(Date.now() + 3_600_000).toISOString() }),
      ]);

      expect(counts).toEqual([1, 0]);
      const { rows } = await t.db.query<{ id: string; body: string }>(
        'SELECT id, body FROM webhook_deliveries WHERE webhook_id = $1',
        [hook.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.body).toBe(`{"deliveryId":"${rows[0]!.id}","webhookId":"${hook.id}","event":"updated"}`);
    });
  });
});

/** One database two apps open in turn: a schema on the server, or a PGlite folder on disk. */
async function reopenableDatabase(): Promise<{ open(): Promise<TestDatabase>; drop(): Promise<void> }> {
  const databaseUrl = process.env.DATABASE_URL || null;
  if (databaseUrl !== null) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const config = { databaseUrl, databaseSchema: schema, dataDir: 'memory://' };
    const open = async (): Promise<TestDatabase> => {
      const db = new PgDatabase({ databaseUrl, schema });
      await runMigrations(db);
      return { db, config, cleanup: () => db.close() };
    };
    const drop = async () => {
      const db = new PgDatabase({ databaseUrl });
      await db.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).finally(() => db.close());
    };
    return { open, drop };
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'webhooks-'));
  const config = { databaseUrl: null, databaseSchema: null, dataDir };
  const open = async (): Promise<TestDatabase> => {
    const db: Database = await PgliteDatabase.open({ dataDir });
    await runMigrations(db);
    return { db, config, cleanup: () => db.close() };
  };
  return { open, drop: () => rm(dataDir, { recursive: true, force: true }) };
}

describe('webhook outbox across a restart', () => {
  it('sends what a stopped app enqueued, and what it had leased, when the next app starts', async () => {
    const store = await reopenableDatabase();
    const r = await Receiver.start();
    try {
      const first = await createTestApp({ ...FAST, webhookDispatcher: false }, await store.open());
      const api = client(first);
      const hook = await api.createHook({ name: 'restart', url: r.url(), secret: SECRET });
      await api.attack('wh-restart-1');
      await api.attack('wh-restart-2');
      const pending = (await api.deliveries(hook.id)).items;
      expect(pending.map((d) => [d.state, d.attempts])).toEqual([
        ['pending', 0],
        ['pending', 0],
      ]);

      // A dispatcher that leases the first delivery and dies before sending or recording it.
      const repository = first.app.get(WebhookRepository);
      const now = Date.now();
      const leaseEnds = now + 1500;
      const claimed = await repository.claimDue(new Date(now).toISOString(), new Date(leaseEnds).toISOString(), 1);
      const again = await repository.claimDue(
        new Date(now + 1000).toISOString(),
        new Date(now + 2000).toISOString(),
        5,
      );
      expect(claimed.map((d) => d.id)).toEqual([pending[0].id]);
      expect(again.map((d) => d.id)).toEqual([pending[1].id]);
      await first.app.close();
      await sleep(200);
      expect(r.received).toEqual([]);

      const second = await createTestApp(FAST, await store.open());
      try {
        const done = await eventually(
          () => client(second).deliveries(hook.id),
          (page) => page.items.every((d) => d.state === 'delivered'),
        );
        expect(done.items.map((d) => [d.id, d.attempts])).toEqual(pending.map((d) => [d.id, 1]));
        const byDelivery = new Map(r.received.map((q) => [q.headers['x-webhook-delivery'], q]));
        expect(byDelivery.size).toBe(2);
        expect(byDelivery.get(pending[0].id)!.at).toBeGreaterThanOrEqual(leaseEnds);
        expect(byDelivery.get(pending[1].id)!.at).toBeGreaterThanOrEqual(now + 2000);
        const q = byDelivery.get(pending[0].id)!;
        expect(q.headers['x-webhook-signature']).toBe(
          `sha256=${hmacHex(SECRET, String(q.headers['x-webhook-timestamp']), q.body)}`,
        );
      } finally {
        await second.app.close();
      }
    } finally {
      await r.close();
      await store.drop();
    }
  });
});
