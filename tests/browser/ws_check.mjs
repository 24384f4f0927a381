// Websocket checks against a running opswall-feed (run by tests/integration/feed_api.sh).
// Env: FEED_URL (http://127.0.0.1:PORT), REDIS_SOCK (private redis-server), FIRST_SNAPSHOT (the
// snapshot the feed holds now). Publishes through redis-cli like the engine does.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import net from 'node:net';
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

const VIEWER = process.env.VIEWER_TOKEN, SUP = process.env.SUP_TOKEN;
const DELTAS = 'ops:{p0}:deltas';
const withToken = (t, url = WS_URL) => `${url}?token=${encodeURIComponent(t)}`;
const delta = (seq, set, del = []) => JSON.stringify({ v: 1, type: 'delta', seq, base: seq - 1, set, del });
function publishDelta(text) { redis('publish', DELTAS, text); }
// Several commands in one redis-cli run (RESP through --pipe), back to back as the engine's
// pipeline sends them: a snapshot and the delta of the same publish arrive together.
const resp = (...args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
function pipeline(...cmds) {
  execFileSync('redis-cli', ['-s', SOCK, '--pipe'], { input: cmds.map((c) => resp(...c)).join(''), maxBuffer: 1 << 26 });
}
// Apply a delta as a reader does (docs/protocol.md): whole top-level members replaced or removed.
function apply(snap, d) {
  const out = { ...snap, ...d.set, seq: d.seq, type: 'snapshot' };
  for (const k of d.del || []) delete out[k];
  return out;
}
const techs = (list) => ({ at: new Date().toISOString(), list });
const regions = [{ id: 'north', center: [121.47, 31.26] }, { id: 'south', center: [121.46, 31.2] }];

// A raw websocket client that stops reading after the handshake: the kernel buffers fill and the
// feed's per-client backlog overflows.
function stalled(token) {
  return new Promise((resolve, reject) => {
    const u = new URL(withToken(token));
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let head = Buffer.alloc(0);
    const onData = (d) => {
      head = Buffer.concat([head, d]);
      if (head.includes('\r\n\r\n')) { sock.off('data', onData); sock.pause(); resolve({ sock, head }); }
    };
    sock.on('data', onData);
    sock.on('error', reject);
  });
}
// Read websocket text frames (server frames are unmasked) from a resumed raw socket.
function frames(sock, initial, onFrame) {
  let buf = initial;
  const eat = () => {
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + len) return;
      const op = buf[0] & 0x0f;
      if (op === 1) onFrame(buf.subarray(off, off + len).toString('utf8'));
      buf = buf.subarray(off + len);
    }
  };
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); eat(); });
  sock.resume();
  eat();
}
async function metric(name) {
  // once more on a network error: the pooled keep-alive connection may have been closed by the
  // feed's idle timeout during a long step (valgrind) just as fetch reused it
  const get = async () => (await fetch(`${FEED_URL}/metrics`)).text();
  const text = await get().catch(get);
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function main() {
  // 0. refusals before the upgrade: no token 401, unknown token 401, foreign origin 403
  for (const [url, opts, code] of [[WS_URL, {}, 401], [withToken('nope'), {}, 401],
    [withToken(SUP), { headers: { Origin: 'http://evil.example' } }, 403],
    [withToken(SUP, FEED_URL.replace(/^http/, 'ws') + '/api/v1/other'), {}, 404]]) {
    const ws = new WebSocket(url, opts);
    const status = await new Promise((resolve) => {
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('error'));
    });
    assert.equal(status, code, `${url} ${JSON.stringify(opts)}`);
  }
  console.log('ws: refused without a token (401), unknown token (401), foreign origin (403), other path (404)');

  // 1. snapshot on connect, for a viewer and a supervisor
  const first = JSON.parse(process.env.FIRST_SNAPSHOT);
  const a = client(withToken(SUP)), v = client(withToken(VIEWER));
  await Promise.all([a.opened, v.opened]);
  assert.equal(await a.next(), process.env.FIRST_SNAPSHOT, 'supervisor: snapshot on connect');
  assert.equal(await v.next(), process.env.FIRST_SNAPSHOT, 'viewer: the same (no positions)');
  console.log('ws: both clients got the snapshot on connect');

  // 2. deltas are forwarded as published; the viewer's copy has positions coarsened
  let seq = first.seq;
  let held = first;
  const d1 = delta(++seq, { regions, techs_pos: techs([['t1', 121.4711, 31.2622, 'enroute', 'north'], ['t2', 121.1, 31.1, 'idle', 'mars']]) });
  publishDelta(d1);
  assert.equal(await a.next(), d1, 'supervisor: delta byte for byte');
  const vd = JSON.parse(await v.next());
  assert.deepEqual(vd.set.techs_pos.list, [['t1', 121.47, 31.26, 'enroute', 'north'], ['t2', null, null, 'idle', 'mars']]);
  held = apply(held, JSON.parse(d1));
  console.log('ws: delta forwarded; viewer positions moved to the region centre (unknown region: null)');

  // 3. the engine's pattern: snapshot on live + the delta of the same seq: clients get the delta
  const s2 = JSON.stringify({ ...held, seq: ++seq, open: { emergency: 9, important: 1, general: 1, total: 11 } });
  const d2 = delta(seq, { open: { emergency: 9, important: 1, general: 1, total: 11 } });
  pipeline(['SET', KEY, s2], ['PUBLISH', CHAN, s2], ['PUBLISH', DELTAS, d2]);
  assert.equal(await a.next(), d2, 'the delta, not the whole snapshot');
  assert.equal(JSON.parse(await v.next()).type, 'delta');
  held = JSON.parse(s2);
  // a continuing snapshot without its delta is sent whole shortly after
  const s3 = JSON.stringify({ ...held, seq: ++seq, orders_known: 999 });
  publish(s3);
  assert.equal(await a.next(), s3, 'lone snapshot sent after the settle delay');
  await v.next();
  held = JSON.parse(s3);
  console.log('ws: snapshot+delta of one publish -> the delta only; a lone snapshot is sent whole');

  // 4. malformed and gap messages never reach clients; a gap makes the feed GET the snapshot
  publish('not json at all', { set: false });
  publish(JSON.stringify({ v: 1, type: 'snapshot', seq: seq + 1 }), { set: false });
  publishDelta(JSON.stringify({ v: 1, type: 'delta', seq: seq + 1, set: {} })); // no base
  const s5 = JSON.stringify({ ...held, seq: seq + 5, orders_known: 555 });
  redis('set', KEY, s5);
  publishDelta(delta(seq + 3, { orders_known: 1 })); // base seq+2: a gap
  assert.equal(await a.next(), s5, 'after a gap the feed fetched the snapshot');
  const v5 = JSON.parse(await v.next());
  assert.equal(v5.seq, seq + 5);
  assert.deepEqual(v5.techs_pos.list[0], ['t1', 121.47, 31.26, 'enroute', 'north'], 'viewer snapshot coarsened');
  seq += 5;
  held = JSON.parse(s5);
  console.log('ws: malformed messages dropped; a gap -> the feed re-read the snapshot key');

  // 5. resync answers with the held snapshot: the base with the deltas since applied
  const d6 = delta(++seq, { orders_known: 606 }, ['techs_pos']);
  publishDelta(d6);
  assert.equal(await a.next(), d6);
  await v.next();
  held = apply(held, JSON.parse(d6));
  a.ws.send(JSON.stringify({ type: 'resync' }));
  assert.deepEqual(JSON.parse(await a.next()), held, 'resync: base + deltas');
  a.ws.send(JSON.stringify({ type: 'resync' })); // within the second: covered by the one sent
  await assert.rejects(a.next(500), /no message/, 'a second resync within a second is not answered again');
  console.log('ws: resync answered with the materialised snapshot; one per second');

  // 6. a burst: a busy client ends on the newest seq, in order, with no gap
  const N = 2000;
  const lines = [];
  for (let k = 1; k <= N; k++)
    lines.push(`PUBLISH ${JSON.stringify(DELTAS)} ${JSON.stringify(delta(seq + k, { events_applied: k }))}`);
  const t0 = Date.now();
  const stall = await stalled(VIEWER);
  execFileSync('redis-cli', ['-s', SOCK], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 });
  let got = 0, prev = seq, m;
  do {
    m = JSON.parse(await a.next(10000));
    if (m.type === 'delta') assert.equal(m.base, prev, `no gap: held ${prev}, got base ${m.base}`);
    else assert.ok(m.seq > prev);
    prev = m.seq;
    got++;
  } while (m.seq !== seq + N);
  console.log(`ws: burst of ${N} deltas: client received ${got}, in order, last after ${Date.now() - t0} ms`);
  seq += N;

  // 6b. a client that fell behind without overflowing: its queued deltas come in one write, every
  // one as its own frame, in order, no snapshot. An 11 MB delta fills the socket buffers (lws keeps
  // the rest); the 5 small ones after it queue in the ring (feed.queue 8) until the client reads.
  const batched0 = await metric('opswall_feed_batched_writes_total');
  const sent0 = await metric('opswall_feed_messages_sent_total');
  const behind = await stalled(VIEWER);
  // its snapshot is written first (nothing else is being published now); polled 4 times a second,
  // within feed.client_rate for the keep-alive connection fetch reuses
  while (await metric('opswall_feed_messages_sent_total') === sent0) await new Promise((r) => setTimeout(r, 250));
  let burst = resp('PUBLISH', DELTAS, delta(seq + 1, { pad: 'y'.repeat(11 << 20) }));
  for (let k = 2; k <= 6; k++) burst += resp('PUBLISH', DELTAS, delta(seq + k, { small: k }));
  execFileSync('redis-cli', ['-s', SOCK, '--pipe'], { input: burst, maxBuffer: 1 << 26 });
  for (let p = seq, m2; p !== seq + 6; p = m2.seq) m2 = JSON.parse(await a.next(30000));
  const order = [];
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`client behind did not catch up: ${order}`)), 30000);
    frames(behind.sock, behind.head.subarray(behind.head.indexOf('\r\n\r\n') + 4), (text) => {
      const j = JSON.parse(text);
      order.push(`${j.type}:${j.seq}`);
      if (j.seq === seq + 6) { clearTimeout(t); resolve(); }
    });
  });
  behind.sock.destroy();
  const want = [`snapshot:${seq}`];
  for (let k = 1; k <= 6; k++) want.push(`delta:${seq + k}`);
  assert.deepEqual(order, want, 'every queued delta, in order, no snapshot');
  const batched = await metric('opswall_feed_batched_writes_total');
  assert.ok(batched > batched0, `the queued deltas went in one write (${batched0} -> ${batched})`);
  console.log(`ws: a client behind by ${order.length - 2} deltas got them in one write (batched writes ${batched0} -> ${batched})`);
  seq += 6;

  // 7. a client that stops reading: its backlog overflows into one snapshot, others unaffected
  const drops0 = await metric('opswall_feed_queue_drops_total');
  const pad = 'x'.repeat(250000); // 40 × 250 KB: more than the socket buffers hold
  // RESP through redis-cli --pipe: the messages are too big for argv or inline commands
  let bulk = '';
  for (let k = 1; k <= 40; k++) bulk += resp('PUBLISH', DELTAS, delta(seq + k, { pad: `${k}${pad}` }));
  execFileSync('redis-cli', ['-s', SOCK, '--pipe'], { input: bulk, maxBuffer: 1 << 26 });
  // a reading client follows (it may itself collapse if the burst outruns it, but never gaps)
  for (let p = seq, m2; p !== seq + 40; p = m2.seq) {
    m2 = JSON.parse(await a.next(30000));
    if (m2.type === 'delta') assert.equal(m2.base, p);
  }
  seq += 40;
  const fin = delta(++seq, { pad: 'end' });
  publishDelta(fin);
  assert.equal(await a.next(), fin);
  const seen = [];
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`stalled client did not catch up: ${seen.slice(-3)}`)), 30000);
    frames(stall.sock, stall.head.subarray(stall.head.indexOf('\r\n\r\n') + 4), (text) => {
      const j = JSON.parse(text);
      seen.push(`${j.type}:${j.seq}`);
      if (j.seq === seq) { clearTimeout(t); resolve(); }
    });
  });
  stall.sock.destroy();
  const drops = await metric('opswall_feed_queue_drops_total');
  assert.ok(drops > drops0, `queue drops counted (${drops0} -> ${drops})`);
  assert.ok(seen.filter((x) => x.startsWith('snapshot')).length >= 2, `collapsed into a snapshot: ${seen.join(' ')}`);
  console.log(`ws: a client that stopped reading got ${seen.length} messages (${seen.filter((x) => x.startsWith('snapshot')).length} snapshots), queue drops ${drops0} -> ${drops}`);

  // 8. refusals with a clear close reason
  const g = client(withToken(VIEWER));
  await g.opened;
  await g.next();
  g.ws.send('hello');
  let c = await g.closed();
  assert.equal(c.code, 1003);
  assert.match(c.reason, /resync/);
  console.log(`ws: garbage -> close ${c.code} "${c.reason}"`);

  const bin = client(withToken(VIEWER));
  await bin.opened;
  await bin.next();
  bin.ws.send(Buffer.from([1, 2, 3]));
  c = await bin.closed();
  assert.equal(c.code, 1003);
  console.log(`ws: binary -> close ${c.code} "${c.reason}"`);

  const big = client(withToken(VIEWER));
  await big.opened;
  await big.next();
  big.ws.send(JSON.stringify({ type: 'resync', pad: 'x'.repeat(5000) }));
  c = await big.closed();
  assert.equal(c.code, 1009);
  console.log(`ws: oversized -> close ${c.code} "${c.reason}"`);

  const utf = client(withToken(VIEWER));
  await utf.opened;
  await utf.next();
  utf.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false }); // text frame, bad UTF-8
  c = await utf.closed();
  assert.equal(c.code, 1007);
  console.log(`ws: invalid UTF-8 -> close ${c.code}`);

  const fl = client(withToken(VIEWER));
  await fl.opened;
  await fl.next();
  // burst 4 × client_rate (10) = 40; the 41st trips the limit. No more than that, so nothing is
  // left unread when the feed closes (unread data would make the kernel reset the connection).
  for (let k = 0; k < 41; k++) fl.ws.send(JSON.stringify({ type: 'resync' }));
  c = await fl.closed();
  assert.equal(c.code, 1008);
  assert.match(c.reason, /rate/);
  console.log(`ws: flood of resyncs -> close ${c.code} "${c.reason}"`);

  // 9. the HTTP protocol cannot be upgraded; subprotocol opswall-live works
  await assert.rejects(client(withToken(VIEWER), ['opswall-http']).opened);
  const named = client(withToken(VIEWER), ['opswall-live']);
  await named.opened;
  assert.equal(JSON.parse(await named.next()).seq, seq);
  console.log('ws: subprotocol opswall-live works; opswall-http cannot upgrade');

  for (const x of [a, v, named]) x.ws.close(1000);
  await Promise.all([a.closed(), v.closed(), named.closed()]);
}

main().then(() => process.exit(0), (err) => {
  console.error(`ws_check: ${err.stack || err}`);
  process.exit(1);
});
