// opswall viewer: logs in with a token, then follows ws://<this host>/api/v1/live and draws the
// live picture (docs/snapshot.md). Protocol (docs/protocol.md): the first message is the current
// snapshot; every later one is a delta (replace the members in `set`, remove those in `del`)
// whose `base` is the seq held, or a snapshot that replaces everything. A gap makes the page ask
// for a resync. When the feed goes away the page keeps the last picture (dimmed) and reconnects
// with backoff. Every member is optional: a missing one is drawn as an empty state.
'use strict';

(() => {
  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 10000;
  const STALE_AFTER_MS = 30000; // data older than this is marked stale (live mode)
  const RESYNC_MIN_GAP_MS = 1000;
  // The engine publishes at least every 5 s (its heartbeat); a live connection silent for this
  // long is dead (a laptop that slept, a NAT that forgot it): drop it and reconnect.
  const SILENT_MAX_MS = 30000;
  const PRIORITIES = ['emergency', 'important', 'general'];
  const TECH_STATES = ['idle', 'enroute', 'onsite', 'break', 'offline'];
  const TOKEN_KEY = 'opswall.token';

  const TEXT = {
    zh: {
      title: '运营实时看板', logout: '退出', login_title: '登录', login_hint: '输入管理员发给你的访问令牌。',
      remember: '在此设备上记住', login_button: '进入看板', bad_token: '令牌无效或已停用。',
      login_failed: '无法连接服务器，请稍后再试。', map: '区域热力图', sla: 'SLA 倒计时', sla_sub: '最紧急在前',
      sla_empty: '没有运行中的 SLA 计时', alerts: '告警', alerts_empty: '没有未关闭的告警', flags: '根因标记',
      flags_empty: '暂无根因标记', techs: '技术员状态', techs_empty: '暂无技术员数据', seq: '序号',
      data_time: '数据时间', events_applied: '已处理事件', resyncs: '重新同步',
      offline: '与实时数据断开：显示的是最后收到的数据，正在自动重连。',
      conn_connecting: '连接中', conn_live: '实时', conn_reconnecting: '重连中', conn_waiting: '等待数据',
      ago: (x) => `${x}前`, sec: (n) => `${n}秒`, min: (n) => `${n}分`, hour: (n) => `${n}小时`,
      in_s: (n) => `${n}秒后重试`, open_total: '在办工单', alerts_open: '未关闭告警',
      response_p90: '响应 P90 (1小时)', sla_response: '响应达标率', fix_rate: '一次修复率', csat: '满意度',
      techs_avail: '空闲技术员', backlog: '积压', target: '目标', of: (a, b) => `${a} / ${b}`,
      overdue: '已超时', ack: '确认', acked: (who) => `已确认 · ${who}`, ack_sent: '已提交确认',
      ack_only_sup: '仅主管可确认', ack_refused: '确认被拒绝：', ack_failed: '确认失败：',
      level: (n) => `L${n}`, evidence: '证据', orders: '工单', techs_w: '技术员', regions_w: '区域',
      map_empty: '暂无地图数据', heat_legend: '需求/供给（在办 ÷ 空闲技术员）', no_heat: '暂无热力数据',
      region: '区域', replay: (n) => `回放 ×${n}`, viewer_note: '查看者：技术员位置已模糊到区域中心',
      role_viewer: '查看者', role_supervisor: '主管', role_admin: '管理员',
      emergency: '紧急', important: '重要', general: '一般',
      idle: '空闲', enroute: '在途', onsite: '现场', break: '休息', offline: '离线',
      dispatch: '派单', accept: '接单', response: '响应', arrival: '到场', resolution: '解决', callback: '回访', complaint: '投诉',
    },
    en: {
      title: 'Operations live board', logout: 'Log out', login_title: 'Sign in',
      login_hint: 'Enter the access token your administrator gave you.', remember: 'Remember on this device',
      login_button: 'Open the board', bad_token: 'The token is not valid or was revoked.',
      login_failed: 'Cannot reach the server; try again shortly.', map: 'Region heatmap', sla: 'SLA countdown',
      sla_sub: 'most urgent first', sla_empty: 'No SLA clock running', alerts: 'Alerts',
      alerts_empty: 'No open alerts', flags: 'Root-cause flags', flags_empty: 'No root-cause flags',
      techs: 'Technicians', techs_empty: 'No technician data yet', seq: 'Seq', data_time: 'Data time',
      events_applied: 'Events applied', resyncs: 'Resyncs',
      offline: 'Disconnected from the live feed: showing the last data received, reconnecting.',
      conn_connecting: 'Connecting', conn_live: 'Live', conn_reconnecting: 'Reconnecting', conn_waiting: 'Waiting for data',
      ago: (x) => `${x} ago`, sec: (n) => `${n}s`, min: (n) => `${n}m`, hour: (n) => `${n}h`,
      in_s: (n) => `retry in ${n}s`, open_total: 'Open orders', alerts_open: 'Open alerts',
      response_p90: 'Response P90 (1h)', sla_response: 'Response SLA met', fix_rate: 'First-visit fix',
      csat: 'CSAT', techs_avail: 'Idle technicians', backlog: 'Backlog', target: 'target',
      of: (a, b) => `${a} of ${b}`, overdue: 'overdue', ack: 'Ack', acked: (who) => `acked · ${who}`,
      ack_sent: 'ack sent', ack_only_sup: 'supervisors only', ack_refused: 'Acknowledgement refused: ',
      ack_failed: 'Acknowledgement failed: ', level: (n) => `L${n}`, evidence: 'Evidence', orders: 'orders',
      techs_w: 'technicians', regions_w: 'regions', map_empty: 'No map data yet',
      heat_legend: 'demand / supply (open ÷ idle technicians)', no_heat: 'no heatmap data yet', region: 'Region',
      replay: (n) => `REPLAY ×${n}`, viewer_note: 'viewer: technician positions shown at region centres',
      role_viewer: 'viewer', role_supervisor: 'supervisor', role_admin: 'admin',
      emergency: 'Emergency', important: 'Important', general: 'General',
      idle: 'idle', enroute: 'en route', onsite: 'on site', break: 'break', offline: 'offline',
      dispatch: 'dispatch', accept: 'accept', response: 'response', arrival: 'arrival', resolution: 'resolution', callback: 'callback', complaint: 'complaint',
    },
  };

  const state = {
    lang: initialLang(),
    token: null, role: null, name: '',
    ws: null, conn: 'connecting', attempts: 0, retryAt: 0, retryTimer: 0,
    snapshot: null, receivedAt: 0, lastSeq: null, awaitingSnapshot: true, lastResyncAt: 0, resyncs: 0,
    city: null, cityBox: null, acks: {}, // alert id -> 'sent' | error text
  };

  const el = (id) => document.querySelector(`[data-testid="${id}"]`);
  const t = (key) => TEXT[state.lang][key] ?? key;
  const h = (tag, cls, text) => {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  };
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : null);
  const arr = (v) => (Array.isArray(v) ? v : []);

  function initialLang() {
    try {
      const saved = localStorage.getItem('opswall.lang');
      if (saved === 'zh' || saved === 'en') return saved;
    } catch (e) { /* storage may be disabled */ }
    return (navigator.language || 'zh').toLowerCase().startsWith('en') ? 'en' : 'zh';
  }

  // ---- formatting -----------------------------------------------------------------------------

  function fmtDur(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return t('sec')(s);
    const m = Math.floor(s / 60);
    if (m < 60) return `${t('min')(m)}${state.lang === 'en' ? ' ' : ''}${t('sec')(s % 60)}`;
    return `${t('hour')(Math.floor(m / 60))}${state.lang === 'en' ? ' ' : ''}${t('min')(m % 60)}`;
  }
  function fmtClock(ms) { // "-04:59" style for countdowns
    const neg = ms < 0;
    let s = Math.floor(Math.abs(ms) / 1000);
    const hh = Math.floor(s / 3600); s %= 3600;
    const mm = String(Math.floor(s / 60)).padStart(2, '0'), ss = String(s % 60).padStart(2, '0');
    return `${neg ? '−' : ''}${hh ? `${hh}:` : ''}${mm}:${ss}`;
  }
  function fmtTime(ms) {
    const d = new Date(ms);
    if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) return '–';
    const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
    if (new Date().toDateString() !== d.toDateString()) Object.assign(opts, { month: '2-digit', day: '2-digit' });
    return new Intl.DateTimeFormat(state.lang === 'zh' ? 'zh-CN' : 'en-GB', opts).format(d);
  }
  function fmtCount(n) { return num(n) === null ? '–' : n.toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-US'); }
  function regionName(id) {
    const r = state.cityRegions && state.cityRegions[id];
    const s = arr(state.snapshot && state.snapshot.regions).find((x) => x && x.id === id);
    const zh = (s && s.name_zh) || (r && r.name_zh), en = (s && s.name_en) || (r && r.name_en);
    return (state.lang === 'zh' ? zh || en : en || zh) || id || '–';
  }

  // ---- engine time: ticks locally between deltas ----------------------------------------------

  function engineNow() {
    const s = state.snapshot;
    if (!s || !num(s.now_ms)) return Date.now();
    const rp = obj(s.replay);
    const speed = s.mode === 'live' ? 1 : rp && num(rp.speed) ? rp.speed : 0; // batch replay: frozen
    return s.now_ms + (Date.now() - state.receivedAt) * speed;
  }
  function dataAgeMs() {
    const s = state.snapshot;
    if (!s) return null;
    return s.mode === 'live' && num(s.now_ms) ? Date.now() - s.now_ms : Date.now() - state.receivedAt;
  }

  // ---- rendering: tiles -------------------------------------------------------------------------

  function kpiBlock(win) {
    const k = obj(state.snapshot && state.snapshot.kpi);
    return obj(k && obj(k.overall) && k.overall[win]);
  }
  // "sla_compliance_pct.response" reads a member of a member
  function pick(block, key) {
    let v = block;
    for (const part of key.split('.')) v = obj(v) ? v[part] : undefined;
    return num(v);
  }
  function trend(key, better) {
    const a = pick(kpiBlock('1h'), key), b = pick(kpiBlock('prev_1h'), key);
    if (a === null || b === null || a === b) return '';
    const up = a > b, good = better === 'higher' ? up : !up;
    return `<span class="trend ${good ? 'good' : 'bad'}">${up ? '▲' : '▼'}</span>`;
  }
  function target(key) {
    const tg = obj(state.snapshot && state.snapshot.kpi_targets);
    return obj(tg && tg[key]);
  }
  function tile(id, label, value, sub, cls) {
    const n = h('article', `tile ${cls || ''}`);
    n.dataset.testid = `tile-${id}`;
    n.append(h('h3', 'tile-label', label));
    const v = h('div', 'tile-value mono');
    v.dataset.testid = id;
    v.textContent = value;
    v.dataset.len = String(Math.min(value.length, 8));
    n.append(v);
    const s = h('div', 'tile-sub');
    if (sub) s.append(...sub);
    n.append(s);
    return n;
  }
  function kpiTile(id, label, key, fmt) {
    const v = pick(kpiBlock('1h'), key);
    const tg = target(key);
    let cls = '';
    if (v !== null && tg && num(tg.target) !== null)
      cls = (tg.better === 'lower' ? v <= tg.target : v >= tg.target) ? 'ok' : 'bad';
    const sub = [];
    if (tg && num(tg.target) !== null) sub.push(h('span', 'muted', `${t('target')} ${fmt(tg.target)}`));
    const tr = h('span');
    tr.innerHTML = trend(key, tg && tg.better); // fixed markup, no data inside
    sub.push(tr);
    return tile(id, label, v === null ? '–' : fmt(v), sub, cls);
  }
  function renderTiles() {
    const s = state.snapshot || {};
    const box = el('tiles');
    const open = obj(s.open) || {};
    const prio = h('div', 'prio');
    for (const p of PRIORITIES) {
      const x = h('span', `p p-${p}`);
      x.dataset.testid = `open-${p}`;
      x.textContent = fmtCount(open[p]);
      x.title = t(p);
      prio.append(x);
    }
    const al = obj(s.alerts);
    const lv = arr(al && al.open_by_level);
    const alOpen = lv.length ? lv.reduce((a, b) => a + (num(b) || 0), 0) : null;
    const techs = obj(s.techs);
    const total = techs ? TECH_STATES.reduce((a, k) => a + (num(techs[k]) || 0), 0) : null;
    const pct = (v) => `${v.toFixed(1)}%`;
    const mins = (v) => fmtDur(v * 1000);
    box.replaceChildren(
      tile('open-total', t('open_total'), fmtCount(open.total), [prio], 'wide'),
      tile('alerts-open', t('alerts_open'), alOpen === null ? '–' : fmtCount(alOpen),
        lv.length ? [h('span', 'muted mono', lv.map((n, i) => `L${i}:${n}`).join(' '))] : [], lv[3] > 0 ? 'bad' : ''),
      kpiTile('kpi-response-p90', t('response_p90'), 'response_p90_s', mins),
      kpiTile('kpi-sla-response', t('sla_response'), 'sla_compliance_pct.response', pct),
      kpiTile('kpi-fix', t('fix_rate'), 'first_visit_fix_pct', pct),
      kpiTile('kpi-csat', t('csat'), 'csat', (v) => v.toFixed(1)),
      tile('techs-idle', t('techs_avail'), techs ? fmtCount(techs.idle || 0) : '–',
        techs ? [h('span', 'muted', t('of')(fmtCount(techs.idle || 0), fmtCount(total)))] : []),
    );
  }

  // ---- rendering: map ---------------------------------------------------------------------------

  function cityBox(city) {
    let w = 180, s = 90, e = -180, n = -90;
    const walk = (c) => {
      if (typeof c[0] === 'number') { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); return; }
      for (const x of c) walk(x);
    };
    for (const f of arr(city && city.features)) if (f && f.geometry) walk(f.geometry.coordinates);
    return w < e && s < n ? [w, s, e, n] : null;
  }
  // Equirectangular with the latitude's scale, fitted into the canvas with a margin.
  function projection(box, W, H) {
    const k = Math.cos(((box[1] + box[3]) / 2) * Math.PI / 180);
    const gw = (box[2] - box[0]) * k, gh = box[3] - box[1], m = 12;
    const sc = Math.min((W - 2 * m) / gw, (H - 2 * m) / gh);
    const ox = (W - gw * sc) / 2, oy = (H - gh * sc) / 2;
    return (lon, lat) => [ox + (lon - box[0]) * k * sc, oy + (box[3] - lat) * sc];
  }
  function heatColour(ratio, breached) {
    const x = Math.max(0, Math.min(1, ratio / 4)); // 4 open per idle technician = full red
    const r = 255, g = Math.round(200 - 170 * x), b = 40;
    return `rgba(${r},${g},${b},${(0.25 + 0.55 * x + (breached ? 0.1 : 0)).toFixed(2)})`;
  }
  // Label boxes for items {x, y, w, h, open} (CSS px; the box sits just above its point), none
  // covering another: a small region inside a big one has its centre next to the big one's. The
  // busiest regions are placed first and keep their spot; the others take the first free one of a
  // few steps around their point, inside the W x H map. Returns one box per item, in item order:
  // {x0, y0, x1, y1, moved}; a label with no free spot stays at its point (moved false).
  function placeLabels(items, W, H) {
    const STEPS = [[0, 0], [0, 1], [0, -1], [1, 0], [-1, 0], [0, 2], [0, -2], [1, 1], [-1, 1], [1, -1], [-1, -1], [0, 3], [0, -3]];
    const placed = [];
    const out = new Array(items.length);
    const free = (b) => b.x0 >= 0 && b.y0 >= 0 && b.x1 <= W && b.y1 <= H &&
      placed.every((p) => b.x1 <= p.x0 || b.x0 >= p.x1 || b.y1 <= p.y0 || b.y0 >= p.y1);
    const order = items.map((_, i) => i).sort((a, b) => items[b].open - items[a].open || a - b);
    for (const i of order) {
      const it = items[i];
      const at = (dx, dy) => {
        const cx = it.x + dx * (it.w + 4), bottom = it.y - 2 + dy * (it.h + 2);
        return { x0: cx - it.w / 2, y0: bottom - it.h, x1: cx + it.w / 2, y1: bottom, moved: dx !== 0 || dy !== 0 };
      };
      let box = null;
      for (const [dx, dy] of STEPS) { const b = at(dx, dy); if (free(b)) { box = b; break; } }
      out[i] = box || at(0, 0);
      placed.push(out[i]);
    }
    return out;
  }
  const TECH_COLOURS = { idle: '#3ddc84', enroute: '#4fa3ff', onsite: '#ffab3d', break: '#b58cff', offline: '#6b7685' };
  function renderMap() {
    const canvas = el('map');
    const wrap = canvas.parentElement;
    const W = wrap.clientWidth, H = wrap.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const s = state.snapshot || {};
    const box = state.cityBox || (obj(s.city) && arr(s.city.bbox).length === 4 ? s.city.bbox : null);
    el('map-empty').hidden = !!box;
    el('map-empty').textContent = t('map_empty');
    if (!box || W < 10 || H < 10) return;
    const P = projection(box, W, H);
    const path = (geom) => {
      const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
      ctx.beginPath();
      for (const poly of polys) for (const ring of poly) ring.forEach(([x, y], i) => { const [px, py] = P(x, y); if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py); });
    };
    const feats = arr(state.city && state.city.features);
    ctx.fillStyle = '#182433';
    for (const f of feats) { if (!f.geometry) continue; path(f.geometry); ctx.fill('evenodd'); }
    // the heatmap over the regions
    const hg = obj(s.heat_grid);
    if (hg && arr(hg.bbox).length === 4 && num(hg.cols) && num(hg.rows)) {
      const [w, so, e, n] = hg.bbox, cw = (e - w) / hg.cols, ch = (n - so) / hg.rows;
      for (const c of arr(hg.cells)) {
        if (!Array.isArray(c) || c.length < 5) continue;
        const [col, row, open, breached, avail] = c;
        if (!(open > 0)) continue;
        const [x0, y0] = P(w + col * cw, so + (row + 1) * ch), [x1, y1] = P(w + (col + 1) * cw, so + row * ch);
        ctx.fillStyle = heatColour(open / Math.max(avail, 1), breached > 0);
        ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      }
    }
    el('map-legend').textContent = hg ? t('heat_legend') : t('no_heat');
    // boundaries on top, so every region stays readable through the heat
    ctx.strokeStyle = '#7fa6d0';
    ctx.lineWidth = 1.2;
    for (const f of feats) { if (!f.geometry) continue; path(f.geometry); ctx.stroke(); }
    // technicians
    const tp = obj(s.techs_pos);
    for (const row of arr(tp && tp.list)) {
      if (!Array.isArray(row) || num(row[1]) === null || num(row[2]) === null) continue;
      const [x, y] = P(row[1], row[2]);
      ctx.fillStyle = TECH_COLOURS[row[3]] || '#ccc';
      ctx.beginPath();
      ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    // labels: region name and open orders at the region's centre, moved aside when that covers one
    // already drawn (placeLabels), with a line back to the centre
    ctx.font = '12px "Noto Sans CJK SC", system-ui, sans-serif';
    ctx.textAlign = 'center';
    const items = [];
    for (const r of arr(s.regions)) {
      if (!r || !Array.isArray(r.center)) continue;
      const [x, y] = P(r.center[0], r.center[1]);
      const text = `${regionName(r.id)} ${num(r.open) !== null ? r.open : ''}`;
      items.push({ x, y, text, open: num(r.open) || 0, w: ctx.measureText(text).width + 8, h: 16 });
    }
    const boxes = placeLabels(items, W, H);
    items.forEach((it, i) => {
      const b = boxes[i];
      if (b.moved) {
        ctx.strokeStyle = 'rgba(232,238,245,0.7)';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(it.x, it.y);
        ctx.lineTo(Math.max(b.x0, Math.min(b.x1, it.x)), Math.max(b.y0, Math.min(b.y1, it.y)));
        ctx.stroke();
        ctx.fillStyle = '#e8eef5';
        ctx.beginPath();
        ctx.arc(it.x, it.y, 2, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.fillStyle = 'rgba(11,17,24,0.75)';
      ctx.fillRect(b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0);
      ctx.fillStyle = '#e8eef5';
      ctx.fillText(it.text, (b.x0 + b.x1) / 2, b.y1 - 4);
    });
    // where the labels went, for the browser tests (no two may overlap)
    canvas.dataset.labels = JSON.stringify(boxes.map((b) => [b.x0, b.y0, b.x1, b.y1].map(Math.round)));
    const keys = el('map-keys');
    keys.replaceChildren(...TECH_STATES.map((k) => {
      const n = h('span', 'key');
      const dot = h('span', 'dot');
      dot.style.background = TECH_COLOURS[k];
      n.append(dot, document.createTextNode(t(k)));
      return n;
    }));
    if (state.role === 'viewer') keys.append(h('span', 'muted', t('viewer_note')));
  }

  // ---- rendering: lists ---------------------------------------------------------------------------

  function renderSla() {
    const list = el('sla-list');
    const now = engineNow();
    const rows = arr(state.snapshot && state.snapshot.urgent)
      .map((u) => ({ u, at: Date.parse(u && u.breach_at) }))
      .filter((x) => Number.isFinite(x.at))
      .sort((a, b) => a.at - b.at);
    el('sla-empty').hidden = rows.length > 0;
    list.replaceChildren(...rows.map(({ u, at }) => {
      const left = at - now;
      const li = h('li', `row prio-${u.priority || 'general'}${left < 0 ? ' overdue' : left < 5 * 60000 ? ' soon' : ''}`);
      li.dataset.testid = 'sla-row';
      const cd = h('span', 'countdown mono', left < 0 ? `${fmtClock(left)}` : fmtClock(left));
      cd.dataset.testid = 'countdown';
      li.append(cd, h('span', 'what', `${u.order_id || u.order || '?'} · ${t(u.stage) || u.stage}`),
        h('span', 'where muted', `${regionName(u.region)} · ${t(u.priority) || u.priority || ''}`));
      if (left < 0) li.append(h('span', 'tag bad', t('overdue')));
      return li;
    }));
  }

  async function ack(id, button) {
    button.disabled = true;
    const note = el('ack-note');
    try {
      const r = await fetch(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, {
        method: 'POST', headers: { Authorization: `Bearer ${state.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: '' }),
      });
      const body = await r.json().catch(() => ({}));
      if (r.ok) { state.acks[id] = 'sent'; note.textContent = ''; }
      else { note.textContent = `${r.status === 403 ? t('ack_refused') : t('ack_failed')}${body.error || r.status}`; button.disabled = false; }
    } catch (e) { note.textContent = `${t('ack_failed')}${e.message}`; button.disabled = false; }
    renderAlerts();
  }
  function renderAlerts() {
    const list = el('alert-list');
    const esc = arr(state.snapshot && state.snapshot.escalations).filter((a) => a && a.id);
    el('alerts-empty').hidden = esc.length > 0;
    el('alerts-count').textContent = esc.length ? String(esc.length) : '';
    const canAck = state.role === 'supervisor' || state.role === 'admin';
    list.replaceChildren(...esc.map((a) => {
      const li = h('li', `row level-${num(a.level) ?? 0}${a.acked ? ' acked' : ''}`);
      li.dataset.testid = 'alert-row';
      li.dataset.id = a.id;
      const lvl = h('span', 'level mono', t('level')(num(a.level) ?? 0));
      const what = a.kind === 'flag' ? `${a.flag || 'flag'}` : `${a.order_id || a.complaint_id || ''} · ${t(a.stage) || a.stage || ''}`;
      const since = Date.parse(a.at);
      li.append(lvl, h('span', 'what', what),
        h('span', 'where muted', `${regionName(a.region)}${Number.isFinite(since) ? ` · ${fmtDur(engineNow() - since)}` : ''}`));
      if (a.acked) li.append(h('span', 'tag ok', t('acked')(a.ack_by || '')));
      else if (state.acks[a.id] === 'sent') li.append(h('span', 'tag', t('ack_sent')));
      else {
        const b = h('button', 'ack', t('ack'));
        b.type = 'button';
        b.dataset.testid = 'ack-button';
        if (!canAck) { b.disabled = true; b.title = t('ack_only_sup'); b.classList.add('locked'); }
        else b.addEventListener('click', () => ack(a.id, b));
        li.append(b);
      }
      return li;
    }));
  }

  function renderFlags() {
    const list = el('flag-list');
    const flags = arr(state.snapshot && state.snapshot.flags).filter((f) => f && f.id);
    el('flags-empty').hidden = flags.length > 0;
    list.replaceChildren(...flags.map((f) => {
      const li = h('li', `row level-${num(f.level) ?? 0}`);
      li.dataset.testid = 'flag-row';
      li.append(h('span', 'level mono', t('level')(num(f.level) ?? 0)), h('span', 'what', `${f.flag || ''} · ${regionName(f.region)}`));
      li.append(h('span', 'summary', f.summary || ''));
      const ev = obj(f.evidence);
      if (ev) {
        const box = h('div', 'evidence');
        box.dataset.testid = 'evidence';
        for (const [k, label] of [['orders', t('orders')], ['techs', t('techs_w')], ['regions', t('regions_w')]]) {
          const ids = arr(ev[k]);
          if (!ids.length) continue;
          box.append(h('span', 'muted', `${label}:`), ...ids.slice(0, 20).map((id) => h('span', 'chip mono', k === 'regions' ? regionName(id) : id)));
        }
        li.append(box);
      }
      return li;
    }));
  }

  function renderTechs() {
    const s = state.snapshot || {};
    const tc = obj(s.techs);
    const bar = el('tech-bar');
    const total = tc ? TECH_STATES.reduce((a, k) => a + (num(tc[k]) || 0), 0) : 0;
    el('techs-empty').hidden = total > 0;
    bar.replaceChildren(...(total ? TECH_STATES : []).map((k) => {
      const seg = h('span', `seg t-${k}`, num(tc[k]) ? `${t(k)} ${tc[k]}` : '');
      seg.style.flexGrow = String(num(tc[k]) || 0);
      seg.style.background = TECH_COLOURS[k];
      seg.dataset.testid = `techs-${k}`;
      seg.title = `${t(k)} ${tc[k] || 0}`;
      return seg;
    }));
    const table = el('tech-table');
    const regions = arr(s.regions).filter((r) => r && obj(r.techs));
    table.tHead.replaceChildren();
    table.tBodies[0].replaceChildren();
    if (!regions.length) return;
    const hr = h('tr');
    hr.append(h('th', '', t('region')), ...TECH_STATES.map((k) => h('th', '', t(k))));
    table.tHead.append(hr);
    for (const r of regions) {
      const tr = h('tr');
      tr.append(h('td', '', regionName(r.id)), ...TECH_STATES.map((k) => h('td', 'mono', fmtCount(r.techs[k] || 0))));
      table.tBodies[0].append(tr);
    }
  }

  function renderReplay() {
    const s = state.snapshot;
    const rp = s && obj(s.replay);
    el('replay-banner').hidden = !rp;
    if (!rp) return;
    el('replay-label').textContent = t('replay')(num(rp.speed) ?? '?');
    el('replay-time').textContent = fmtTime(engineNow());
    const p = Math.max(0, Math.min(100, num(rp.progress_pct) ?? 0));
    el('replay-progress').style.width = `${p}%`;
    el('replay-pct').textContent = `${p.toFixed(1)}%`;
  }

  function render() {
    const s = state.snapshot;
    renderTiles();
    renderMap();
    renderAlerts();
    renderFlags();
    renderTechs();
    el('seq').textContent = s ? String(s.seq) : '–';
    el('snapshot-time').textContent = s ? fmtTime(s.now_ms) : '–';
    el('events-applied').textContent = s ? fmtCount(s.events_applied) : '–';
    el('resyncs').textContent = String(state.resyncs);
    renderTick();
  }

  // What changes with time alone: countdowns, data age, the connection badge, replay time.
  function renderTick() {
    if (state.ws && state.conn === 'live' && Date.now() - state.lastMessageAt > SILENT_MAX_MS) {
      console.warn('opswall: no message for 30 s; reconnecting');
      const ws = state.ws;
      state.ws = null;
      ws.close();
      scheduleReconnect();
      return;
    }
    renderSla();
    renderReplay();
    const age = dataAgeMs();
    const ageNode = el('age');
    ageNode.textContent = age === null ? '' : t('ago')(fmtDur(age));
    ageNode.classList.toggle('stale', age !== null && state.snapshot.mode === 'live' && age > STALE_AFTER_MS);
    let label;
    if (state.conn === 'live') label = state.snapshot ? t('conn_live') : t('conn_waiting');
    else if (state.conn === 'reconnecting') label = `${t('conn_reconnecting')} · ${t('in_s')(Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)))}`;
    else label = t('conn_connecting');
    el('conn').dataset.state = state.conn;
    el('conn-label').textContent = label;
    document.body.classList.toggle('disconnected', state.conn !== 'live' && !!state.token);
    el('offline-banner').hidden = state.conn !== 'reconnecting' || !state.snapshot;
  }

  function applyLang() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.documentElement.dataset.lang = state.lang;
    document.title = `opswall · ${t('title')}`;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const b of document.querySelectorAll('[data-set-lang]')) b.setAttribute('aria-pressed', String(b.dataset.setLang === state.lang));
    if (state.role) el('who').textContent = `${state.name} · ${t(`role_${state.role}`)}`;
    render();
  }
  function setLang(lang) {
    state.lang = lang;
    try { localStorage.setItem('opswall.lang', lang); } catch (e) { /* ignore */ }
    applyLang();
  }

  // ---- messages ---------------------------------------------------------------------------------

  function validSnapshot(m) { return obj(m) && Number.isFinite(m.now_ms) && Number.isInteger(m.seq); }

  function resync(why) {
    if (state.awaitingSnapshot) return;
    state.awaitingSnapshot = true;
    state.resyncs += 1;
    console.info(`opswall: resync (${why})`);
    const wait = Math.max(0, state.lastResyncAt + RESYNC_MIN_GAP_MS - Date.now());
    setTimeout(() => {
      state.lastResyncAt = Date.now();
      if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ type: 'resync' }));
    }, wait);
    render();
  }

  function onMessage(ev) {
    state.lastMessageAt = Date.now();
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { console.warn('opswall: message is not JSON'); return; }
    if (!obj(m) || typeof m.type !== 'string' || !Number.isInteger(m.seq)) return;
    if (m.type === 'snapshot') {
      if (!validSnapshot(m)) { console.warn('opswall: malformed snapshot'); return; }
      state.snapshot = m;
      state.receivedAt = Date.now();
      state.lastSeq = m.seq;
      state.awaitingSnapshot = false;
      render();
      return;
    }
    if (state.awaitingSnapshot || !state.snapshot) return; // the snapshot we asked for comes first
    if (m.seq <= state.lastSeq) return; // already part of what we hold
    if (m.type !== 'delta' || m.base !== state.lastSeq || !obj(m.set)) {
      resync(`holding seq ${state.lastSeq}, got ${m.type} seq ${m.seq} base ${m.base}`);
      return;
    }
    const next = { ...state.snapshot, ...m.set, seq: m.seq };
    for (const k of arr(m.del)) delete next[k];
    state.snapshot = next;
    if ('now_ms' in m.set) state.receivedAt = Date.now();
    state.lastSeq = m.seq;
    render();
  }

  // ---- connection ---------------------------------------------------------------------------------

  function liveUrl() {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/live?token=${encodeURIComponent(state.token)}`;
  }
  function connect() {
    state.retryTimer = 0;
    state.conn = state.attempts ? 'reconnecting' : 'connecting';
    let ws;
    try { ws = new WebSocket(liveUrl()); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    ws.onopen = () => {
      state.lastMessageAt = Date.now();
      state.attempts = 0;
      state.conn = 'live';
      state.awaitingSnapshot = true; // the first message is the snapshot
      renderTick();
    };
    ws.onmessage = onMessage;
    ws.onclose = (ev) => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (ev.reason) console.warn(`opswall: feed closed the connection: ${ev.code} ${ev.reason}`);
      scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
    renderTick();
  }
  function scheduleReconnect() {
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** state.attempts);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4)); // jitter: viewers return spread out
    state.attempts += 1;
    state.conn = 'reconnecting';
    state.retryAt = Date.now() + delay;
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => { if (state.token) connect(); }, delay);
    renderTick();
    if (state.attempts % 4 === 0) checkToken(); // a revoked token shows the login again
  }

  // ---- login ---------------------------------------------------------------------------------------

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function storeToken(tok, remember) {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
      localStorage.removeItem(TOKEN_KEY);
      if (tok) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, tok);
    } catch (e) { /* private mode: the token lives in memory only */ }
  }
  async function whoami(tok) {
    const r = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${tok}` } });
    if (r.status === 401) return null;
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  }
  async function checkToken() {
    try { if (state.token && !(await whoami(state.token))) logout(t('bad_token')); } catch (e) { /* feed away: keep trying */ }
  }
  function showLogin(message) {
    el('login').hidden = false;
    el('board').hidden = true;
    el('who').hidden = true;
    el('logout').hidden = true;
    el('login-error').textContent = message || '';
    el('token').focus();
  }
  async function loadCity() {
    try {
      const r = await fetch('/api/v1/city', { headers: { Authorization: `Bearer ${state.token}` } });
      if (!r.ok) return;
      state.city = await r.json();
      state.cityBox = cityBox(state.city);
      state.cityRegions = {};
      for (const f of arr(state.city.features)) {
        const p = obj(f && f.properties) || {};
        if (p.id) state.cityRegions[p.id] = p;
      }
      render();
    } catch (e) { /* the map stays empty; the feed will be retried on reload */ }
  }
  function start(me) {
    state.role = me.role;
    state.name = me.name;
    el('login').hidden = true;
    el('board').hidden = false;
    el('who').hidden = false;
    el('logout').hidden = false;
    document.body.dataset.role = me.role;
    applyLang();
    loadCity();
    connect();
  }
  function logout(message) {
    storeToken(null);
    state.token = null;
    state.snapshot = null;
    if (state.ws) { const ws = state.ws; state.ws = null; ws.close(1000); }
    clearTimeout(state.retryTimer);
    showLogin(message);
  }
  async function login(tok, remember) {
    try {
      const me = await whoami(tok);
      if (!me) { showLogin(t('bad_token')); return; }
      state.token = tok;
      storeToken(tok, remember);
      start(me);
    } catch (e) {
      showLogin(t('login_failed'));
    }
  }

  // ---- start ---------------------------------------------------------------------------------------

  for (const b of document.querySelectorAll('[data-set-lang]')) b.addEventListener('click', () => setLang(b.dataset.setLang));
  el('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const tok = el('token').value.trim();
    el('token').value = '';
    if (tok) login(tok, el('remember').checked);
  });
  el('logout').addEventListener('click', () => logout());
  window.addEventListener('resize', () => renderMap());
  applyLang();
  setInterval(renderTick, 1000);
  const saved = storedToken();
  if (saved) login(saved, !!localStorage.getItem(TOKEN_KEY)); else showLogin();
  window.opswall = { state }; // read-only view for debugging and tests
})();
