// A full snapshot of the sample city following docs/snapshot.md (every member the viewer draws),
// for the browser tests and the screenshots while the engine's analytics are being built.
// Deterministic: the same seq and now give the same snapshot.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CITY = JSON.parse(readFileSync(path.join(ROOT, 'assets/cities/sample/regions.geojson'), 'utf8'));

function rng(seed) { // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function bboxOf(coords) {
  let w = 180, s = 90, e = -180, n = -90;
  const walk = (c) => { if (typeof c[0] === 'number') { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); } else c.forEach(walk); };
  walk(coords);
  return [w, s, e, n];
}
export const REGIONS = CITY.features.map((f) => {
  const b = bboxOf(f.geometry.coordinates);
  return { id: f.properties.id, name_zh: f.properties.name_zh, name_en: f.properties.name_en, bbox: b,
    center: [+((b[0] + b[2]) / 2).toFixed(4), +((b[1] + b[3]) / 2).toFixed(4)] };
});
export const CITY_BBOX = bboxOf(CITY.features.map((f) => f.geometry.coordinates));
const iso = (ms) => new Date(ms).toISOString();
const STATES = ['idle', 'enroute', 'onsite', 'break', 'offline'];
const STAGES = ['dispatch', 'accept', 'response', 'arrival', 'resolution'];
const PRIOS = ['emergency', 'important', 'general'];

export function techsPos(now, seed = 7) {
  const r = rng(seed);
  const list = [];
  for (let i = 0; i < 40; i++) {
    const reg = REGIONS[i % REGIONS.length];
    const [w, s, e, n] = reg.bbox;
    list.push([`T${101 + i}`, +(w + (e - w) * (0.25 + 0.5 * r())).toFixed(5), +(s + (n - s) * (0.25 + 0.5 * r())).toFixed(5),
      STATES[Math.floor(r() * 4)], reg.id]);
  }
  return { at: iso(now), list };
}

export function heatGrid(seed = 3, boost = 0) {
  const [w, s, e, n] = CITY_BBOX;
  const cols = 40, rows = 30, r = rng(seed);
  const cells = [];
  for (const reg of REGIONS) { // hot spots around each centre
    const cx = Math.floor(((reg.center[0] - w) / (e - w)) * cols), cy = Math.floor(((reg.center[1] - s) / (n - s)) * rows);
    const hot = 1 + Math.floor(r() * 5) + boost;
    for (let dx = -3; dx <= 3; dx++) for (let dy = -2; dy <= 2; dy++) {
      const d = Math.abs(dx) + Math.abs(dy);
      const open = Math.max(0, hot - d + Math.floor(r() * 2));
      if (open > 0) cells.push([cx + dx, cy + dy, open, d < 2 && hot > 3 ? 1 : 0, Math.floor(r() * 3)]);
    }
  }
  return { cell_m: 500, bbox: CITY_BBOX, cols, rows, cells };
}

function kpiBlock(r, scale = 1) {
  return {
    created: Math.round(120 * scale), resolved: Math.round(98 * scale), response_mean_s: 840, response_p90_s: 1900 + Math.round(r() * 2400),
    dispatch_mean_s: 300, dispatch_p90_s: 610, first_visit_fix_pct: +(78 + r() * 8).toFixed(1), repeat_visit_pct: 4.1,
    complaint_rate_pct: 2.5, csat: +(84 + r() * 6).toFixed(1), nps: 31,
    sla_compliance_pct: { dispatch: 96.1, accept: 99, response: +(90 + r() * 8).toFixed(1), arrival: 91, resolution: 89.5, callback: 97, complaint: 92 },
    backlog: 57, utilisation_pct: 72.4, orders_per_tech: 3.1,
  };
}

export function fullSnapshot(seq, now, { open = [7, 23, 58], replay = null, seed = 1 } = {}) {
  const r = rng(seed);
  const [e, i, g] = open;
  const regions = REGIONS.map((reg, k) => ({
    id: reg.id, name_en: reg.name_en, name_zh: reg.name_zh, center: reg.center,
    open: 5 + ((k * 7 + seq) % 13), breached: k % 3, alerts_open: k % 4, backlog: 5 + k,
    techs: { idle: 1 + (k % 3), enroute: k % 2, onsite: 2, break: k % 2, offline: 1 },
  }));
  const urgent = [];
  for (let k = 0; k < 12; k++) {
    urgent.push({ order_id: `WO-${2600 + k}`, region: REGIONS[k % REGIONS.length].id, priority: PRIOS[k % 3],
      stage: STAGES[k % STAGES.length], breach_at: iso(now + (k - 2) * 97000 + 30000), level: k < 2 ? 2 : 1,
      next_at: iso(now + k * 60000), next_pct: 100 });
  }
  const escalations = [
    { id: 'sla:WO-2600:response:0:100', kind: 'sla', level: 3, at: iso(now - 540000), region: 'central', stage: 'response', order_id: 'WO-2600', owner: 'manager', acked: false },
    { id: 'flag:surge:east:1', kind: 'flag', level: 2, at: iso(now - 420000), region: 'east', flag: 'surge', owner: 'supervisor', acked: false },
    { id: 'sla:WO-2601:arrival:0:80', kind: 'sla', level: 2, at: iso(now - 300000), region: 'north', stage: 'arrival', order_id: 'WO-2601', owner: 'supervisor', acked: true, ack_by: 'li.wei' },
    { id: 'sla:WO-2604:dispatch:0:80', kind: 'sla', level: 1, at: iso(now - 120000), region: 'south', stage: 'dispatch', order_id: 'WO-2604', owner: 'dispatcher', acked: false },
  ];
  const flags = [
    { id: 'flag:surge:east:1', flag: 'surge', region: 'east', at: iso(now - 420000), level: 2,
      summary: 'east: 14 orders in 30 min, 3.5× the 6 h rate', evidence: { orders: ['WO-2611', 'WO-2612', 'WO-2613'], techs: [], regions: ['east'] } },
    { id: 'flag:tech_shortage:harbor:1', flag: 'tech_shortage', region: 'harbor', at: iso(now - 900000), level: 1,
      summary: 'harbor: 9 open orders, 1 idle technician', evidence: { orders: ['WO-2620'], techs: ['T106', 'T113'], regions: ['harbor'] } },
  ];
  const spark = { bucket_s: 300, end: iso(now), series: { created: Array.from({ length: 48 }, (_, k) => 3 + (k % 7)), resolved: Array.from({ length: 48 }, (_, k) => 2 + (k % 5)) } };
  const snap = {
    v: 1, type: 'snapshot', seq, now: iso(now), now_ms: now, mode: replay ? 'replay_speed' : 'live',
    open: { emergency: e, important: i, general: g, total: e + i + g },
    orders_known: 412 + seq, events_applied: 3286 + seq * 7, last_event: iso(now - 1500), complaints_open: 3,
    techs: { offline: 4, idle: 11, enroute: 9, onsite: 14, break: 2 },
    alerts: { raised: 57, open_by_level: [2, 5, 3, 1] },
    urgent, stream_last: `${now}-0`,
    city: { name: 'sample', bbox: CITY_BBOX }, regions, techs_pos: techsPos(now),
    kpi: { overall: { '1h': kpiBlock(r), today: kpiBlock(r, 8), '7d': kpiBlock(r, 50), prev_1h: kpiBlock(r) }, regions: {} },
    kpi_targets: { response_p90_s: { target: 3600, better: 'lower' }, csat: { target: 85, better: 'higher' },
      first_visit_fix_pct: { target: 80, better: 'higher' }, 'sla_compliance_pct.response': { target: 95, better: 'higher' } },
    heat_grid: heatGrid(), flags, escalations, spark,
  };
  if (replay) snap.replay = replay;
  return snap;
}
