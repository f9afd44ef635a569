import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ALERT_STATUSES } from '../alerts/alert.model.js';
import { NotFoundError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';

/** One file the explorer serves: its bytes and media type. */
export interface ExplorerAsset {
  contentType: string;
  body: Buffer;
}

/** The page itself, served at GET /. */
export const EXPLORER_PAGE = 'index.html';

/** The vendored Cytoscape.js build, under the name the page imports it by. */
export const CYTOSCAPE_ASSET = 'cytoscape.esm.min.mjs';

const JAVASCRIPT = 'text/javascript; charset=utf-8';

/**
 * Static files of the page, by the only names served: a request can name nothing outside this list, so no
 * path ever comes from the URL.
 */
const PAGE_FILES: Record<string, string> = {
  [EXPLORER_PAGE]: 'text/html; charset=utf-8',
  'explorer.js': JAVASCRIPT,
  'explorer.css': 'text/css; charset=utf-8',
};

/** How far up from this module web/explorer may be: src/explorer (vitest) or dist/src/explorer (npm start). */
const MAX_LEVELS_UP = 4;

/**
 * The graph explorer's files: the page (web/explorer, plain HTML/JS/CSS that no build step touches), the
 * Cytoscape.js ES module from node_modules (never a CDN) and a small generated config. Read once, then kept.
 */
export class ExplorerAssets {
  private readonly logger = JsonLogger.for(ExplorerAssets.name);
  private readonly loaded = new Map<string, Promise<ExplorerAsset>>();

  constructor(
    private readonly pageDir: string | null = findPageDir(),
    private readonly cytoscapeFile: string = findCytoscape(),
  ) {
    if (pageDir === null) this.logger.warning('graph explorer files not found', { looked: 'web/explorer' });
  }

  /** The asset of this name, or NotFoundError for any other name. */
  get(name: string): Promise<ExplorerAsset> {
    const known = this.loaded.get(name);
    if (known) return known;

    const loading = this.load(name);
    loading.catch(() => this.loaded.delete(name));
    this.loaded.set(name, loading);
    return loading;
  }

  private async load(name: string): Promise<ExplorerAsset> {
    if (name === 'config.json') return { contentType: 'application/json; charset=utf-8', body: explorerConfig() };
    if (name === CYTOSCAPE_ASSET) return { contentType: JAVASCRIPT, body: await readFile(this.cytoscapeFile) };

    const contentType = Object.hasOwn(PAGE_FILES, name) ? PAGE_FILES[name] : undefined;
    if (contentType === undefined) {
      throw new NotFoundError(`the explorer has no asset ${name}`, { asset: name });
    }
    if (this.pageDir === null) {
      throw new NotFoundError('the graph explorer is not installed: web/explorer is missing', { asset: name });
    }

    return { contentType, body: await readFile(join(this.pageDir, name)) };
  }
}

/** What the page needs from the API's vocabulary, so its filters never drift from the enum. */
function explorerConfig(): Buffer {
  return Buffer.from(JSON.stringify({ alertStatuses: ALERT_STATUSES, apiBase: '/api/v1', docs: '/docs' }));
}

/** web/explorer of the project root, found from this module's location (src/ or dist/src/). */
function findPageDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level <= MAX_LEVELS_UP; level++) {
    const candidate = join(dir, 'web', 'explorer');
    if (existsSync(join(candidate, EXPLORER_PAGE))) return candidate;
    dir = dirname(dir);
  }

  return null;
}

/** The installed cytoscape package's ES module build (its `require` entry sits in the same dist folder). */
function findCytoscape(): string {
  const main = createRequire(import.meta.url).resolve('cytoscape');

  return join(dirname(main), CYTOSCAPE_ASSET);
}
