// Websocket checks against a running opswall-feed (run by tests/integration/feed_api.sh).
// Env: FEED_URL (http://127.0.0.1:PORT), REDIS_SOCK (private redis-server), FIRST_SNAPSHOT (the
// snapshot the feed holds now). Publishes through redis-cli like the engine does.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

const FEED_URL = process.env.FEED_URL;
const WS_URL = FEED_URL.replace(/^http/, 'ws') + '/api/v1/live';
const SOCK = process.env.REDIS_SOCK;
const CHAN = 'ops:{p0}:live';
const KEY = 'ops:{p0}:snapshot';

function redis(...args) {
  return execFileSync('redis-cli', ['-s', SOCK, ...args], { encoding: 'utf8' });
}
function publish(text, { set = true } = {}) {
  if (set) redis('set', KEY, text);
  redis('publish', CHAN, text);
}
function snapshot(seq, e, i, g) {
  const now = Date.now();
  return JSON.stringify({
    v: 1, type: 'snapshot', seq, now: new Date(now).toISOString(), now_ms: now, mode: 'live',
    open: { emergency: e, important: i, general: g, total: e + i + g },
    orders_known: e + i + g, events_applied: seq, last_event: new Date(now).toISOString(),
  });
}

// A client with a queue of received messages and its close event.
function client(url = WS_URL, protocols) {
  const ws = new WebSocket(url, protocols);
  const queue = [];
  const waiters = [];
  let closed = null;
  const closeWaiters = [];
  ws.on('message', (data, isBinary) => {
    const m = isBinary ? data : data.toString('utf8');
    const w = waiters.shift();
    if (w) w.resolve(m); else queue.push(m);
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString('utf8') };
    for (const w of closeWaiters.splice(0)) w(closed);
    for (const w of waiters.splice(0)) w.reject(new Error(`closed ${code} ${closed.reason}`));
  });
  ws.on('error', () => {});
  return {
    ws,
    opened: new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    }),
    next(ms = 5000) {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const w = { resolve, reject };
        waiters.push(w);
        setTimeout(() => {
          const k = waiters.indexOf(w);
          if (k >= 0) { waiters.splice(k, 1); reject(new Error(`no message within ${ms} ms`)); }
        }, ms);
      });
    },
    closed(ms = 5000) {
      if (closed) return Promise.resolve(closed);
      return new Promise((resolve, reject) => {
        closeWaiters.push(resolve);
        setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
      });
    },
  };
}

async function main() {
  // 1. snapshot on connect, for two clients
  const a = client(), b = client();
  await Promise.all([a.opened, b.opened]);
  assert.equal(await a.next(), process.env.FIRST_SNAPSHOT, 'client a: snapshot on connect');
  assert.equal(await b.next(), process.env.FIRST_SNAPSHOT, 'client b: snapshot on connect');
  console.log('ws: both clients got the snapshot on connect');

  // 2. a published snapshot reaches every client, byte for byte
  const s1 = snapshot(1001, 7, 8, 9);
  publish(s1);
  assert.equal(await a.next(), s1);
  assert.equal(await b.next(), s1);
  console.log('ws: published snapshot delivered to both');

  // 3. other typed messages are forwarded as they are; malformed ones are dropped
  const d = JSON.stringify({ v: 1, type: 'delta', seq: 1002, base: 1001, set: {} });
  publish(d, { set: false });
  assert.equal(await a.next(), d);
  publish(JSON.stringify({ v: 1, type: 'delta', seq: 1010, base: 1009, set: {} }), { set: false }); // a gap: dropped
  publish('not json at all', { set: false });
  publish(JSON.stringify({ v: 1, type: 'snapshot', seq: 1003 }), { set: false }); // fails the snapshot check
  const s2 = snapshot(1004, 1, 2, 3);
  publish(s2);
  assert.equal(await a.next(), s2, 'malformed messages must not reach clients');
  assert.equal(await b.next(), d);
  assert.equal(await b.next(), s2);
  const d2 = JSON.stringify({ v: 1, type: 'delta', seq: 1005, base: 1004, set: {} });
  publish(d2, { set: false });
  assert.equal(await a.next(), d2, 'a delta continuing the new snapshot is forwarded');
  assert.equal(await b.next(), d2);
  console.log('ws: delta forwarded; gaps and malformed messages dropped');

  // 4. resync answers with the current snapshot
  a.ws.send(JSON.stringify({ type: 'resync' }));
  assert.equal(await a.next(), s2);
  console.log('ws: resync answered with the snapshot');

  // 5. a burst: a slow or busy client still ends on the newest snapshot, in order
  const N = 2000;
  const lines = [];
  let last;
  for (let k = 1; k <= N; k++) {
    last = snapshot(2000 + k, k % 50, 1, 2);
    lines.push(`PUBLISH ${JSON.stringify(CHAN)} ${JSON.stringify(last)}`);
  }
  const t0 = Date.now();
  execFileSync('redis-cli', ['-s', SOCK], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 });
  let got = 0, prev = 0, m;
  do {
    m = JSON.parse(await a.next(10000));
    assert.ok(m.seq > prev, `seq must increase: ${prev} then ${m.seq}`);
    prev = m.seq;
    got++;
  } while (m.seq !== 2000 + N);
  const ms = Date.now() - t0;
  for (;;) { // b, which nobody reads from during the burst, also ends on the last one
    const mb = JSON.parse(await b.next(10000));
    if (mb.seq === 2000 + N) break;
  }
  console.log(`ws: burst of ${N} snapshots: client received ${got} (older ones superseded), last after ${ms} ms`);

  // 6. refusals with a clear close reason
  const g = client();
  await g.opened;
  await g.next();
  g.ws.send('hello');
  let c = await g.closed();
  assert.equal(c.code, 1003);
  assert.match(c.reason, /resync/);
  console.log(`ws: garbage -> close ${c.code} "${c.reason}"`);

  const bin = client();
  await bin.opened;
  await bin.next();
  bin.ws.send(Buffer.from([1, 2, 3]));
  c = await bin.closed();
  assert.equal(c.code, 1003);
  console.log(`ws: binary -> close ${c.code} "${c.reason}"`);

  const big = client();
  await big.opened;
  await big.next();
  big.ws.send(JSON.stringify({ type: 'resync', pad: 'x'.repeat(5000) }));
  c = await big.closed();
  assert.equal(c.code, 1009);
  console.log(`ws: oversized -> close ${c.code} "${c.reason}"`);

  const utf = client();
  await utf.opened;
  await utf.next();
  utf.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false }); // text frame, bad UTF-8
  c = await utf.closed();
  assert.equal(c.code, 1007);
  console.log(`ws: invalid UTF-8 -> close ${c.code}`);

  const other = JSON.stringify({ type: 'ack', id: 'x' });
  const o = client();
  await o.opened;
  await o.next();
  o.ws.send(other);
  c = await o.closed();
  assert.equal(c.code, 1003);

  // 7. other paths and the HTTP protocol cannot be upgraded
  await assert.rejects(client(FEED_URL.replace(/^http/, 'ws') + '/api/v1/other').opened);
  await assert.rejects(client(FEED_URL.replace(/^http/, 'ws') + '/').opened);
  await assert.rejects(client(WS_URL, ['opswall-http']).opened);
  const named = client(WS_URL, ['opswall-live']);
  await named.opened;
  assert.equal(await named.next(), last);
  console.log('ws: only /api/v1/live upgrades; subprotocol opswall-live works');

  for (const x of [a, b, named]) x.ws.close(1000);
  await Promise.all([a.closed(), b.closed(), named.closed()]);
}

main().then(() => process.exit(0), (err) => {
  console.error(`ws_check: ${err.stack || err}`);
  process.exit(1);
});
