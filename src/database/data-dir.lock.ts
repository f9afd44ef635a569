import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { ConflictError } from '../common/domain.errors.js';

const LOCK_FILE = 'service.lock';

/**
 * One process per embedded data folder: PGlite has no lock of its own, and two processes writing one folder
 * lose acknowledged data. The lock is a file holding the owner's pid; a lock left by a dead process is taken over.
 */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const path = join(dataDir, LOCK_FILE);
    if (await tryCreate(path)) return new DataDirLock(path);

    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (isAlive(owner)) {
      throw new ConflictError(
        `data folder ${dataDir} is in use by process ${owner}; run one service per embedded data folder ` +
          `(or delete ${path} if that process is not this service)`,
        { dataDir, ownerPid: owner },
      );
    }
    await unlink(path).catch(() => undefined);
    if (await tryCreate(path)) return new DataDirLock(path);

    throw new ConflictError(`data folder ${dataDir} was locked by another process while starting`, { dataDir });
  }

  async release(): Promise<void> {
    const owner = Number((await readFile(this.path, 'utf8').catch(() => '')).trim());
    if (owner === process.pid) await unlink(this.path).catch(() => undefined);
  }
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;

  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
