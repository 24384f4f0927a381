// N websocket viewers against a running opswall-feed (run by tests/integration/feed_workers.sh and
// feed_threads.sh). Env: FEED_URL, VIEWER_TOKEN, REDIS_SOCK, N (default 40), PAD (bytes of padding
// in the delta, default 0). Each viewer must get the snapshot; once all have it, a delta (seq 2 on
// base 1) is published and each must get it whole. Prints "connected"
// when all hold the snapshot and "all N" when all got the delta, then the first connection's
// Sec-WebSocket-Extensions answer ("extensions: ..."), then stays connected until SIGTERM (the test reads
// /metrics meanwhile).
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';

const url = process.env.FEED_URL.replace(/^http/, 'ws') + '/api/v1/live?token=' + process.env.VIEWER_TOKEN;
const n = Number(process.env.N || 40);
let snaps = 0, deltas = 0, extensions = '';
const all = [];
const pad = Number(process.env.PAD || 0);
const delta = JSON.stringify({ v: 1, type: 'delta', seq: 2, base: 1, set: { events_applied: 9, pad: 'x'.repeat(pad) }, del: [] });
const done = new Promise((resolve) => {
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url);
    all.push(ws);
    if (i === 0) ws.on('upgrade', (res) => { extensions = res.headers['sec-websocket-extensions'] || ''; });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'snapshot' && ++snaps === n) {
        process.stdout.write('connected\n');
        // -x: the message from stdin (an argument is at most 128 KB)
        execFileSync('redis-cli', ['-s', process.env.REDIS_SOCK, '-x', 'publish', 'ops:{p0}:deltas'], { input: delta });
      }
      if (m.type === 'delta' && m.seq === 2 && m.set.pad.length !== pad) {
        console.error(`delta with ${m.set.pad.length} bytes of padding, not ${pad}`);
        process.exit(1);
      }
      if (m.type === 'delta' && m.seq === 2 && ++deltas === n) resolve();
    });
    ws.on('error', (e) => { console.error(e.message); process.exit(1); });
  }
});
const timer = setTimeout(() => { console.error(`snapshots ${snaps}/${n}, deltas ${deltas}/${n}`); process.exit(1); }, 15000);
await done;
clearTimeout(timer);
process.stdout.write(`all ${n}\n`);
process.stdout.write(`extensions: ${extensions}\n`);
process.on('SIGTERM', () => { all.forEach((ws) => ws.close()); process.exit(0); });
setInterval(() => {}, 1000);
