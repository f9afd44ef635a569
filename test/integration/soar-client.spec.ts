import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectionRow, injectionRow, type MdeRow } from '../support/mde-rows.js';
import { createRestartableTestDatabase, type RestartableTestDatabase } from '../support/test-database.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const SECRET = 'soar-webhook-secret-0123456789';

/** Fast delivery and retry settings, so a receiver outage and a restart fit in a test. */
const WEBHOOK_SETTINGS = {
  webhookPollMs: 50,
  webhookBackoffBaseMs: 100,
  webhookBackoffMaxMs: 400,
  webhookMaxAttempts: 50,
  webhookTimeoutMs: 2000,
};

interface Delivery {
  id: string;
  event: string;
  sequence: number;
  alertId: string;
  revision: number;
}

/** A SOAR platform's webhook endpoint on localhost: verifies every signature itself, dedupes on the delivery id. */
class Receiver {
  readonly deliveries = new Map<string, Delivery>();
  /** Requests that failed a check (signature, delivery header); asserted empty by the test, not thrown here. */
  readonly badSignatures: string[] = [];
  attempts = 0;
  down = false;
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req).then((status) => res.writeHead(status).end()));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));

    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/adws`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.attempts++;
    if (this.down) return 503;

    const body = Buffer.concat(chunks).toString('utf8');
    const timestamp = String(req.headers['x-webhook-timestamp']);
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
    const given = String(req.headers['x-webhook-signature']);
    if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
      this.badSignatures.push(given);
      return 401;
    }

    const payload = JSON.parse(body);
    if (req.headers['x-webhook-delivery'] !== payload.deliveryId)
      this.badSignatures.push(`delivery ${payload.deliveryId}`);
    this.deliveries.set(payload.deliveryId, {
      id: payload.deliveryId,
      event: payload.event,
      sequence: payload.sequence,
      alertId: payload.alert.id,
      revision: payload.alert.revision,
    });
    return 204;
  }
}

/** The SOAR side: a read+triage key, the last change sequence it saw, and what it saw of each alert. */
class SoarClient {
  lastSequence = 0;
  readonly seen = new Map<string, number>();
  readonly sequences: number[] = [];

  constructor(
    private app: TestApp,
    readonly key: string,
  ) {}

  use(app: TestApp): void {
    this.app = app;
  }

  async pollAll(): Promise<string[]> {
    const changed: string[] = [];
    for (;;) {
      const reply = await this.app
        .anonymous()
        .get('/api/v1/alerts/changes')
        .query({ after: this.lastSequence, limit: 2 })
        .set('Authorization', `Bearer ${this.key}`);
      expect(reply.status).toBe(200);
      if (reply.body.items.length === 0) return changed;

      for (const { sequence, alert } of reply.body.items) {
        expect(sequence).toBeGreaterThan(this.lastSequence);
        this.sequences.push(sequence);
        this.seen.set(alert.id, alert.revision);
        changed.push(`${alert.deviceId} ${alert.status}`);
      }
      this.lastSequence = reply.body.lastSequence;
    }
  }

  async triage(alertId: string, body: object): Promise<number> {
    const read = await this.app.anonymous().get(`/api/v1/alerts/${alertId}`).set('X-API-Key', this.key);
    const reply = await this.app
      .anonymous()
      .patch(`/api/v1/alerts/${alertId}`)
      .set('X-API-Key', this.key)
      .set('If-Match', read.headers.etag)
      .send(body);
    expect(reply.status).toBe(200);

    return reply.body.revision;
  }
}

describe('a SOAR client with a read+triage key across a service restart', () => {
  let storage: RestartableTestDatabase;
  let receiver: Receiver;
  let app: TestApp;

  beforeAll(async () => {
    storage = await createRestartableTestDatabase();
    receiver = new Receiver();
  });
  afterAll(async () => {
    await app?.close().catch(() => {});
    await receiver.stop();
    await storage.destroy();
  });

  const start = async () => createTestApp(WEBHOOK_SETTINGS, await storage.open());
  const ingest = (pipelineKey: string, table: string, rows: MdeRow[]) =>
    app
      .anonymous()
      .post(`/api/v1/events/${table}`)
      .set('X-API-Key', pipelineKey)
      .set('content-type', 'application/json')
      .send(JSON.stringify(rows))
      .expect(200);
  const attack = async (pipelineKey: string, deviceId: string) => {
    await ingest(pipelineKey, 'DeviceEvents', [injectionRow({ DeviceId: deviceId })]);
    await ingest(pipelineKey, 'DeviceNetworkEvents', [connectionRow({ DeviceId: deviceId })]);
  };
  const allChangeSequences = async (alertIds: string[]) => {
    const sequences: number[] = [];
    for (const id of alertIds) {
      const history = await app.http().get(`/api/v1/alerts/${id}/history`).query({ limit: 1000 });
      sequences.push(...history.body.items.map((e: { sequence: number }) => e.sequence));
    }
    return sequences.sort((a, b) => a - b);
  };
  const waitFor = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('polls, triages and receives every change once, signed, through an outage and a restart', async () => {
    const url = await receiver.start();
    app = await start();
    const key = async (name: string, scopes: string[]) =>
      (await app.http().post('/api/v1/api-keys').send({ name, scopes }).expect(201)).body.key as string;
    const soar = new SoarClient(app, await key('xsoar', ['read', 'triage']));
    const pipeline = await key('event-pipeline', ['ingest']);
    await app.http().post('/api/v1/webhooks').send({ name: 'xsoar', url, secret: SECRET }).expect(201);

    // Day one: two alerts arrive; the SOAR platform picks them up from the feed and starts on them.
    await attack(pipeline, 'soar-1');
    await attack(pipeline, 'soar-2');
    expect(await soar.pollAll()).toEqual(['soar-1 new', 'soar-2 new']);
    const ids = [...soar.seen.keys()];
    for (const id of ids) await soar.triage(id, { status: 'in_progress', assignedTo: 'tier2', comment: 'case opened' });
    expect((await soar.pollAll()).sort()).toEqual(['soar-1 in_progress', 'soar-2 in_progress']);

    // The receiver goes down; changes keep happening; then the service is restarted while deliveries are owed.
    receiver.down = true;
    await soar.triage(ids[0]!, { status: 'resolved', classification: 'true_positive' });
    await attack(pipeline, 'soar-3');
    await waitFor(() => receiver.attempts > 0, 'a failed attempt');
    await app.close();

    app = await start();
    soar.use(app);
    receiver.down = false;
    await ingest(pipeline, 'DeviceEvents', [
      injectionRow({ DeviceId: 'soar-2', Timestamp: '2024-03-01T09:59:00.0000000Z' }),
    ]);

    // The poller goes on from the sequence it kept: every alert changed since, once, in change order.
    expect(await soar.pollAll()).toEqual(['soar-1 resolved', 'soar-3 new', 'soar-2 in_progress']);
    const alertIds = [...soar.seen.keys()];
    const sequences = await allChangeSequences(alertIds);

    // Webhooks: one verified delivery per change ever made, none lost across the outage and the restart.
    await waitFor(() => receiver.deliveries.size >= sequences.length, 'every delivery');
    const delivered = [...receiver.deliveries.values()];
    expect(receiver.badSignatures).toEqual([]);
    expect(delivered.map((d) => d.sequence).sort((a, b) => a - b)).toEqual(sequences);
    expect(delivered.filter((d) => d.event === 'created')).toHaveLength(3);
    for (const id of alertIds) {
      const current = (await app.http().get(`/api/v1/alerts/${id}`)).body;
      expect(soar.seen.get(id), `feed saw the latest revision of ${current.deviceId}`).toBe(current.revision);
      const latest = Math.max(...delivered.filter((d) => d.alertId === id).map((d) => d.revision));
      expect(latest, `webhooks carried the latest revision of ${current.deviceId}`).toBe(current.revision);
    }
    expect(new Set(soar.sequences).size).toBe(soar.sequences.length);

    // The audit trail names the SOAR key for its changes and the engine for the rest.
    const history = (await app.http().get(`/api/v1/alerts/${ids[0]}/history`)).body.items;
    expect(history.map((e: { actor: string; type: string }) => `${e.actor} ${e.type}`)).toEqual([
      'detection created',
      'xsoar status',
      'xsoar status',
    ]);
  });
});
