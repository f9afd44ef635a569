import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildOpenApiDocument } from '../../src/app.setup.js';
import { AlertService } from '../../src/alerts/alert.service.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('platform: health, OpenAPI, errors', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('keeps decorator metadata (a vite without it would leave injected services undefined)', () => {
    expect(Reflect.getMetadata('design:paramtypes', AlertService)).toBeDefined();
  });

  it('reports the database reachable and every migration applied', async () => {
    const reply = await t.http().get('/api/v1/health');

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'ok', databaseReachable: true, migrationsPending: [] });
    expect(reply.body.migrationsApplied).toBeGreaterThanOrEqual(2);
  });

  it('serves the spec and Swagger UI', async () => {
    const spec = await t.http().get('/openapi.json');
    const ui = await t.http().get('/docs');

    expect(spec.body.paths['/api/v1/alerts']).toBeDefined();
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger/i);
  });

  it('matches the committed openapi/openapi.json (run `npm run openapi` after changing the API)', async () => {
    const committed = JSON.parse(await readFile(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'));

    expect(buildOpenApiDocument(t.app)).toEqual(committed);
  });

  it('answers unknown routes and malformed JSON with the error envelope', async () => {
    const missing = await t.http().get('/api/v1/nothing-here');
    const broken = await t
      .http()
      .put('/api/v1/rules/adws-connection-from-process-injection-target')
      .set('content-type', 'application/json')
      .send('{"timeframeMinutes": ');

    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, requestId: expect.any(String) });
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/not valid JSON/);
  });

  it('reads integers in query strings as plain decimal digits only, naming the field otherwise', async () => {
    const replies = await Promise.all(
      ['0x2', '1e2', ' 2', '2.0'].map((limit) => t.http().get('/api/v1/alerts').query({ limit })),
    );
    const plain = await t.http().get('/api/v1/alerts').query({ limit: '2' });

    expect(replies.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(replies[0]!.body.message).toMatch(/limit must be an integer/);
    expect(plain.status).toBe(200);
  });

  it('does not say what serves it', async () => {
    expect((await t.http().get('/api/v1/health')).headers['x-powered-by']).toBeUndefined();
  });
});
