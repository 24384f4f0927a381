// N websocket viewers against a running opswall-feed (run by tests/integration/feed_workers.sh and
// feed_threads.sh). Env: FEED_URL, VIEWER_TOKEN, REDIS_SOCK, N (default 40), PAD (bytes of padding
// in the delta, default 0), DELTAS (default 1). Each viewer must get the snapshot; once all have
// it, DELTAS deltas (seq 2 on base 1, 3 on 2, ...; alike but not the same, as an engine's are) are
// published at once and each viewer must get every one whole and in order (compressed viewers get
// most as continuations of the one before: a wrong window would garble them). Prints "connected"
// when all hold the snapshot and "all N" when all got the deltas, then the first connection's
// Sec-WebSocket-Extensions answer ("extensions: ..."), then stays connected until SIGTERM (the test reads
// /metrics meanwhile).
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';

const url = process.env.FEED_URL.replace(/^http/, 'ws') + '/api/v1/live?token=' + process.env.VIEWER_TOKEN;
const n = Number(process.env.N || 40);
let snaps = 0, finished = 0, extensions = '';
const all = [];
const pad = Number(process.env.PAD || 0);
const count = Number(process.env.DELTAS || 1);
const setOf = (seq) => ({ events_applied: 7 + seq, note: `delta ${seq}: ${'order o0'.repeat(seq % 5 + 1)}`, pad: 'x'.repeat(pad) });
const deltas = Array.from({ length: count }, (_, k) => JSON.stringify({ v: 1, type: 'delta', seq: k + 2, base: k + 1, set: setOf(k + 2), del: [] }));
const want = Array.from({ length: count }, (_, k) => JSON.stringify(setOf(k + 2)));
const done = new Promise((resolve) => {
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url);
    all.push(ws);
    if (i === 0) ws.on('upgrade', (res) => { extensions = res.headers['sec-websocket-extensions'] || ''; });
    let next = 2; // the seq this viewer expects next
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'snapshot' && ++snaps === n) {
        process.stdout.write('connected\n');
        // -x: the message from stdin (an argument is at most 128 KB)
        for (const delta of deltas) execFileSync('redis-cli', ['-s', process.env.REDIS_SOCK, '-x', 'publish', 'ops:{p0}:deltas'], { input: delta });
      }
      if (m.type !== 'delta') return;
      if (m.seq !== next || JSON.stringify(m.set) !== want[m.seq - 2]) {
        console.error(`viewer ${i}: delta seq ${m.seq} (expected ${next}) with set ${JSON.stringify(m.set).slice(0, 120)}`);
        process.exit(1);
      }
      if (++next === count + 2 && ++finished === n) resolve();
    });
    ws.on('error', (e) => { console.error(e.message); process.exit(1); });
  }
});
const timer = setTimeout(() => { console.error(`snapshots ${snaps}/${n}, done ${finished}/${n}`); process.exit(1); }, 15000);
await done;
clearTimeout(timer);
process.stdout.write(`all ${n}\n`);
process.stdout.write(`extensions: ${extensions}\n`);
process.on('SIGTERM', () => { all.forEach((ws) => ws.close()); process.exit(0); });
setInterval(() => {}, 1000);
