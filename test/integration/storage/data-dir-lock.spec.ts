import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConflictError } from '../../../src/common/domain.errors.js';
import { PgliteDatabase } from '../../../src/database/pglite.database.js';

describe('embedded data folder lock', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adws-lock-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('refuses a second database on a folder that is open, and allows it once closed', async () => {
    const first = await PgliteDatabase.open({ dataDir: dir });

    await expect(PgliteDatabase.open({ dataDir: dir })).rejects.toBeInstanceOf(ConflictError);
    await first.query(`CREATE TABLE kept (v int)`);
    await first.query(`INSERT INTO kept VALUES (7)`);
    await first.close();
    const second = await PgliteDatabase.open({ dataDir: dir });
    const { rows } = await second.query<{ v: number }>(`SELECT v FROM kept`);
    await second.close();

    expect(rows).toEqual([{ v: 7 }]);
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    await writeFile(join(dir, 'service.lock'), '999999999\n');

    const db = await PgliteDatabase.open({ dataDir: dir });
    const owner = (await readFile(join(dir, 'service.lock'), 'utf8')).trim();
    await db.close();

    expect(owner).toBe(String(process.pid));
  });
});
