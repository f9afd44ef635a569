import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Real public telemetry that may not be redistributed with the project lives in ../shared beside the clone.
 * Tests that need it skip, saying so, where it is absent.
 */
export const SHARED_REAL_DATA = fileURLToPath(new URL('../../../shared/data/real/', import.meta.url));

export function sharedFile(relative: string): string {
  return `${SHARED_REAL_DATA}${relative}`;
}

export function hasSharedFile(relative: string): boolean {
  const present = existsSync(sharedFile(relative));
  if (!present)
    console.warn(`skipping: ${sharedFile(relative)} is absent (../shared/data/real is not beside this clone)`);

  return present;
}
