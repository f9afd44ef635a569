import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BODY_LIMITS, DEFAULT_BODY_LIMIT_BYTES, limitFor } from '../../src/common/body-limits.js';
import { injectionRow } from '../support/mde-rows.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';
const SOME_UUID = '00000000-0000-4000-8000-000000000000';

/** A JSON object of about `bytes` bytes. */
function bodyOf(bytes: number): string {
  return JSON.stringify({ comment: 'x'.repeat(bytes) });
}

describe('request size limits per route', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const send = (method: 'patch' | 'post' | 'put', path: string, body: string) =>
    t.http()[method](path).set('content-type', 'application/json').set('If-Match', '*').send(body);

  it('gives each route with a body its own limit', () => {
    expect(limitFor('PATCH', `/api/v1/alerts/${SOME_UUID}`)).toBe(16 * 1024);
    expect(limitFor('POST', '/api/v1/api-keys')).toBe(4 * 1024);
    expect(limitFor('PUT', RULE)).toBe(1024 * 1024);
    expect(limitFor('POST', `${RULE}/rerun`)).toBe(DEFAULT_BODY_LIMIT_BYTES);
    expect(new Set(BODY_LIMITS.map((l) => l.limitBytes)).size).toBeGreaterThan(2);
  });

  it('answers 413 naming the limit just above it, and reads the body just below it', async () => {
    const over = await send('patch', `/api/v1/alerts/${SOME_UUID}`, bodyOf(16 * 1024));
    const under = await send('patch', `/api/v1/alerts/${SOME_UUID}`, bodyOf(15 * 1024));

    expect(over.status).toBe(413);
    expect(over.body).toMatchObject({ error: 'payload_too_large', details: { limitBytes: 16 * 1024 } });
    expect(over.body.message).toMatch(/PATCH \/api\/v1\/alerts\/.* at most 16384 bytes/);
    expect(under.status).toBe(400);
    expect(under.body.message).toMatch(/comment must be shorter than or equal to 4000 characters/);
  });

  it('keeps key creation small and lets rule settings be large', async () => {
    const key = await send('post', '/api/v1/api-keys', bodyOf(5 * 1024));
    const settings = (await t.http().get(RULE)).body.settings;
    const exclusions = Array.from({ length: 400 }, (_, i) => ({
      description: `exclusion ${i} ${'d'.repeat(300)}`,
      injectorFileName: `tool${i}.exe`,
      injectorFolderPath: null,
      folderPathMatch: 'equals',
      targetFileName: null,
      deviceId: null,
    }));
    const body = JSON.stringify({ ...settings, exclusions });
    const rules = await send('put', RULE, body);

    expect(key.status).toBe(413);
    expect(body.length).toBeGreaterThan(100 * 1024);
    expect(rules.status).toBe(200);
    expect(rules.body.settings.exclusions).toHaveLength(400);
  });

  it('caps routes without a body of their own at the default', async () => {
    const rerun = await send('post', `${RULE}/rerun`, bodyOf(DEFAULT_BODY_LIMIT_BYTES));

    expect(rerun.status).toBe(413);
    expect(rerun.body.details).toMatchObject({ limitBytes: DEFAULT_BODY_LIMIT_BYTES });
  });

  it('matches paths as the router does: without case and with a trailing slash', async () => {
    const keys = await send('post', '/api/v1/api-keys/', bodyOf(5 * 1024));
    const upper = await t
      .http()
      .post('/API/V1/EVENTS/DeviceEvents')
      .set('content-type', 'application/json')
      .send(JSON.stringify([injectionRow({ DeviceId: 'limits-upper' })]));

    expect(keys.status).toBe(413);
    expect(upper.status).toBe(200);
    expect(upper.body).toMatchObject({ received: 1, inserted: 1 });
  });

  it('refuses a body that is not JSON (415) instead of reading it as none', async () => {
    const plain = await t
      .http()
      .patch(`/api/v1/alerts/${SOME_UUID}`)
      .set('If-Match', '*')
      .set('content-type', 'text/plain')
      .send('{"status":"resolved"}');
    const form = await t.http().post('/api/v1/api-keys').type('form').send({ name: 'x', scopes: 'read' });

    expect(plain.status).toBe(415);
    expect(plain.body).toMatchObject({ error: 'unsupported_media_type' });
    expect(plain.body.message).toMatch(/reads JSON, not text\/plain/);
    expect(form.status).toBe(415);
  });

  it('reads the +json media types as JSON (a merge-patch PATCH takes effect)', async () => {
    const reply = await t
      .http()
      .post('/api/v1/api-keys')
      .set('content-type', 'application/merge-patch+json')
      .send(JSON.stringify({ name: 'merge-patch-key', scopes: ['read'] }));

    expect(reply.status).toBe(201);
    expect(reply.body.name).toBe('merge-patch-key');
  });
});
