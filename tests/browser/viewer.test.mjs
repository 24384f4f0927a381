// The viewer page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// loads the page from a real opswall-feed, sees the numbers, sees them change after a PUBLISH,
// resyncs on a sequence gap, survives a feed restart on the same port, fits a laptop and a phone,
// makes no request outside the feed, and saves screenshots.
// Env: FEED_BIN, FEED_CONFIG (optional), REDIS_SOCK (private redis-server), TMP_DIR (logs),
// SCREENSHOT_DIR.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const FEED_BIN = process.env.FEED_BIN;
const SOCK = process.env.REDIS_SOCK;
const TMP = process.env.TMP_DIR || tmpdir();
const SHOTS = process.env.SCREENSHOT_DIR || path.join(process.cwd(), 'feed-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHAN = 'ops:{p0}:live';
const KEY = 'ops:{p0}:snapshot';

function redis(...args) { return execFileSync('redis-cli', ['-s', SOCK, ...args], { encoding: 'utf8' }); }
function snapshot(seq, e, i, g, extra = {}) {
  const now = Date.now();
  return JSON.stringify({
    v: 1, type: 'snapshot', seq, now: new Date(now).toISOString(), now_ms: now, mode: 'live',
    open: { emergency: e, important: i, general: g, total: e + i + g },
    orders_known: 412 + seq, events_applied: 3286 + seq * 7, last_event: new Date(now - 1500).toISOString(),
    ...extra,
  });
}
function publish(text, { set = true } = {}) {
  if (set) redis('set', KEY, text);
  redis('publish', CHAN, text);
}

let feedRuns = 0;
// Start opswall-feed; resolves with { proc, url } once it printed its viewer URL.
function startFeed(port) {
  feedRuns++;
  const log = createWriteStream(path.join(TMP, `browser-feed${feedRuns}.err`));
  const args = ['--port', String(port)];
  if (process.env.FEED_CONFIG) args.unshift('--config', process.env.FEED_CONFIG);
  const proc = spawn(FEED_BIN, args, {
    env: { ...process.env, OPSWALL_REDIS_URL: `unix://${SOCK}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

const text = (page, id) => page.locator(`[data-testid="${id}"]`).textContent();
function waitText(page, id, want, timeout = 10000) {
  return page.waitForFunction(
    ([i, w]) => document.querySelector(`[data-testid="${i}"]`)?.textContent === w, [id, want], { timeout });
}
function waitConn(page, state, timeout = 10000) {
  return page.waitForFunction(
    (s) => document.querySelector('[data-testid="conn"]')?.dataset.state === s, state, { timeout });
}
async function expectCounts(page, [e, i, g]) {
  for (const [id, v] of [['open-emergency', e], ['open-important', i], ['open-general', g], ['open-total', e + i + g]])
    await waitText(page, id, String(v));
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(path.join(tmpdir(), 'owchrome-'));
  let feed = null;
  let context = null;
  try {
    publish(snapshot(41, 7, 23, 58));
    feed = await startFeed(0);
    const origin = feed.url;
    const port = Number(new URL(origin).port);

    const t0 = Date.now();
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run'],
      viewport: { width: 1366, height: 768 },
      locale: 'zh-CN',
    });
    const page = context.pages()[0] || await context.newPage();
    const outside = [], errors = [];
    page.on('request', (r) => { const u = r.url(); if (!u.startsWith(origin) && !u.startsWith('ws://127.0.0.1:' + port) && !u.startsWith('data:')) outside.push(u); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket/.test(m.text())) errors.push(m.text()); });

    await page.goto(origin + '/');
    await waitConn(page, 'live');
    await expectCounts(page, [7, 23, 58]);
    assert.equal(await text(page, 'seq'), '41');
    console.log(`browser: page live with the snapshot ${Date.now() - t0} ms after launch`);

    // a new PUBLISH changes the numbers
    let t = Date.now();
    publish(snapshot(42, 9, 21, 61));
    await expectCounts(page, [9, 21, 61]);
    await waitText(page, 'seq', '42');
    console.log(`browser: PUBLISH -> numbers on the page in ${Date.now() - t} ms`);

    // the data age ticks every second
    const age1 = await text(page, 'age');
    await page.waitForFunction((a) => document.querySelector('[data-testid="age"]').textContent !== a, age1, { timeout: 3000 });
    console.log(`browser: data age ticks ("${age1}" -> "${await text(page, 'age')}")`);

    // language switch: labels, both languages present
    await page.click('[data-testid="lang-en"]');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.equal(await page.locator('[data-testid="tile-emergency"] .primary').textContent(), 'Emergency');
    assert.equal(await page.locator('[data-testid="tile-emergency"] .secondary').textContent(), '紧急');
    await page.click('[data-testid="lang-zh"]');
    assert.equal(await page.locator('[data-testid="tile-emergency"] .primary').textContent(), '紧急');
    console.log('browser: zh/en switch');

    // a sequence gap makes the page resync. The feed never forwards a gap itself (it drops the
    // message and fetches the snapshot again), so a second page gets one injected into its
    // websocket by a route that otherwise passes everything through.
    const page2 = await context.newPage();
    page2.on('pageerror', (e) => errors.push(String(e)));
    const toFeed = [];
    let route = null;
    await page2.routeWebSocket(/\/api\/v1\/live$/, (ws) => {
      route = ws;
      const server = ws.connectToServer();
      ws.onMessage((m) => { toFeed.push(String(m)); server.send(m); });
    });
    await page2.goto(origin + '/');
    await waitText(page2, 'seq', '42');
    route.send(JSON.stringify({ v: 1, type: 'delta', seq: 43, base: 42, set: {} })); // continues
    await page2.waitForFunction(() => window.opswall.state.lastSeq === 43);
    route.send(JSON.stringify({ v: 1, type: 'delta', seq: 50, base: 49, set: {} })); // a gap
    await waitText(page2, 'resyncs', '1');
    await page2.waitForFunction(() => !window.opswall.state.awaitingSnapshot && window.opswall.state.lastSeq === 42);
    assert.deepEqual(toFeed, ['{"type":"resync"}']);
    await expectCounts(page2, [9, 21, 61]);
    await page2.close();
    assert.equal(await text(page, 'resyncs'), '0');
    console.log('browser: seq gap -> {"type":"resync"} -> snapshot again');

    // feed restart on the same port: the page reconnects and shows what is new
    await stopFeed(feed);
    feed = null;
    await waitConn(page, 'reconnecting');
    assert.equal(await page.locator('[data-testid="offline-banner"]').isVisible(), true);
    await page.waitForTimeout(400); // the dimming transition, for the picture
    await page.screenshot({ path: path.join(SHOTS, 'viewer-reconnecting.png') });
    publish(snapshot(43, 4, 18, 66)); // while the feed is down: only Redis has it
    t = Date.now();
    feed = await startFeed(port);
    await expectCounts(page, [4, 18, 66]);
    await waitConn(page, 'live');
    assert.equal(await page.locator('[data-testid="offline-banner"]').isVisible(), false);
    console.log(`browser: feed restarted; page reconnected and current ${Date.now() - t} ms after the new feed started`);

    // laptop screenshot (after the bump animation settles)
    publish(snapshot(44, 7, 23, 58));
    await expectCounts(page, [7, 23, 58]);
    await page.waitForTimeout(900); // let the value animation finish for a clean picture
    const laptop = path.join(SHOTS, 'viewer-1366x768.png');
    await page.screenshot({ path: laptop });
    const fits = await page.evaluate(() => [document.documentElement.scrollWidth <= innerWidth, document.documentElement.scrollHeight <= innerHeight]);
    assert.deepEqual(fits, [true, true], '1366x768: no scrolling needed');

    // phone width: no horizontal scrolling
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'phone: no horizontal scroll');
    const phone = path.join(SHOTS, 'viewer-390x844.png');
    await page.screenshot({ path: phone, fullPage: true });
    console.log(`browser: screenshots ${laptop} ${phone}`);

    assert.deepEqual(outside, [], 'requests outside the feed');
    assert.deepEqual(errors, [], 'page errors');
    console.log('browser: no outside request, no page error');
  } finally {
    if (context) await context.close();
    if (feed) await stopFeed(feed);
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(`viewer.test: ${err.stack || err}`);
  process.exit(1);
});
