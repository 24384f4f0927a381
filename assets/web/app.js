// opswall viewer: connects to ws://<this host>/api/v1/live and shows the live open-order counts.
// Protocol: docs/protocol.md. The first message is the current snapshot; every later message is
// either a snapshot (replaces everything) or another typed message that continues the sequence
// (seq = previous seq + 1). A gap in that sequence makes the page ask for a resync ({"type":
// "resync"}) and wait for the snapshot. When the feed
// goes away the page keeps the last numbers (dimmed) and reconnects with backoff.
'use strict';

(() => {
  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 10000;
  const STALE_AFTER_MS = 30000; // data older than this is marked stale (live mode)
  const RESYNC_MIN_GAP_MS = 1000;
  const PRIORITIES = ['emergency', 'important', 'general', 'total'];

  // Bilingual labels: the chosen language is primary, the other one is shown small beside it.
  const LABELS = {
    emergency: { zh: '紧急', en: 'Emergency' },
    important: { zh: '重要', en: 'Important' },
    general: { zh: '一般', en: 'General' },
    total: { zh: '合计', en: 'Total' },
  };
  const TEXT = {
    zh: {
      title: '运营实时看板', open_orders: '在办工单', age: '数据时效', snapshot_time: '数据时间',
      mix: '优先级构成', seq: '序号', mode: '模式', orders_known: '已知工单', events_applied: '已处理事件',
      last_event: '最近事件', resyncs: '重新同步', replay: '回放', live_mode: '实时',
      conn_connecting: '连接中', conn_live: '已连接', conn_reconnecting: '重连中',
      conn_waiting: '等待数据', stale: '数据过期',
      offline: '与实时数据断开：显示的是最后收到的数据，正在自动重连。', ago: (t) => `${t}前`,
      sec: (n) => `${n} 秒`, min: (n) => `${n} 分`, hour: (n) => `${n} 小时`,
      in_s: (n) => `${n} 秒后重试`,
    },
    en: {
      title: 'Operations live board', open_orders: 'Open orders', age: 'Data age',
      snapshot_time: 'Data time', mix: 'Priority mix', seq: 'Seq', mode: 'Mode', orders_known: 'Orders known',
      events_applied: 'Events applied', last_event: 'Last event', resyncs: 'Resyncs',
      replay: 'Replay', live_mode: 'Live', conn_connecting: 'Connecting', conn_live: 'Live',
      conn_reconnecting: 'Reconnecting', conn_waiting: 'Waiting for data', stale: 'stale',
      offline: 'Disconnected from the live feed: showing the last data received, reconnecting.',
      ago: (t) => `${t} ago`, sec: (n) => `${n} s`, min: (n) => `${n} min`,
      hour: (n) => `${n} h`, in_s: (n) => `retry in ${n} s`,
    },
  };

  const state = {
    lang: initialLang(),
    ws: null,
    conn: 'connecting', // connecting | live | reconnecting
    attempts: 0, // failed connects since the last success
    retryAt: 0, // when the next connect is due (ms epoch), while reconnecting
    retryTimer: 0,
    snapshot: null,
    receivedAt: 0, // when the current snapshot arrived (ms epoch, this browser's clock)
    lastSeq: null,
    awaitingSnapshot: true, // after connecting or asking for a resync
    lastResyncAt: 0,
    resyncs: 0,
  };

  const el = (id) => document.querySelector(`[data-testid="${id}"]`);

  function initialLang() {
    try {
      const saved = localStorage.getItem('opswall.lang');
      if (saved === 'zh' || saved === 'en') return saved;
    } catch (e) { /* storage may be disabled */ }
    return (navigator.language || 'zh').toLowerCase().startsWith('en') ? 'en' : 'zh';
  }

  // ---- text -------------------------------------------------------------------------------

  function t(key) { return TEXT[state.lang][key]; }

  function formatAge(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return t('ago')(t('sec')(s));
    const m = Math.floor(s / 60);
    if (m < 60) return t('ago')(`${t('min')(m)} ${t('sec')(s % 60)}`);
    return t('ago')(`${t('hour')(Math.floor(m / 60))} ${t('min')(m % 60)}`);
  }

  function formatTime(ms) {
    const d = new Date(ms);
    if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) return '–';
    const locale = state.lang === 'zh' ? 'zh-CN' : 'en-GB';
    const today = new Date().toDateString() === d.toDateString();
    const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
    if (!today) Object.assign(opts, { year: 'numeric', month: '2-digit', day: '2-digit' });
    return new Intl.DateTimeFormat(locale, opts).format(d);
  }

  function formatCount(n) {
    return Number.isFinite(n) ? n.toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-US') : '–';
  }

  function applyLang() {
    const other = state.lang === 'zh' ? 'en' : 'zh';
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.documentElement.dataset.lang = state.lang;
    document.title = `opswall · ${t('title')}`;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll('[data-i18n-alt]')) node.textContent = TEXT[other][node.dataset.i18nAlt];
    for (const node of document.querySelectorAll('[data-label]')) node.textContent = LABELS[node.dataset.label][state.lang];
    for (const node of document.querySelectorAll('[data-label-alt]')) node.textContent = LABELS[node.dataset.labelAlt][other];
    for (const b of document.querySelectorAll('[data-set-lang]')) b.setAttribute('aria-pressed', String(b.dataset.setLang === state.lang));
    render();
  }

  function setLang(lang) {
    state.lang = lang;
    try { localStorage.setItem('opswall.lang', lang); } catch (e) { /* ignore */ }
    applyLang();
  }

  // ---- rendering ----------------------------------------------------------------------------

  function setValue(id, text) {
    const node = el(id);
    if (node.textContent === text) return;
    const changed = node.textContent !== '–';
    node.textContent = text;
    node.dataset.len = String(Math.min(text.length, 6)); // CSS shrinks long numbers to fit
    if (changed && node.classList.contains('tile-value')) {
      node.classList.remove('bump');
      void node.offsetWidth; // restart the animation
      node.classList.add('bump');
    }
  }

  function dataAgeMs() {
    const s = state.snapshot;
    if (!s) return null;
    // Live mode: age of the engine's picture (its "now"); replay mode: time since it arrived.
    return s.mode === 'live' ? Date.now() - s.now_ms : Date.now() - state.receivedAt;
  }

  function render() {
    const s = state.snapshot;
    for (const p of PRIORITIES) setValue(`open-${p}`, s ? formatCount(s.open[p]) : '–');
    renderMix(s);
    el('seq').textContent = s ? String(s.seq) : '–';
    el('snapshot-time').textContent = s ? formatTime(s.now_ms) : '–';
    el('mode').textContent = s ? (s.mode === 'replay' ? t('replay') : t('live_mode')) : '–';
    el('mode-badge').hidden = !(s && s.mode === 'replay');
    el('orders-known').textContent = s ? formatCount(s.orders_known) : '–';
    el('events-applied').textContent = s ? formatCount(s.events_applied) : '–';
    el('last-event').textContent = s && s.last_event ? s.last_event : '–';
    el('resyncs').textContent = String(state.resyncs);
    renderTick();
  }

  // The stacked bar: each priority's share of the open orders (percent shown on hover).
  function renderMix(s) {
    const total = s ? PRIORITIES.slice(0, 3).reduce((a, p) => a + s.open[p], 0) : 0;
    for (const p of PRIORITIES.slice(0, 3)) {
      const seg = el(`mix-${p}`);
      const share = total > 0 ? s.open[p] / total : 0;
      seg.style.width = `${(share * 100).toFixed(2)}%`;
      seg.title = `${LABELS[p][state.lang]} ${Math.round(share * 100)}%`;
    }
  }

  // The parts that change with time alone: data age and the connection badge.
  function renderTick() {
    const age = dataAgeMs();
    const ageNode = el('age');
    ageNode.textContent = age === null ? '–' : formatAge(age);
    const stale = age !== null && state.snapshot.mode === 'live' && age > STALE_AFTER_MS;
    ageNode.classList.toggle('stale', stale);

    const conn = el('conn');
    let label;
    if (state.conn === 'live') label = state.snapshot ? t('conn_live') : t('conn_waiting');
    else if (state.conn === 'reconnecting') {
      const secs = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
      label = `${t('conn_reconnecting')} · ${t('in_s')(secs)}`;
    } else label = t('conn_connecting');
    conn.dataset.state = state.conn;
    el('conn-label').textContent = label;
    document.body.classList.toggle('disconnected', state.conn !== 'live');
    el('offline-banner').hidden = state.conn !== 'reconnecting' || !state.snapshot;
  }

  // ---- messages -----------------------------------------------------------------------------

  function validSnapshot(m) {
    return m && typeof m.open === 'object' && m.open !== null &&
      PRIORITIES.every((p) => Number.isFinite(m.open[p])) && Number.isFinite(m.now_ms);
  }

  // Ask the feed for the snapshot again. Until it arrives, other messages are ignored; requests are
  // at least RESYNC_MIN_GAP_MS apart so a broken stream cannot make the page hammer the feed.
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
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { console.warn('opswall: message is not JSON'); return; }
    if (!m || typeof m.type !== 'string' || !Number.isInteger(m.seq)) return;
    if (m.type === 'snapshot') {
      if (!validSnapshot(m)) { console.warn('opswall: malformed snapshot'); return; }
      state.snapshot = m;
      state.receivedAt = Date.now();
      state.lastSeq = m.seq;
      state.awaitingSnapshot = false;
      render();
      return;
    }
    // Any other message continues the sequence after the last snapshot: a delta names the seq it
    // applies to in "base" (core/delta.h); without a base, seq must be the next one.
    if (state.awaitingSnapshot) return; // the snapshot we asked for comes first
    if (m.seq <= state.lastSeq) return; // already part of the snapshot we hold
    const continues = Number.isInteger(m.base) ? m.base === state.lastSeq : m.seq === state.lastSeq + 1;
    if (!continues) {
      resync(`holding seq ${state.lastSeq}, got ${m.type} seq ${m.seq}${Number.isInteger(m.base) ? ` base ${m.base}` : ''}`);
      return;
    }
    state.lastSeq = m.seq; // later milestones apply deltas here
  }

  // ---- connection ---------------------------------------------------------------------------

  function liveUrl() {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/live`;
  }

  function connect() {
    state.retryTimer = 0;
    state.conn = state.attempts ? 'reconnecting' : 'connecting';
    let ws;
    try { ws = new WebSocket(liveUrl()); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    ws.onopen = () => {
      state.attempts = 0;
      state.conn = 'live';
      state.lastSeq = null;
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
    const delay = Math.round(base * (0.8 + Math.random() * 0.4)); // jitter: feeds restart together
    state.attempts += 1;
    state.conn = 'reconnecting';
    state.retryAt = Date.now() + delay;
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connect, delay);
    renderTick();
  }

  // ---- start --------------------------------------------------------------------------------

  for (const b of document.querySelectorAll('[data-set-lang]')) b.addEventListener('click', () => setLang(b.dataset.setLang));
  el('endpoint').textContent = liveUrl();
  applyLang();
  setInterval(renderTick, 1000);
  connect();
  window.opswall = { state }; // read-only view for debugging and tests
})();
