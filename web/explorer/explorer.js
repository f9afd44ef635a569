// The graph explorer: lists alerts, draws the selected alert's graph with Cytoscape.js and shows the properties
// and raw evidence of what is clicked. Plain ES module, no build step. Every value from the API reaches the page
// through textContent or Cytoscape's canvas, never as HTML.
import cytoscape from '/explorer/cytoscape.esm.min.mjs';

const KEY_STORAGE = 'adws-explorer.apiKey';
const PAGE_SIZE = 50;

/** Graph layout: room for an edge label between columns, for a node label between rows. */
const COLUMN_WIDTH = 290;
const ROW_HEIGHT = 140;

/** Node colours by role (the legend in explorer.css uses the same ones). */
const COLOURS = { injector: '#7b4fd6', injected: '#e8772e', descendant: '#d9a400', endpoint: '#c62828' };

const GRAPH_STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-family': 'system-ui, sans-serif',
      'font-size': 12,
      color: '#1f2933',
      'text-valign': 'bottom',
      'text-margin-y': 6,
      'text-wrap': 'wrap',
      'text-max-width': 180,
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': 2,
      width: 46,
      height: 46,
      'background-color': '#9aa5b1',
      'border-width': 2,
      'border-color': '#ffffff',
    },
  },
  { selector: 'node[role = "injector"]', style: { shape: 'round-rectangle', 'background-color': COLOURS.injector } },
  { selector: 'node[role = "injected"]', style: { shape: 'ellipse', 'background-color': COLOURS.injected } },
  { selector: 'node[role = "descendant"]', style: { shape: 'ellipse', 'background-color': COLOURS.descendant } },
  {
    selector: 'node[role = "endpoint"]',
    style: { shape: 'diamond', width: 54, height: 54, 'background-color': COLOURS.endpoint },
  },
  { selector: 'node:selected', style: { 'border-color': '#0b69d4', 'border-width': 4 } },
  {
    selector: 'edge',
    style: {
      label: 'data(caption)',
      'font-family': 'system-ui, sans-serif',
      'font-size': 11,
      color: '#1f2933',
      'text-wrap': 'wrap',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': 3,
      width: 2,
      'curve-style': 'bezier',
      'line-color': '#9aa5b1',
      'target-arrow-color': '#9aa5b1',
      'target-arrow-shape': 'triangle',
    },
  },
  { selector: 'edge[kind = "injected"]', style: { 'line-color': '#a58be6', 'target-arrow-color': '#a58be6' } },
  {
    selector: 'edge[kind = "connected"]',
    style: { 'line-color': '#e07b7b', 'target-arrow-color': '#e07b7b', 'line-style': 'dashed' },
  },
  { selector: 'edge[kind = "spawned"]', style: { 'line-style': 'dotted' } },
  { selector: 'edge:selected', style: { width: 4, 'line-color': '#0b69d4', 'target-arrow-color': '#0b69d4' } },
];

const $ = (id) => document.getElementById(id);

const state = {
  alerts: [],
  nextCursor: null,
  filters: {},
  selected: null,
  /** Raw evidence records of the selected alert, by table, device and event key. */
  evidence: new Map(),
  /**
   * Replies can come back in any order: each list load and alert selection takes the next number, and only the
   * latest one's reply may change the page. Forgetting the key also moves them on, so nothing in flight lands.
   */
  listSeq: 0,
  selectionSeq: 0,
  /** Requests still awaited, stale ones included (the browser test waits for 0 before checking a late reply). */
  pendingLists: 0,
  pendingSelections: 0,
};

const cy = cytoscape({
  container: $('graph'),
  style: GRAPH_STYLE,
  elements: [],
  minZoom: 0.2,
  maxZoom: 1.6,
  boxSelectionEnabled: false,
});

// The browser test (and anyone at the console) reads the rendered graph here.
window.explorer = { cy, state };

/** A failed API call, with the text to show. */
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

/** GET an API path as JSON, with the key in X-API-Key when one is set. */
async function api(path) {
  const headers = { accept: 'application/json' };
  const key = storedKey();
  if (key) headers['X-API-Key'] = key;

  const reply = await fetch(path, { headers, cache: 'no-store' });
  if (reply.ok) return reply.json();

  throw new ApiError(reply.status, await failureText(reply));
}

/** What went wrong, in words: 401, 403 and 429 say what to do about them. */
async function failureText(reply) {
  const body = await reply.json().catch(() => null);
  const detail = body && typeof body.message === 'string' ? ` (${body.message})` : '';
  if (reply.status === 401) return `401 Unauthorized: the API key is missing, unknown or revoked${detail}.`;
  if (reply.status === 403) return `403 Forbidden: this API key may not read alerts${detail}.`;
  if (reply.status === 429) {
    const wait = reply.headers.get('Retry-After');
    return `429 Too Many Requests: this key's rate limit is used up; retry in ${wait ?? 'a few'} s${detail}.`;
  }

  return `${reply.status} ${body?.error ?? reply.statusText}${detail}.`;
}

function showMessage(text) {
  const box = $('message');
  box.textContent = text;
  box.hidden = !text;
}

function showFailure(error) {
  showMessage(error instanceof ApiError ? error.message : `The request failed: ${error.message}`);
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;

  return node;
}

/** "2024-03-01 10:05:00.123Z" from an ISO time with up to 7 fractional digits. */
function formatTime(iso) {
  if (typeof iso !== 'string') return '';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?/.exec(iso);

  return match ? `${match[1]} ${match[2]}${match[3] ?? ''}Z` : iso;
}

/** One time, or "first – last" over two lines (the date once when both fall on one day): edge labels stay narrow. */
function formatSpan(first, last) {
  const a = formatTime(first);
  const b = formatTime(last);
  if (!b || a === b) return a;

  return a.slice(0, 10) === b.slice(0, 10) ? `${a.slice(0, 10)}\n${a.slice(11, -1)} – ${b.slice(11)}` : `${a} –\n${b}`;
}

// ---- API key ----

function showKeyState() {
  $('key-state').textContent = storedKey() ? 'key set for this tab' : 'no key set: enter an API key to list alerts';
}

/** An empty field means "no key": requests go without one (the API answers where auth is off, else 401). */
function onKeySubmit(event) {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  $('api-key').value = '';

  clearView();
  showKeyState();
  loadAlerts();
}

function onKeyForget() {
  sessionStorage.removeItem(KEY_STORAGE);
  $('api-key').value = '';
  clearView();
  showKeyState();
}

/** Nothing read with the previous key stays on screen, and no reply still in flight may bring it back. */
function clearView() {
  state.listSeq++;
  state.selectionSeq++;
  state.alerts = [];
  state.nextCursor = null;
  state.selected = null;
  state.evidence = new Map();

  $('alert-list').replaceChildren();
  $('alert-empty').hidden = true;
  $('more-alerts').hidden = true;
  cy.elements().remove();
  delete document.body.dataset.graph;
  $('details').replaceChildren(el('p', 'Select an alert, then click a node or an edge.', 'muted'));
  showMessage('');
  history.replaceState(null, '', location.pathname + location.search);
}

// ---- Alert list ----

/** The filters as query parameters; datetime-local values are read as UTC. */
function readFilters() {
  const filters = {};
  const status = $('filter-status').value;
  const deviceId = $('filter-device').value.trim();
  if (status) filters.status = status;
  if (deviceId) filters.deviceId = deviceId;
  for (const name of ['from', 'to']) {
    const value = $(`filter-${name}`).value;
    if (value) filters[name] = new Date(`${value}Z`).toISOString();
  }

  return filters;
}

/**
 * A first page (cursor null) for the current filters, or the next page of the list shown. A first page hides
 * "More alerts" until it arrives, so no next page of the previous filters can be asked for meanwhile.
 */
async function loadAlerts(cursor = null) {
  const ticket = ++state.listSeq;
  if (!cursor) {
    state.filters = readFilters();
    state.nextCursor = null;
    $('more-alerts').hidden = true;
  }
  const query = new URLSearchParams({ ...state.filters, limit: String(PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);

  state.pendingLists++;
  try {
    const page = await api(`/api/v1/alerts?${query}`);
    if (ticket !== state.listSeq) return;
    state.alerts = cursor ? [...state.alerts, ...page.items] : page.items;
    state.nextCursor = page.nextCursor;
    showMessage('');
    renderAlerts();
  } catch (error) {
    if (ticket === state.listSeq) showFailure(error);
  } finally {
    state.pendingLists--;
  }
}

function renderAlerts() {
  const list = $('alert-list');
  list.replaceChildren(...state.alerts.map(alertItem));
  $('alert-empty').hidden = state.alerts.length > 0;
  $('more-alerts').hidden = !state.nextCursor;
}

function alertItem(alert) {
  const button = el('button');
  button.type = 'button';
  button.dataset.alertId = alert.id;
  button.setAttribute('aria-pressed', String(alert.id === state.selected?.id));
  const status = el('span', alert.status, 'status');
  const title = el('span', `${alert.fileName} (${alert.processId}) `, 'alert-title');
  title.append(status);
  const injectors = alert.injectors.map((i) => i.fileName).join(', ');
  button.append(
    title,
    el('span', `${alert.deviceName} · ${formatTime(alert.timestamp)}`, 'alert-meta'),
    el('span', `from ${injectors || '?'}: ${alert.injectionMethods.join(', ')}`, 'alert-meta'),
  );
  button.addEventListener('click', () => selectAlert(alert.id));

  const item = el('li');
  item.append(button);
  return item;
}

// ---- Graph ----

/** Fetches and draws one alert; a later selection (or a forgotten key) makes this one's replies stale. */
async function selectAlert(id) {
  const ticket = ++state.selectionSeq;
  state.pendingSelections++;
  try {
    const [alert, graph, evidence] = await Promise.all([
      api(`/api/v1/alerts/${encodeURIComponent(id)}`),
      api(`/api/v1/alerts/${encodeURIComponent(id)}/graph?format=cytoscape`),
      api(`/api/v1/alerts/${encodeURIComponent(id)}/evidence`),
    ]);
    if (ticket !== state.selectionSeq) return;
    state.selected = alert;
    state.evidence = new Map(evidence.items.map((item) => [refKey(item), item]));
    history.replaceState(null, '', `#alert=${encodeURIComponent(id)}`);
    showMessage('');
    renderAlerts();
    draw(graph.elements);
    showAlert(alert);
  } catch (error) {
    if (ticket === state.selectionSeq) showFailure(error);
  } finally {
    state.pendingSelections--;
  }
}

function refKey(ref) {
  return `${ref.table}\u0000${ref.deviceId}\u0000${ref.eventKey}`;
}

/** Role of a node on the alert's paths: what colour and shape it gets. */
function roleOf(node, edges) {
  if (node.data.kind === 'adwsEndpoint') return 'endpoint';
  const into = edges.filter((e) => e.data.target === node.data.id);
  const out = edges.filter((e) => e.data.source === node.data.id);
  if (into.some((e) => e.data.kind === 'injected')) return 'injected';
  if (out.some((e) => e.data.kind === 'injected')) return 'injector';
  if (out.some((e) => e.data.kind === 'connected')) return 'descendant';

  return 'process';
}

/** The edge's label: methods or port, then when (and how often) it happened. */
function edgeCaption(data, nodesById) {
  const when = `${formatSpan(data.firstSeen, data.lastSeen)}${data.count > 1 ? ` ×${data.count}` : ''}`;
  if (data.kind === 'injected') return `${data.actionTypes.join('\n')}\n${when}`;
  if (data.kind === 'connected') return `connected TCP ${nodesById.get(data.target)?.data.remotePort ?? '?'}\n${when}`;
  if (data.kind === 'accessed') return `accessed ${(data.grantedAccess ?? []).join(', ')}\n${when}`;

  return `${data.kind}\n${when}`;
}

function draw(elements) {
  const nodesById = new Map(elements.nodes.map((n) => [n.data.id, n]));
  const nodes = elements.nodes.map((n) => ({ data: { ...n.data, role: roleOf(n, elements.edges) } }));
  const edges = elements.edges.map((e) => ({ data: { ...e.data, caption: edgeCaption(e.data, nodesById) } }));

  cy.batch(() => {
    cy.elements().remove();
    cy.add([...nodes, ...edges]);
  });
  cy.layout({ name: 'preset', positions: pathPositions(cy.nodes()), fit: false }).run();
  cy.fit(undefined, 30);
  document.body.dataset.graph = 'drawn';
}

/**
 * Left to right along the paths: a node's column is its longest distance from a node nothing points at (the first
 * injectors), wide enough for the edge labels between columns; nodes of one column are stacked by label.
 */
function pathPositions(nodes) {
  const column = new Map(nodes.map((n) => [n.id(), 0]));
  for (let round = 0; round < nodes.length; round++) {
    let moved = false;
    nodes.connectedEdges().forEach((edge) => {
      const next = Math.min(column.get(edge.source().id()) + 1, nodes.length);
      if (next > column.get(edge.target().id())) {
        column.set(edge.target().id(), next);
        moved = true;
      }
    });
    if (!moved) break;
  }

  const stacks = new Map();
  const byLabel = nodes.sort((a, b) => a.data('label').localeCompare(b.data('label')));
  byLabel.forEach((n) => stacks.set(column.get(n.id()), [...(stacks.get(column.get(n.id())) ?? []), n.id()]));
  const positions = {};
  for (const [x, ids] of stacks) {
    ids.forEach((id, i) => (positions[id] = { x: x * COLUMN_WIDTH, y: (i - (ids.length - 1) / 2) * ROW_HEIGHT }));
  }

  return positions;
}

// ---- Details ----

function showAlert(alert) {
  const panel = $('details');
  panel.replaceChildren(
    el('h3', `Alert: ${alert.fileName} (${alert.processId})`),
    propertyList({
      id: alert.id,
      status: alert.status,
      device: `${alert.deviceName} (${alert.deviceId})`,
      timestamp: alert.timestamp,
      injectors: alert.injectors.map((i) => `${i.fileName} (${i.processId})`),
      methods: alert.injectionMethods,
      connections: alert.connections.map((c) => `${c.remoteIp}:${c.remotePort} at ${formatTime(c.timestamp)}`),
      mitre: alert.mitre.map((m) => `${m.techniqueId} ${m.techniqueName}`),
      evidenceGaps: alert.evidenceGaps,
      mode: alert.mode,
    }),
    el('p', 'Click a node or an edge for its properties and raw evidence.', 'muted'),
  );
}

// TODO: nodes and edges are reachable by pointer only (Cytoscape draws on a canvas); keyboard users get the alert
// summary but not per-node evidence. A list of the graph's elements beside the canvas would close that gap.
function showElement(element) {
  const data = element.data();
  const edges = element.isNode() ? element.connectedEdges() : cy.collection([element]);
  const heading = element.isNode() ? data.label : `${data.kind}: ${edgeEnds(element)}`;
  const panel = $('details');

  panel.replaceChildren(el('h3', heading), propertyList(visibleProperties(data)), el('h3', 'Raw evidence'));
  edges.forEach((edge) => panel.append(...evidenceOf(edge)));
}

function edgeEnds(edge) {
  return `${edge.source().data('label')} → ${edge.target().data('label')}`;
}

/** The graph attributes of a node or edge, without the drawing fields and the occurrences shown below. */
function visibleProperties(data) {
  const { label: _label, role, caption: _caption, occurrences, source: _s, target: _t, ...rest } = data;
  const properties = { ...rest };
  if (role) properties.role = role;
  if (occurrences) properties.occurrences = occurrences.length;

  return properties;
}

function propertyList(properties) {
  const list = el('dl', null, 'props');
  for (const [name, value] of Object.entries(properties)) list.append(el('dt', name), el('dd', displayValue(value)));

  return list;
}

function displayValue(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.length ? value.map(displayValue).join(', ') : '—';
  if (typeof value === 'object') return JSON.stringify(value);

  return String(value);
}

/** One box per event behind an edge: a short heading and the record as received, pretty-printed. */
function evidenceOf(edge) {
  const title = el('p', `${edge.data('kind')}: ${edgeEnds(edge)}`, 'muted');
  const boxes = (edge.data('occurrences') ?? []).map((occurrence) => {
    const ref = occurrence.evidence;
    const item = state.evidence.get(refKey(ref));
    const box = el('div', null, 'record');
    const head = `${ref.table} · ${formatTime(occurrence.timestamp)} · ${ref.eventKey}`;
    box.append(el('div', head, 'record-head'));
    box.append(el('pre', item ? JSON.stringify(item.raw, null, 2) : "not among this alert's evidence records"));

    return box;
  });

  return [title, ...boxes];
}

// ---- Start ----

async function loadConfig() {
  const reply = await fetch('/explorer/config.json');
  const config = await reply.json();
  const select = $('filter-status');
  for (const status of config.alertStatuses) select.append(new Option(status, status));
}

/** The alert id a link names in #alert=<id>; a fragment that is not valid percent-encoding names none. */
/** The alert id a link names (#alert=<uuid>); anything else is ignored rather than sent to the API. */
function selectedFromHash() {
  const match = /^#alert=([0-9a-fA-F-]{36})$/.exec(location.hash);

  return match ? match[1].toLowerCase() : null;
}

/** Wires the page up, then lists alerts and opens a linked one when a key is stored. */
async function start() {
  try {
    await begin();
  } finally {
    // The browser test waits for this before checking what a reload did with the fragment.
    document.body.dataset.started = 'yes';
  }
}

async function begin() {
  $('key-form').addEventListener('submit', onKeySubmit);
  $('forget-key').addEventListener('click', onKeyForget);
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    loadAlerts();
  });
  $('more-alerts').addEventListener('click', () => loadAlerts(state.nextCursor));
  cy.on('tap', 'node, edge', (event) => showElement(event.target));
  cy.on('tap', (event) => {
    if (event.target === cy && state.selected) showAlert(state.selected);
  });
  showKeyState();

  await loadConfig().catch(showFailure);
  // Without a key the API answers 401: wait for one (an empty "Use key" lists alerts where auth is off).
  if (!storedKey()) return;

  await loadAlerts();
  const linked = selectedFromHash();
  if (linked) await selectAlert(linked);
}

start();
