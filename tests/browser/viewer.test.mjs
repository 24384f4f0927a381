// The viewer page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
// against a real opswall-feed and a real Redis:
//   1. fixture snapshot (tests/browser/fixture.mjs, every member of docs/snapshot.md): log in with
//      a token (a wrong one is refused), live numbers change with deltas, countdowns tick between
//      deltas, zh/en switch, a supervisor acknowledges an alert (it lands on ops:{p0}:acks), a
//      viewer cannot (button locked, and the API answers 403), the viewer's page only ever holds
//      coarsened positions, a sequence gap makes the page resync, the replay banner, the feed
//      restarts and the page reconnects; screenshots at 1366x768 and 390x844;
//   2. the real pipeline: opswall-run (simulator → ingest → engine) with its own private Redis and
//      this feed: the page's numbers change while the simulator runs.
// No request may leave the feed's origin. Env: FEED_BIN, FEED_CONFIG, REDIS_SOCK, TMP_DIR,
// SCREENSHOT_DIR, VIEWER_TOKEN, SUP_TOKEN, RUN_BIN (optional: opswall-run for part 2).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, createWriteStream, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { fullSnapshot, REGIONS } from './fixture.mjs';

const FEED_BIN = process.env.FEED_BIN;
const SOCK = process.env.REDIS_SOCK;
const TMP = process.env.TMP_DIR || tmpdir();
const SHOTS = process.env.SCREENSHOT_DIR || path.join(process.cwd(), 'feed-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const VIEWER = process.env.VIEWER_TOKEN, SUP = process.env.SUP_TOKEN;
const KEY = 'ops:{p0}:snapshot', LIVE = 'ops:{p0}:live', DELTAS = 'ops:{p0}:deltas';

function redis(...args) { return execFileSync('redis-cli', ['-s', SOCK, ...args], { encoding: 'utf8' }); }
function publishSnapshot(s) { const text = JSON.stringify(s); redis('set', KEY, text); redis('publish', LIVE, text); }
function publishDelta(seq, set, del = []) { redis('publish', DELTAS, JSON.stringify({ v: 1, type: 'delta', seq, base: seq - 1, set, del })); }

let feedRuns = 0;
function startFeed(port, env = {}) {
  feedRuns++;
  const log = createWriteStream(path.join(TMP, `browser-feed${feedRuns}.err`));
  const args = ['--port', String(port)];
  if (process.env.FEED_CONFIG) args.unshift('--config', process.env.FEED_CONFIG);
  const proc = spawn(FEED_BIN, args, { env: { ...process.env, OPSWALL_REDIS_URL: `unix://${SOCK}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.pipe(log);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('feed did not print its URL in 10 s')), 10000);
    proc.once('exit', (code) => reject(new Error(`feed exited early (${code})`)));
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /^viewer: (http:\/\/\S+)\/$/m.exec(out);
      if (m) { clearTimeout(timer); resolve({ proc, url: m[1] }); }
    });
  });
}
function stopFeed(feed) {
  return new Promise((resolve, reject) => {
    if (feed.proc.exitCode !== null) { resolve(feed.proc.exitCode); return; }
    feed.proc.once('exit', (code, sig) => (code === 0 ? resolve(0) : reject(new Error(`feed exit ${code ?? sig}`))));
    feed.proc.kill('SIGTERM');
  });
}

const text = (page, id) => page.locator(`[data-testid="${id}"]`).first().textContent();
const waitText = (page, id, want, timeout = 10000) => page.waitForFunction(
  ([i, w]) => document.querySelector(`[data-testid="${i}"]`)?.textContent === w, [id, want], { timeout });
const waitConn = (page, s, timeout = 10000) => page.waitForFunction(
  (x) => document.querySelector('[data-testid="conn"]')?.dataset.state === x, s, { timeout });
const count = (page, id) => page.locator(`[data-testid="${id}"]`).count();

// The map's region labels (placed by the page, canvas data-labels): one per region, each inside
// the map, none covering another.
async function labelsApart(page, what) {
  const boxes = await page.evaluate(() => JSON.parse(document.querySelector('[data-testid="map"]').dataset.labels || '[]'));
  const size = await page.evaluate(() => { const w = document.querySelector('[data-testid="map"]').parentElement; return [w.clientWidth, w.clientHeight]; });
  assert.ok(boxes.length > 0, `${what}: map labels drawn`);
  for (const [x0, y0, x1, y1] of boxes) assert.ok(x0 >= 0 && y0 >= 0 && x1 <= size[0] && y1 <= size[1], `${what}: label ${[x0, y0, x1, y1]} inside the ${size} map`);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      assert.ok(a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1], `${what}: labels ${a} and ${b} overlap`);
    }
  }
  return boxes.length;
}

async function login(page, origin, token) {
  await page.goto(origin + '/');
  await page.locator('[data-testid="login"]').waitFor({ state: 'visible' });
  await page.fill('[data-testid="token"]', token);
  await page.click('[data-testid="login-submit"]');
  await page.locator('[data-testid="board"]').waitFor({ state: 'visible' });
  await waitConn(page, 'live');
}

function watch(page, origin, port, outside, errors) {
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith(`ws://127.0.0.1:${port}`) && !u.startsWith('data:')) outside.push(u);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket|401|Failed to load resource/.test(m.text())) errors.push(m.text()); });
}

async function fixturePart(context) {
  let now = Date.now();
  let seq = 41;
  publishSnapshot(fullSnapshot(seq, now));
  let feed = await startFeed(0);
  const origin = feed.url, port = Number(new URL(origin).port);
  const outside = [], errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    watch(page, origin, port, outside, errors);

    // a wrong token is refused on the login form; the right one opens the board
    await page.goto(origin + '/');
    await page.fill('[data-testid="token"]', 'not-a-token');
    await page.click('[data-testid="login-submit"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="login-error"]').textContent.length > 0);
    assert.equal(await page.locator('[data-testid="board"]').isVisible(), false);
    await login(page, origin, SUP);
    await waitText(page, 'open-total', '88');
    assert.equal(await text(page, 'open-emergency'), '7');
    assert.match(await text(page, 'who'), /li\.wei/);
    console.log('browser: a wrong token is refused; the supervisor token opens the board');

    // deltas change the numbers
    let t = Date.now();
    publishDelta(++seq, { open: { emergency: 9, important: 21, general: 61, total: 91 }, now_ms: Date.now(), now: new Date().toISOString() });
    await waitText(page, 'open-total', '91');
    assert.equal(await text(page, 'open-emergency'), '9');
    await waitText(page, 'seq', String(seq));
    console.log(`browser: delta -> numbers on the page in ${Date.now() - t} ms`);

    // countdowns tick every second between deltas; most urgent first; overdue marked
    const c1 = await page.locator('[data-testid="countdown"]').allTextContents();
    await page.waitForFunction((a) => document.querySelector('[data-testid="countdown"]').textContent !== a, c1[0], { timeout: 3000 });
    assert.ok(c1[0].startsWith('−'), `first row overdue: ${c1[0]}`);
    assert.equal(await count(page, 'sla-row'), 12);
    assert.equal(await page.locator('.sla .row.overdue').count() >= 2, true);
    console.log(`browser: SLA countdown ticks locally ("${c1[0]}" -> "${await text(page, 'countdown')}")`);

    // map drawn (non-empty canvas), flags with evidence, technicians
    const painted = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="map"]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n / (c.width * c.height);
    });
    assert.ok(painted > 0.2, `map painted ${painted}`);
    assert.equal(await count(page, 'flag-row'), 2);
    assert.match(await page.locator('[data-testid="evidence"]').first().textContent(), /WO-2611/);
    assert.equal(await text(page, 'techs-idle'), '11');
    console.log(`browser: map painted (${(painted * 100).toFixed(0)} % of the canvas), flags with evidence, technicians`);

    // zh / en
    await page.click('[data-testid="lang-en"]');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.match(await page.locator('[data-testid="tile-open-total"] .tile-label').textContent(), /Open orders/);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SHOTS, 'viewer-1366x768-en.png') });
    await page.click('[data-testid="lang-zh"]');
    assert.match(await page.locator('[data-testid="tile-open-total"] .tile-label').textContent(), /在办工单/);
    console.log('browser: zh/en switch');

    // supervisor acknowledges an alert: it lands on the acks stream with the token's name
    const row = page.locator('[data-testid="alert-row"][data-id="sla:WO-2600:response:0:100"]');
    await row.locator('[data-testid="ack-button"]').click();
    await row.locator('.tag').waitFor();
    const acks = redis('xrange', 'ops:{p0}:acks', '-', '+');
    assert.match(acks, /sla:WO-2600:response:0:100[\s\S]*li\.wei/);
    // the engine records it; the next delta shows it acked
    const snapNow = JSON.parse(redis('get', KEY));
    const esc = snapNow.escalations.map((a) => (a.id === 'sla:WO-2600:response:0:100' ? { ...a, acked: true, ack_by: 'li.wei' } : a));
    publishDelta(++seq, { escalations: esc });
    await row.locator('.tag.ok').waitFor();
    console.log('browser: supervisor ack -> ops:{p0}:acks (by li.wei) -> shown as acked');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SHOTS, 'viewer-1366x768.png') });
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
    assert.ok(fits, '1366x768: no horizontal scroll');
    console.log(`browser: 1366x768: ${await labelsApart(page, '1366x768')} map labels, none overlapping`);

    // a viewer: ack locked in the page, refused by the API; positions coarsened in every message
    const vpage = await context.newPage();
    watch(vpage, origin, port, outside, errors);
    await vpage.setViewportSize({ width: 390, height: 844 });
    await vpage.evaluate(() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* */ } }).catch(() => {});
    // a fresh login (the supervisor's token is remembered in this profile: log out first)
    await page.click('[data-testid="logout"]');
    await login(vpage, origin, VIEWER);
    await waitText(vpage, 'open-total', '91');
    const locked = vpage.locator('[data-testid="ack-button"]').first();
    assert.equal(await locked.isDisabled(), true, 'viewer: ack button locked');
    const status = await vpage.evaluate(async (tok) => (await fetch('/api/v1/alerts/flag:surge:east:1/ack', { method: 'POST', headers: { Authorization: `Bearer ${tok}` } })).status, VIEWER);
    assert.equal(status, 403);
    publishDelta(++seq, { techs_pos: { at: new Date().toISOString(), list: [['T999', 121.4433, 31.3377, 'enroute', 'north']] } });
    await vpage.waitForFunction((s) => window.opswall.state.lastSeq === s, seq);
    const held = await vpage.evaluate(() => window.opswall.state.snapshot.techs_pos.list);
    const north = REGIONS.find((r) => r.id === 'north').center;
    assert.deepEqual(held, [['T999', north[0], north[1], 'enroute', 'north']], 'viewer holds only region centres');
    console.log('browser: viewer: ack locked, API says 403, technician positions at region centres');
    await vpage.waitForTimeout(300);
    assert.ok(await vpage.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'phone: no horizontal scroll');
    console.log(`browser: 390x844: ${await labelsApart(vpage, 'phone')} map labels, none overlapping`);
    await vpage.screenshot({ path: path.join(SHOTS, 'viewer-390x844.png'), fullPage: true });

    // a sequence gap makes the page resync (injected: the feed itself never forwards a gap)
    const gpage = await context.newPage();
    watch(gpage, origin, port, outside, errors);
    const toFeed = [];
    let route = null;
    await gpage.routeWebSocket(/\/api\/v1\/live/, (ws) => {
      route = ws;
      const server = ws.connectToServer();
      ws.onMessage((m) => { toFeed.push(String(m)); server.send(m); });
    });
    await gpage.goto(origin + '/'); // the viewer token is remembered in this profile
    await waitConn(gpage, 'live');
    await gpage.waitForFunction((s) => window.opswall.state.lastSeq === s, seq);
    route.send(JSON.stringify({ v: 1, type: 'delta', seq: seq + 10, base: seq + 9, set: {} }));
    await waitText(gpage, 'resyncs', '1');
    await gpage.waitForFunction((s) => !window.opswall.state.awaitingSnapshot && window.opswall.state.lastSeq === s, seq);
    assert.deepEqual(toFeed, ['{"type":"resync"}']);
    await gpage.close();
    console.log('browser: seq gap -> {"type":"resync"} -> snapshot again');

    // replay: "REPLAY ×N", the replayed time and the progress
    now = Date.parse('2026-11-22T09:30:00Z');
    publishSnapshot(fullSnapshot(seq += 5, now, { replay: { speed: 300, start: '2026-11-22T00:00:00Z', end: '2026-11-23T00:00:00Z', progress_pct: 39.6 } }));
    await vpage.locator('[data-testid="replay-banner"]').waitFor({ state: 'visible' });
    assert.match(await text(vpage, 'replay-label'), /×300/);
    assert.equal(await text(vpage, 'replay-pct'), '39.6%');
    const r1 = await text(vpage, 'replay-time');
    await vpage.waitForFunction((a) => document.querySelector('[data-testid="replay-time"]').textContent !== a, r1, { timeout: 3000 });
    await vpage.screenshot({ path: path.join(SHOTS, 'viewer-390x844-replay.png') });
    console.log(`browser: replay banner ${await text(vpage, 'replay-label')}, time moves (${r1} -> ${await text(vpage, 'replay-time')})`);

    // the feed restarts on the same port: the page reconnects and shows what is new
    publishSnapshot(fullSnapshot(++seq, Date.now()));
    await vpage.locator('[data-testid="replay-banner"]').waitFor({ state: 'hidden' });
    await stopFeed(feed);
    feed = null;
    await waitConn(vpage, 'reconnecting');
    assert.equal(await vpage.locator('[data-testid="offline-banner"]').isVisible(), true);
    publishSnapshot(fullSnapshot(seq += 3, Date.now(), { open: [4, 18, 66] }));
    t = Date.now();
    feed = await startFeed(port);
    await waitText(vpage, 'open-total', '88', 20000);
    await waitText(vpage, 'open-emergency', '4');
    await waitConn(vpage, 'live');
    console.log(`browser: feed restarted; page reconnected and current ${Date.now() - t} ms after the new feed started`);

    assert.deepEqual(outside, [], 'requests outside the feed');
    assert.deepEqual(errors, [], 'page errors');
    console.log('browser: no outside request, no page error');
    await vpage.close();
  } finally {
    if (feed) await stopFeed(feed);
  }
}

// The real pipeline: simulator → ingest → engine (opswall-run, its own private Redis), this feed.
async function simulatorPart(context) {
  const RUN = process.env.RUN_BIN;
  if (!RUN) { console.log('browser: RUN_BIN not set: simulator part skipped'); return; }
  const dir = mkdtempSync(path.join(TMP, 'run-'));
  const cfgPath = path.join(dir, 'opswall.json');
  const base = JSON.parse(readFileSync(process.env.FEED_CONFIG, 'utf8'));
  writeFileSync(cfgPath, JSON.stringify({ ...base, redis: { data_dir: path.join(dir, 'data') } }));
  const env = { ...process.env };
  delete env.OPSWALL_REDIS_URL;
  const run = spawn(RUN, ['--config', cfgPath, '--no-wallboard', '--no-feed', '--scenario', 'rainstorm', '--speed', '600', '--orders-per-hour', '60'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  run.stderr.pipe(createWriteStream(path.join(TMP, 'browser-run.err')));
  let feed = null;
  try {
    const sock = path.join(dir, 'data', 'redis.sock');
    for (let i = 0; i < 200; i++) {
      try { if (execFileSync('redis-cli', ['-s', sock, 'exists', KEY], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === '1') break; } catch (e) { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    feed = await startFeed(0, { OPSWALL_REDIS_URL: `unix://${sock}` });
    const page = await context.newPage();
    await page.goto(feed.url + '/');
    await page.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
    await login(page, feed.url, SUP);
    const e1 = await text(page, 'events-applied');
    await page.waitForFunction((a) => document.querySelector('[data-testid="events-applied"]').textContent !== a, e1, { timeout: 20000 });
    const o1 = await text(page, 'open-total');
    await page.waitForFunction((a) => document.querySelector('[data-testid="open-total"]').textContent !== a, o1, { timeout: 30000 });
    console.log(`browser: simulator running: events applied ${e1} -> ${await text(page, 'events-applied')}, open ${o1} -> ${await text(page, 'open-total')}`);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(SHOTS, 'viewer-1366x768-simulator.png') });
    await page.close();
  } finally {
    if (feed) await stopFeed(feed);
    run.kill('SIGINT');
    await new Promise((r) => { if (run.exitCode !== null) r(); else run.once('exit', r); });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(path.join(tmpdir(), 'owchrome-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      viewport: { width: 1366, height: 768 }, locale: 'zh-CN',
    });
    await fixturePart(context);
    await simulatorPart(context);
  } finally {
    if (context) await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(`viewer.test: ${err.stack || err}`);
  process.exit(1);
});
