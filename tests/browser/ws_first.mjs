// Print the first websocket message from URL (argv[2]) and exit; exit 1 after 10 s without one.
// Used by tests/integration/skeleton_e2e.sh.
import WebSocket from 'ws';
const ws = new WebSocket(process.argv[2]);
const timer = setTimeout(() => { console.error('no message within 10 s'); process.exit(1); }, 10000);
ws.on('message', (data) => { console.log(data.toString('utf8')); clearTimeout(timer); ws.close(); });
ws.on('error', (e) => { console.error(e.message); process.exit(1); });
